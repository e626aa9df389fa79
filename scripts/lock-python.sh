#!/usr/bin/env bash
# Re-resolves requirements.in into the pinned requirements.txt in a throw-away venv (torch first, so that
# nothing can pull a CUDA build).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d /tmp/saturn-lock-XXXX)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade pip
"$tmp/venv/bin/pip" install -q torch==2.13.0
"$tmp/venv/bin/pip" install -q -r "$REPO/requirements.in"
{
  awk '/^#/ {print; next} {exit}' "$REPO/requirements.txt"  # the header comment
  "$tmp/venv/bin/pip" freeze --exclude-editable | sed 's/^torch==2\.13\.0+cpu$/torch==2.13.0/'
} >"$tmp/requirements.txt"
mv "$tmp/requirements.txt" "$REPO/requirements.txt"
echo "requirements.txt: $(grep -c '==' "$REPO/requirements.txt") pinned packages"
