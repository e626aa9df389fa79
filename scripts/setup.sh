#!/usr/bin/env bash
# Installs and builds everything Saturn needs on a Debian 12 machine; safe to run again (it only
# redoes what changed). Used by scripts/start.sh and scripts/test.sh.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

APT_PACKAGES=(
  python3 python3-venv python3-pip python3-wheel python3-hatchling
  python3-jupyter-server python3-jupyterlab-server python3-ipykernel python3-jupyter-client
  python3-pytest python3-cloudpickle python3-jsonschema python3-torch
  chromium fonts-dejavu-core
)

step "system packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]}. Run this as root, or first: sudo apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null || die "apt-get not found: Saturn's scripts need Debian 12 (or install the packages ${missing[*]} yourself)."
  note "installing ${missing[*]}"
  apt-get update -q >/dev/null || die "apt-get update failed; check the network or the apt sources."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
fi
command -v node >/dev/null || die "node is missing: install Node.js 20 (Debian: apt-get install nodejs npm) and run again."

step "npm packages (extension)"
npm_ci_if_changed "$REPO"

step "build (TypeScript, prebuilt labextension, CLI)"
if stale "$REPO/.stamps/build" src schema style package.json webpack.config.js tsconfig.json tsconfig.node.json; then
  npm run --silent build >/dev/null || die "the extension build failed: run 'npm run build' to see why."
  touch_stamp "$REPO/.stamps/build"
fi

step "Python environment (.venv with Debian's Jupyter stack + the bridge, editable)"
PY="$REPO/.venv/bin/python"
if [[ ! -x "$PY" ]]; then
  /usr/bin/python3 -m venv --system-site-packages --without-pip "$REPO/.venv"
fi
if stale "$REPO/.stamps/pip" pyproject.toml python_bridge/kernelspec python_bridge/saturn/labextension/package.json; then
  "$PY" -m pip install -q --no-build-isolation --no-deps --no-index -e . >/dev/null 2>"$REPO/.stamps/pip.log" \
    || die "installing the bridge into .venv failed: see .stamps/pip.log"
  "$PY" -m ipykernel install --prefix "$REPO/.venv" --name python3 --display-name "Python 3 (Saturn)" >/dev/null
  touch_stamp "$REPO/.stamps/pip"
fi

step "npm packages (JupyterLab host page + UI tests)"
npm_ci_if_changed "$REPO/ui-tests"
if stale "$REPO/.stamps/host" ui-tests/host ui-tests/rspack.config.js ui-tests/package.json; then
  (cd ui-tests && npx rspack >/dev/null 2>"$REPO/.stamps/host.log") || die "building the JupyterLab page failed: see .stamps/host.log"
  touch_stamp "$REPO/.stamps/host"
fi
step "ready"
