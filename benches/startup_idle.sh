#!/usr/bin/env bash
# Time to first frame and idle CPU of the console on the demo estate, in a real terminal (tmux).
#   benches/startup_idle.sh [seconds-idle]
# Builds the release binary, starts it 5 times in a private tmux server, reads the "first frame
# drawn" time the console logs, then leaves one running idle and reads its CPU time from /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
idle_secs="${1:-30}"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/qpconsole"
work="$(mktemp -d)"
socket="qpconsole-bench-$$"
unset TMUX TMUX_TMPDIR # the socket where tmux keeps it by default (a long TMUX_TMPDIR breaks it)
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_console() {
  tmux -L "$socket" -f /dev/null new-session -d -x 120 -y 40 \
    "QPCONSOLE_CONFIG_DIR='$work/cfg' QPCONSOLE_LOG_DIR='$work/log' '$bin' --demo"
  for _ in $(seq 100); do
    grep -q "first frame drawn" "$work/log/qpconsole.log" 2>/dev/null && return
    sleep 0.1
  done
  echo "no first frame logged" >&2; exit 1
}

echo "first frame (ms since process start):"
for i in 1 2 3 4 5; do
  rm -rf "$work/log"
  start_console
  grep -o 'ms=[0-9.]*' "$work/log/qpconsole.log" | head -1 | sed "s/^/  run $i: /"
  tmux -L "$socket" kill-server
  sleep 0.2
done

start_console
sleep 2
shell_pid=$(tmux -L "$socket" display-message -p '#{pane_pid}')
pid=$(pgrep -P "$shell_pid" || echo "$shell_pid")
[[ -r /proc/$pid/stat ]] || pid=$shell_pid
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks "$pid")
sleep "$idle_secs"
after=$(ticks "$pid")
awk -v a="$after" -v b="$before" -v hz="$hz" -v s="$idle_secs" \
  'BEGIN { printf "idle CPU over %d s: %.2f%% of one core\n", s, 100 * (a - b) / hz / s }'
