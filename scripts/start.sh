#!/usr/bin/env bash
# Starts JupyterLab 4.6 (`jupyter lab` from .venv) with Saturn and the demo notebook (local kernels;
# declared CPU "GPUs" when there is no GPU). Environment: SATURN_PORT (8888), SATURN_TOKEN (random),
# SATURN_ROOT (~/saturn-demo), SATURN_FAKE_GPUS (when no NVIDIA GPU is found: one per core, at most 4, so that
# jobs running at once do not share a core and the plans come true).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/lib.sh"
bash "$REPO/scripts/setup.sh"

PORT="${SATURN_PORT:-8888}"
ROOT="${SATURN_ROOT:-$HOME/saturn-demo}"
TOKEN="${SATURN_TOKEN-$("$REPO/.venv/bin/python" -c 'import secrets; print(secrets.token_hex(24))')}"
if [[ -z "${SATURN_FAKE_GPUS:-}" ]] && ! command -v nvidia-smi >/dev/null 2>&1; then
  cores="$(nproc 2>/dev/null || echo 1)"
  export SATURN_FAKE_GPUS=$((cores > 4 ? 4 : cores))
fi
export SATURN_ROOT="$ROOT"

port_free "$PORT" || die "port $PORT is already in use: stop what runs there, or pick another with SATURN_PORT=8890 bash scripts/start.sh"
mkdir -p "$ROOT" || die "cannot create the notebook folder $ROOT: set SATURN_ROOT to a writable folder."
for nb in "$REPO"/demo/*.ipynb; do
  [[ -e "$nb" && ! -e "$ROOT/$(basename "$nb")" ]] && cp "$nb" "$ROOT/"
done

URL="http://127.0.0.1:$PORT/lab${TOKEN:+?token=$TOKEN}"
step "starting JupyterLab with Saturn (notebooks in $ROOT${SATURN_FAKE_GPUS:+; $SATURN_FAKE_GPUS declared CPU GPUs}); Ctrl-C stops it"
step "open: $URL"
cd "$ROOT"
exec "$REPO/.venv/bin/jupyter" lab --config="$REPO/scripts/jupyter_lab_config.py" \
  --allow-root --no-browser \
  --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$TOKEN" --ServerApp.root_dir="$ROOT"
