#!/usr/bin/env bash
# Following a burst of log lines, against the lab: RATE lines a second for SECONDS written by
# lab/logs (to the instances' files, or to the Phoenix group in CloudWatch Logs) while
# `qpconsole logs --follow` reads them (through the lab bastion, or through the lab's fault
# proxy, which counts the calls in flight per group). It then counts every line of the burst
# the reader printed: none may be lost or printed twice. Also the reader's peak memory.
#
#   benches/logs_burst.sh instances 5000 60
#   benches/logs_burst.sh cloudwatch 400 60
#
# Uses the release binary (cargo build --release first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=${1:?"give instances or cloudwatch"}
rate=${2:-5000}
seconds=${3:-60}
case $target in instances | cloudwatch) ;; *)
  echo "benches/logs_burst.sh: the target is instances or cloudwatch, not '$target'" >&2
  exit 2
  ;;
esac
bin=${CARGO_TARGET_DIR:-target}/release/qpconsole
[[ -x $bin ]] || {
  echo "benches/logs_burst.sh: no release binary at $bin: run cargo build --release" >&2
  exit 2
}
env=$(lab/up)
eval "$env"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["phoenix"]["instances"][0]["id"])' \
  "$QPCONSOLE_LAB_STATE/seed.json")
proxy="http://127.0.0.1:$QPCONSOLE_LAB_FAULT_PORT"
if [[ $target == instances ]]; then
  source="instance:$id"
  extra=()
else
  source=phoenix
  curl -sf -X POST -d '{}' "$proxy/__fault/reset" >/dev/null
  extra=(env "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=$proxy")
fi
"${extra[@]}" "$bin" logs "$source" --follow --since 1s --format text >"$out/read.txt" 2>"$out/err.txt" &
reader=$!
sleep 4
lab/logs burst "$rate" "$seconds" --target "$target" >"$out/burst.json"
# The reader has at most a poll and a page to catch up.
sleep 8
peak=$(awk '/VmHWM/ { print $2 / 1024 " MiB" }' "/proc/$reader/status")
kill "$reader"
wait "$reader" 2>/dev/null || true
python3 - "$out/burst.json" "$out/read.txt" "$target" "$id" "$peak" <<'EOF'
import collections, json, re, sys
burst, read, target, instance, peak = sys.argv[1:6]
b = json.load(open(burst))
written = b["instances"][instance] if target == "instances" else sum(b["cloudwatch"].values())
seqs = collections.Counter()
pat = re.compile(r"burst=%s seq=(\d+)" % b["burst"])
for line in open(read):
    if target == "instances" and f"instance={instance}" not in line:
        continue
    m = pat.search(line)
    if m:
        seqs[int(m.group(1))] += 1
lost = written - len(seqs)
twice = sum(n - 1 for n in seqs.values() if n > 1)
print(f"{target}: {b['rate']} lines/s for {b['seconds']} s; written {written}, read {len(seqs)}, lost {lost}, twice {twice}; reader peak {peak}")
sys.exit(0 if lost == 0 and twice == 0 else 1)
EOF
if [[ $target == cloudwatch ]]; then
  curl -sf "$proxy/__fault/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("FilterLogEvents:", s["targets"].get("Logs_20140328.FilterLogEvents"), "; per group:", s["groups"])'
fi
