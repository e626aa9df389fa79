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
failed=0

run_jest() { npx jest --ci; }

# The SLURM integration test needs slurmctld/slurmd/munge (Debian packages, 3 MB); installed here when we are root.
# Without them (or without root) that test is skipped and pytest's summary (-rs) says why.
SLURM_PACKAGES=(slurmctld slurmd slurm-client munge)
ensure_slurm() {
  local missing=()
  for p in "${SLURM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
    note "SLURM packages missing (${missing[*]}): the SLURM integration test will be skipped"
    return 0
  fi
  note "installing ${missing[*]} for the SLURM integration test"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
         --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } \
    || note "could not install ${missing[*]}: the SLURM integration test will be skipped"
}

run_pytest() {
  ensure_slurm
  "$PY" -m pytest -q -rs -p no:cacheprovider python_bridge/tests
  local rc=$?
  [[ $rc -eq 5 ]] && { echo "pytest collected no tests" >&2; return 1; }
  return $rc
}

run_wheel() {
  local venv
  rm -rf dist && "$PY" -m pip wheel -q --no-build-isolation --no-deps --no-index -w dist . >/dev/null \
    && "$PY" scripts/check_wheel.py dist/*.whl || return 1
  # Installed as a user would: a clean environment sees the extension, the kernelspec and the package.
  venv="$(mktemp -d /tmp/saturn-wheel-XXXX)"
  /usr/bin/python3 -m venv --system-site-packages --without-pip "$venv" \
    && "$venv/bin/python" -m pip install -q --no-index --no-deps dist/*.whl \
    && (cd "$venv" && "$venv/bin/python" - <<'PY'
import json, pathlib, sys
import saturn
from jupyter_core.paths import jupyter_path
from jupyter_client.kernelspec import KernelSpecManager
prefix = pathlib.Path(sys.prefix)
assert pathlib.Path(saturn.__file__).is_relative_to(prefix), f"saturn imported from {saturn.__file__}, not the wheel"
ext = prefix / "share/jupyter/labextensions/jupyterlab-saturn/package.json"
assert json.loads(ext.read_text())["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
assert any(p.startswith(str(prefix)) for p in jupyter_path("labextensions")), "labextensions path does not include the venv"
spec = KernelSpecManager().get_kernel_spec("saturn-bridge")
assert "--ext=saturn" in spec.argv
print("wheel installed into a clean venv: saturn", saturn.__version__, "+ labextension + saturn-bridge kernelspec")
PY
)
  local rc=$?
  rm -rf "$venv"
  return $rc
}

run_ui() {
  local port token root pid rc
  port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  token="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
  root="$(mktemp -d /tmp/saturn-ui-XXXX)"
  cp demo/*.ipynb "$root/" 2>/dev/null || true
  # a real 2-node SLURM cluster for the SLURM UI spec (skipped, with the reason, where SLURM cannot run)
  local cluster="" why
  ensure_slurm
  if why="$(D=/nonexistent bash "$REPO/scripts/fakecluster.sh" check 2>&1)"; then
    cluster="$(mktemp -d /tmp/saturn-ui-slurm-XXXX)"
    if D="$cluster" bash "$REPO/scripts/fakecluster.sh" up >"$root/fakecluster.log" 2>&1; then
      export SLURM_CONF="$cluster/etc/slurm.conf" SATURN_UI_SLURM=1
    else
      export SATURN_UI_SLURM_WHY="the fake SLURM cluster did not start: $(tail -2 "$root/fakecluster.log" | tr '\n' ' ')"
    fi
  else
    export SATURN_UI_SLURM_WHY="$why"
  fi
  (cd "$root" && SATURN_FAKE_GPUS=4 SATURN_ROOT="$root" SATURN_LAB_STATE="$root/.lab-state" exec "$PY" "$REPO/ui-tests/host/saturn_lab.py" \
      --allow-root --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" --ServerApp.port_retries=0 \
      --ServerApp.token="$token" --ServerApp.root_dir="$root" >"$root/server.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 60); do
    curl -sf -H "Authorization: token $token" "http://127.0.0.1:$port/api/status" >/dev/null && break
    sleep 0.5
  done
  [[ -x "${SATURN_CHROMIUM:-/usr/bin/chromium}" ]] || { echo "Chromium is missing: apt-get install chromium (or set SATURN_CHROMIUM)" >&2; kill "$pid"; return 1; }
  (cd ui-tests && node scripts/warm-up.js "http://127.0.0.1:$port" "$token") || { kill "$pid"; return 1; }
  (cd ui-tests && SATURN_UI_URL="http://127.0.0.1:$port" SATURN_UI_TOKEN="$token" SATURN_UI_ROOT="$root" npx playwright test)
  rc=$?
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [[ -n $cluster ]]; then
    D="$cluster" bash "$REPO/scripts/fakecluster.sh" down >/dev/null 2>&1
    rm -rf "$cluster"
    unset SLURM_CONF SATURN_UI_SLURM
  fi
  mkdir -p artifacts && cp "$root/server.log" artifacts/ui-server.log
  find ui-tests/test-results -name '*.png' -exec cp {} artifacts/ \; 2>/dev/null
  [[ $rc -ne 0 ]] && note "server log: artifacts/ui-server.log; screenshots and traces: ui-tests/test-results/"
  rm -rf "$root"
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
echo "suites: $passed passed, $failed failed"
exit $((failed > 0))
