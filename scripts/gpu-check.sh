#!/usr/bin/env bash
# The GPU check (python -m saturn.gpu_check, see its docstring) from a checkout, on a machine with an NVIDIA GPU and
# no Jupyter: Python with torch (CUDA build) and cloudpickle; jsonschema and nvidia-ml-py are used when present.
# Here (no GPU) it prints SKIP lines; `bash scripts/gpu-check.sh --cpu 2` runs the same checks on CPU devices.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${SATURN_GPU_CHECK_PYTHON:-}"
if [[ -z $PY ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]]; then PY="$REPO/.venv/bin/python"; else PY="$(command -v python3)"; fi
fi
export PYTHONPATH="$REPO/python_bridge${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" -m saturn.gpu_check "$@"
