#!/usr/bin/env bash
# What a DB load look adds to the endpoint checks' round, against the lab's MariaDB servers
# through the bastion (the processlist, the statement digests, the lock waits and the history
# list length, asked in the check's own session on each member).
#   eval "$(lab/up)"; benches/dbload_round.sh [rounds]
# Runs `qpconsole check endpoints --format json` ROUNDS times (default 20) on the lab's config
# and prints, per member, the load's read time (median, p95, max) and the check's SELECT 1
# round trip beside it. QPCONSOLE_BIN=PATH uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-20}"
[[ -n ${QPCONSOLE_LAB_STATE:-} ]] || { echo 'the lab is not up: eval "$(lab/up)" first' >&2; exit 1; }
# QPCONSOLE_BIN: a binary built already (the read time is the servers' and the bastion's, not
# the console's code); otherwise the release build.
bin="${QPCONSOLE_BIN:-}"
if [[ -z $bin ]]; then
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/qpconsole"
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  QPCONSOLE_CONFIG="$QPCONSOLE_LAB_STATE/qpconsole.toml" QPCONSOLE_LOG_DIR="$(dirname "$out")" \
    "$bin" check endpoints --format json >>"$out" || true
  echo >>"$out"
done
"$QPCONSOLE_LAB_STATE/venv/bin/python" - "$out" <<'PY'
import json, statistics, sys
reads, rtts = {}, {}
for doc in open(sys.argv[1]).read().split("\n\n"):
    if not doc.strip():
        continue
    for e in json.loads(doc).get("endpoint_checks", []):
        load = e.get("load")
        if e.get("member") and load and load.get("read_ms") is not None:
            reads.setdefault(e["member"], []).append(load["read_ms"])
            rtts.setdefault(e["member"], []).append(e.get("rtt_ms") or 0.0)
if not reads:
    sys.exit("no member answered with its load")
for m, v in sorted(reads.items()):
    v.sort()
    p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
    print(f"{m}: load read {statistics.median(v):.1f} ms median, {p95:.1f} ms p95, "
          f"{v[-1]:.1f} ms max over {len(v)} rounds; SELECT 1 {statistics.median(rtts[m]):.1f} ms")
PY
