# Helpers shared by Saturn's scripts.
step() { printf '\033[1m[saturn]\033[0m %s\n' "$*" >&2; }
note() { printf '         %s\n' "$*" >&2; }
die() { printf '\033[31m[saturn] error:\033[0m %s\n' "$*" >&2; exit 1; }

mkdir -p "${REPO:?}/.stamps"

# stale STAMP PATH…: true when STAMP is missing or any PATH is newer than it.
stale() {
  local stamp="$1"; shift
  [[ -f "$stamp" ]] || return 0
  [[ -n "$(cd "$REPO" && find "$@" -newer "$stamp" -print -quit 2>/dev/null)" ]]
}
touch_stamp() { mkdir -p "$(dirname "$1")"; touch "$1"; }

# npm ci in DIR when its lockfile changed since the last install.
npm_ci_if_changed() {
  local dir="$1" sum stamp
  stamp="$REPO/.stamps/npm-$(echo "$dir" | md5sum | cut -c1-8)"
  sum="$(md5sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -d "$dir/node_modules" || ! -f "$stamp" || "$(cat "$stamp")" != "$sum" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$stamp.log") \
      || die "npm ci failed in ${dir#$REPO/}: see ${stamp#$REPO/}.log (is the npm registry reachable?)"
    echo "$sum" >"$stamp"
  fi
}

port_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}
