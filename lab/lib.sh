# shellcheck shell=bash disable=SC2034 # (variables used by the scripts that source this)
# Shared by lab/up and lab/down (sourced, not run). Everything here logs to stderr.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE="$LAB_DIR/state"
VENV="$STATE/venv"
MOTO_PORT=${QPCONSOLE_LAB_MOTO_PORT:-47101}
MINISTACK_PORT=${QPCONSOLE_LAB_MINISTACK_PORT:-47102}
# The lab's account: moto's default, and what ministack is told to use.
LAB_ACCOUNT=123456789012
EMULATORS=(moto ministack)

log() { printf 'lab: %s\n' "$*" >&2; }
die() {
  printf 'lab: error: %s\n' "$*" >&2
  exit 1
}

emu_port() {
  case $1 in
    moto) echo "$MOTO_PORT" ;;
    ministack) echo "$MINISTACK_PORT" ;;
  esac
}

emu_port_var() {
  case $1 in
    moto) echo QPCONSOLE_LAB_MOTO_PORT ;;
    ministack) echo QPCONSOLE_LAB_MINISTACK_PORT ;;
  esac
}

# What the emulator's command line contains: the venv's own entry point, so a pid reused by
# an unrelated process is never taken for ours.
emu_marker() { echo "$VENV/bin/$(emu_entry "$1")"; }
emu_entry() {
  case $1 in
    moto) echo moto_server ;;
    ministack) echo ministack ;;
  esac
}

# The URL that answers 200 when the emulator is up.
emu_health_url() {
  case $1 in
    moto) echo "http://127.0.0.1:$(emu_port "$1")/moto-api/" ;;
    ministack) echo "http://127.0.0.1:$(emu_port "$1")/_ministack/health" ;;
  esac
}

# Prints the pid of our running emulator NAME (from its pid file, checked against the
# process's command line); fails when there is none.
emu_pid() {
  local f="$STATE/$1.pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(emu_marker "$1") " || return 1
  echo "$pid"
}

# The port a running emulator was started on (recorded beside its pid file).
emu_running_port() {
  local f="$STATE/$1.port"
  [[ -f $f ]] && cat "$f"
}

http_ok() {
  local url=$1
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
  else
    "$VENV/bin/python" - "$url" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
EOF
  fi
}

# Whether anything listens on TCP PORT (any address).
port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Htln "sport = :$port" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# Who listens on PORT, for error messages.
port_owner() {
  command -v ss >/dev/null 2>&1 && ss -Htlnp "sport = :$1" 2>/dev/null | sed 's/^/    /' >&2
}
