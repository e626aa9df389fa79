#!/usr/bin/env bash
# Installs and builds everything Saturn needs on a fresh Debian 12 machine; safe to run again (it only
# redoes what changed). Used by scripts/start.sh and scripts/test.sh.
#   - Debian: Chromium (UI tests) and a font; Node.js 20 must be there.
#   - PyPI: .venv from the machine's Python 3.11 with exactly requirements.txt (JupyterLab 4.6.6 on
#     jupyter_server 2, torch 2.13.0 CPU build, ...), then Saturn as an editable install.
#   - npm: the extension's packages (package-lock.json) and the UI tests' (ui-tests/package-lock.json).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

APT_PACKAGES=(chromium fonts-dejavu-core curl)

step "system packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]}. Run this as root, or first: sudo apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null || die "apt-get not found: Saturn's scripts need Debian 12 (or install ${missing[*]} yourself)."
  note "installing ${missing[*]}"
  apt-get update -q >/dev/null || die "apt-get update failed; check the network or the apt sources."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
fi
command -v node >/dev/null || die "node is missing: install Node.js 20 (Debian: apt-get install nodejs npm) and run again."

step "Python environment (.venv from PyPI: requirements.txt)"
PY="$REPO/.venv/bin/python"
BASE_PY="${SATURN_PYTHON:-python3}"
if [[ ! -x "$PY" ]]; then
  command -v "$BASE_PY" >/dev/null || die "$BASE_PY not found: install Python 3.11 (with venv), or set SATURN_PYTHON."
  "$BASE_PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || note "warning: $BASE_PY is Python $("$BASE_PY" -c 'import platform; print(platform.python_version())'); requirements.txt was locked on 3.11"
  "$BASE_PY" -m venv "$REPO/.venv" || die "could not create .venv with $BASE_PY -m venv (Debian: apt-get install python3-venv)."
fi
export PATH="$REPO/.venv/bin:$PATH"
req_sum="$(md5sum requirements.txt | cut -d' ' -f1)"
if [[ ! -f .stamps/requirements || "$(cat .stamps/requirements)" != "$req_sum" ]]; then
  # torch first and exactly 2.13.0: the CPU build on this machine's disk (nothing may pull a CUDA build)
  { "$PY" -m pip install -q --disable-pip-version-check "torch==2.13.0" \
      && "$PY" -m pip install -q --disable-pip-version-check -r requirements.txt; } >.stamps/pip-requirements.log 2>&1 \
    || die "pip install -r requirements.txt failed (is PyPI reachable?): see .stamps/pip-requirements.log"
  echo "$req_sum" >.stamps/requirements
fi

step "npm packages (extension)"
npm_ci_if_changed "$REPO"

step "build (TypeScript, prebuilt labextension, CLI)"
if stale "$REPO/.stamps/build" src schema style package.json install.json webpack.config.js tsconfig.json tsconfig.node.json; then
  npm run --silent build >.stamps/build.log 2>&1 || die "the extension build failed: see .stamps/build.log (or run 'npm run build')."
  touch_stamp "$REPO/.stamps/build"
fi

step "Saturn into .venv (editable install, labextension linked, kernelspecs)"
if stale "$REPO/.stamps/develop" pyproject.toml package.json python_bridge/kernelspec .stamps/requirements; then
  { "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e . \
      && PYTHONPATH="$REPO" jupyter-builder develop . --overwrite \
      && "$PY" -m ipykernel install --prefix "$REPO/.venv" --name python3 --display-name "Python 3 (Saturn)"; } \
      >.stamps/develop.log 2>&1 || die "installing Saturn into .venv failed: see .stamps/develop.log"
  jupyter labextension list 2>&1 | grep -q "jupyterlab-saturn.*enabled.*OK" \
    || die "jupyter labextension list does not show jupyterlab-saturn enabled OK: see .stamps/develop.log"
  touch_stamp "$REPO/.stamps/develop"
fi

step "npm packages (UI tests: Galata)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_ci_if_changed "$REPO/ui-tests"
step "ready"
