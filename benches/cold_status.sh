#!/usr/bin/env bash
# A cold `qpconsole status` (what cron and monitoring run) against its slowest required call,
# on the lab's estate.
#   eval "$(lab/up)"; benches/cold_status.sh [runs]
# Runs `qpconsole status` RUNS times (default 20) and prints, from each run's log line
# "snapshot read from AWS", the median and p95 of: the AWS reads' time, when the last required
# call was done, the slowest required call, and the run's wall time; and the reads' time over
# the required calls' (the target is at most 1.2). QPCONSOLE_BIN=PATH uses that binary;
# otherwise the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
[[ -n ${QPCONSOLE_LAB_STATE:-} ]] || { echo 'the lab is not up: eval "$(lab/up)" first' >&2; exit 1; }
bin="${QPCONSOLE_BIN:-}"
if [[ -z $bin ]]; then
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/qpconsole"
fi
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
walls=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  QPCONSOLE_CONFIG="$QPCONSOLE_LAB_STATE/qpconsole.toml" QPCONSOLE_LOG_DIR="$logs" \
    "$bin" status >/dev/null || true
  walls+=($((($(date +%s%N) - start) / 1000000)))
done
"$QPCONSOLE_LAB_STATE/venv/bin/python" - "$logs/qpconsole.log" "${walls[@]}" <<'PY'
import re, statistics, sys
fields = {"took_ms": [], "required_done_ms": [], "slowest_required_ms": []}
for line in open(sys.argv[1]):
    if "snapshot read from AWS" not in line:
        continue
    for k in fields:
        m = re.search(rf"\b{k}=(\d+)", line)
        if m:
            fields[k].append(int(m.group(1)))
fields["wall_ms"] = [int(w) for w in sys.argv[2:]]
def p95(v):
    return sorted(v)[max(0, round(0.95 * len(v)) - 1)]
for k, v in fields.items():
    print(f"{k:20} median {statistics.median(v):6.0f}  p95 {p95(v):6.0f}  ({len(v)} runs)")
ratios = [t / max(r, 1) for t, r in zip(fields["took_ms"], fields["required_done_ms"])]
print(f"{'reads / required':20} median {statistics.median(ratios):6.2f}  max {max(ratios):6.2f}")
PY
