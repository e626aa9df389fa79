#!/usr/bin/env bash
# Runs every test suite: jest (TypeScript), pytest on real kernels (Python bridge), the wheel's
# contents, and UI tests in Debian Chromium against the real JupyterLab page. Exits non-zero if
# any suite fails. Suites can be picked: scripts/test.sh jest pytest wheel ui
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/lib.sh"
bash "$REPO/scripts/setup.sh" || exit 1
cd "$REPO"

SUITES=("$@")
((${#SUITES[@]})) || SUITES=(jest pytest wheel ui)
PY="$REPO/.venv/bin/python"
export PYDEVD_DISABLE_FILE_VALIDATION=1
declare -A RESULT
SKIPPED=()
failed=0
export PATH="$REPO/.venv/bin:$PATH"

run_jest() { npx jest --ci; }

# The SLURM integration tests need slurmctld/slurmd/munge (Debian packages, 3 MB); installed here when we are root.
# Without them (or without root) those tests are skipped outside CI (pytest's summary, -rs, and ours say why); in
# CI (CI=true) they fail.
SLURM_PACKAGES=(slurmctld slurmd slurm-client munge)
ensure_slurm() {
  local missing=()
  for p in "${SLURM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
    note "SLURM packages missing (${missing[*]}) and this is not root with apt-get"
    return 1
  fi
  note "installing ${missing[*]} for the SLURM integration test"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
         --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } \
    || { note "could not install ${missing[*]}"; return 1; }
}

run_pytest() {
  local rc log
  ensure_slurm || slurm_unavailable "the SLURM packages could not be installed" || return 1
  log="$(mktemp /tmp/saturn-pytest-XXXX.log)"
  "$PY" -m pytest -q -rs -p no:cacheprovider python_bridge/tests 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [[ $rc -eq 5 ]] && { echo "pytest collected no tests" >&2; rm -f "$log"; return 1; }
  grep -q "^SKIPPED" "$log" && SKIPPED+=("pytest: $(grep -c '^SKIPPED' "$log") skipped (reasons above, after 'short test summary info')")
  rm -f "$log"
  return $rc
}

# pip, with the notes about this machine's extra (absent) package folders left out
pip_quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

run_wheel() {
  local venv rc
  rm -rf dist && "$PY" -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps -w dist . >/dev/null \
    && "$PY" scripts/check_wheel.py dist/*.whl || return 1
  # Installed as a user would: a clean venv that has only jupyterlab==4.6.6 (from PyPI), then the wheel.
  venv="$(mktemp -d /tmp/saturn-wheel-XXXX)"
  python3 -m venv "$venv" \
    && pip_quiet "$venv/bin/python" -m pip install -q --disable-pip-version-check "jupyterlab==4.6.6" \
    && pip_quiet "$venv/bin/python" -m pip install -q --disable-pip-version-check dist/*.whl \
    && (cd "$venv" && "$venv/bin/python" - <<'PY'
import json, pathlib, sys
import saturn
from jupyter_core.paths import jupyter_path
from jupyter_client.kernelspec import KernelSpecManager
prefix = pathlib.Path(sys.prefix)
assert pathlib.Path(saturn.__file__).is_relative_to(prefix), f"saturn imported from {saturn.__file__}, not the wheel"
ext = prefix / "share/jupyter/labextensions/jupyterlab-saturn/package.json"
assert json.loads(ext.read_text())["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
assert (ext.parent / "install.json").is_file(), "install.json is missing beside the labextension"
assert any(p.startswith(str(prefix)) for p in jupyter_path("labextensions")), "labextensions path does not include the venv"
spec = KernelSpecManager().get_kernel_spec("saturn-bridge")
assert "--ext=saturn" in spec.argv
print("wheel installed into a clean venv with jupyterlab 4.6.6: saturn", saturn.__version__, "+ labextension + saturn-bridge kernelspec")
PY
) && (cd "$venv" && PATH="$venv/bin:$PATH" "$venv/bin/jupyter" labextension list 2>&1 | tee "$venv/labext.txt" | grep -E "jupyterlab-saturn" \
        && grep -qE "jupyterlab-saturn v[0-9.]+ .*enabled.*OK.*\(python, jupyterlab-saturn\)" "$venv/labext.txt") \
    && (cd "$venv" && PATH="$venv/bin:$PATH" "$venv/bin/python" "$REPO/scripts/browser_check.py" --allow-root >"$venv/browser-check.log" 2>&1 \
        || { tail -30 "$venv/browser-check.log" >&2; false; }) \
    && echo "python -m jupyterlab.browser_check (Debian Chromium): $(grep -c 'Browser test complete' "$venv/browser-check.log") passed"
  rc=$?
  rm -rf "$venv"
  return $rc
}

# Every layer runs in CI (CI=true): a SLURM that cannot be installed or a cluster that does not come up fails the
# suite that needs it. Elsewhere such a test is skipped, and the summary says so.
slurm_unavailable() {  # slurm_unavailable WHY: fail under CI, else note the skip
  if [[ "${CI:-}" == "true" ]]; then
    echo "SLURM is required in CI and is not available: $1" >&2
    return 1
  fi
  SKIPPED+=("SLURM tests ($1)")
  return 0
}

CLUSTER=""
stop_cluster() {
  if [[ -n $CLUSTER ]]; then
    D="$CLUSTER" bash "$REPO/scripts/fakecluster.sh" down >/dev/null 2>&1
    rm -rf "$CLUSTER"
    CLUSTER=""
  fi
  unset SLURM_CONF SATURN_UI_SLURM
}
trap stop_cluster EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_ui() {
  local port root fport froot rc why
  [[ -x "${SATURN_CHROMIUM:-/usr/bin/chromium}" ]] || { echo "Chromium is missing: apt-get install chromium (or set SATURN_CHROMIUM)" >&2; return 1; }
  port="$(free_port)"
  root="$(mktemp -d /tmp/saturn-ui-XXXX)"
  cp demo/*.ipynb "$root/" 2>/dev/null || true
  # the fidelity spec's own server: 2 declared GPUs, its own root and store (ui-tests/playwright.config.js)
  fport="$(free_port)"
  froot="$(mktemp -d /tmp/saturn-ui-fidelity-XXXX)"
  # a real 2-node SLURM cluster for the SLURM UI spec
  if ! ensure_slurm; then
    slurm_unavailable "the SLURM packages could not be installed" || return 1
  elif why="$(D=/nonexistent bash "$REPO/scripts/fakecluster.sh" check 2>&1)"; then
    CLUSTER="$(mktemp -d /tmp/saturn-ui-slurm-XXXX)"
    if D="$CLUSTER" bash "$REPO/scripts/fakecluster.sh" up >"$root/fakecluster.log" 2>&1; then
      export SLURM_CONF="$CLUSTER/etc/slurm.conf" SATURN_UI_SLURM=1
    else
      why="the fake SLURM cluster did not start: $(tail -2 "$root/fakecluster.log" | tr '\n' ' ')"
      export SATURN_UI_SLURM_WHY="$why"
      stop_cluster
      slurm_unavailable "$why" || return 1
    fi
  else
    export SATURN_UI_SLURM_WHY="$why"
    slurm_unavailable "$why" || return 1
  fi
  # Playwright starts `jupyter lab` (ui-tests/playwright.config.js webServer) with this environment.
  (cd ui-tests && SATURN_UI_PORT="$port" JUPYTERLAB_GALATA_ROOT_DIR="$root" SATURN_ROOT="$root" SATURN_FAKE_GPUS=4 \
     SATURN_UI_SERVER_LOG="$root/server.log" SATURN_UI_FIDELITY_PORT="$fport" SATURN_UI_FIDELITY_ROOT="$froot" \
     npx playwright test)
  rc=$?
  stop_cluster
  mkdir -p artifacts && cp "$root/server.log" artifacts/ui-server.log 2>/dev/null
  cp "$froot/server.log" artifacts/ui-fidelity-server.log 2>/dev/null
  find ui-tests/test-results -name '*.png' -exec cp {} artifacts/ \; 2>/dev/null
  [[ $rc -ne 0 ]] && note "server log: artifacts/ui-server.log; screenshots and traces: ui-tests/test-results/"
  rm -rf "$root" "$froot"
  return $rc
}

for suite in "${SUITES[@]}"; do
  step "test suite: $suite"
  start=$SECONDS
  if "run_$suite"; then RESULT[$suite]="passed"; else RESULT[$suite]="FAILED"; failed=$((failed + 1)); fi
  RESULT[$suite]+=" ($((SECONDS - start)) s)"
done

step "summary"
passed=0
for suite in "${SUITES[@]}"; do
  note "$suite: ${RESULT[$suite]}"
  [[ ${RESULT[$suite]} == passed* ]] && passed=$((passed + 1))
done
for s in "${SKIPPED[@]}"; do note "NOT RUN: $s"; done
echo "suites: $passed passed, $failed failed"
exit $((failed > 0))
