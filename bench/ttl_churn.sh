#!/usr/bin/env bash
# Issue 6's long stream: EVENTS events (default 5,000,000) at 1000 per simulated second over
# keys that churn (each block of 1000 events uses 20 fresh keys, never seen again), run with
# a 10s event-time TTL on the rocksdb backend, a checkpoint every EVENTS/10 events. Prints, per
# checkpoint, the keys held and the checkpoint's size: with the TTL they stay flat after warm-up;
# the last line is the same run without a TTL, for contrast.
#
#   bench/ttl_churn.sh EDDY [EVENTS]
set -euo pipefail
EDDY=$1
EVENTS=${2:-5000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$EVENTS" "$WORK/churn.jsonl" <<'PY'
import random, sys
events, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
with open(path, "w") as out:
    for i in range(events):
        key = (i // 1000) * 20 + rng.randrange(20)
        out.write('{"user":"u%07d","ts":%d,"bytes":%d}\n' % (key, 1700000000000 + i, rng.randrange(1, 5000)))
PY
cat >"$WORK/job.json" <<'JSON'
{"code": "churn", "keys": ["user"], "time": "ts", "watermark": "1s", "ttl": "10s",
 "dict": [{"name": "requests", "operator": "count"}, {"name": "bytes_total", "operator": "sum", "field": "bytes"}]}
JSON
every=$((EVENTS / 10))
start=$(date +%s.%N)
"$EDDY" run "$WORK/job.json" "$WORK/churn.jsonl" --state-dir "$WORK/state" --checkpoint-dir "$WORK/checkpoints" \
    --checkpoint-every "$every" --retain 20 -q -o /dev/null
end=$(date +%s.%N)
echo "with ttl 10s: $(python3 -c "print(f'{$EVENTS / ($end - $start) / 1e6:.2f}')") M events/s; per checkpoint: events, keys held, checkpoint size"
"$EDDY" checkpoints list "$WORK/checkpoints" | awk '{for (i = 1; i <= NF; i++) { if ($(i+1) == "events") e = $i; if ($(i+1) == "keys") k = $i; if ($i == "size") s = $(i+1) " " $(i+2) } print "  " e " events: " k " keys, " s}'
sed 's/, "ttl": "10s"//' "$WORK/job.json" >"$WORK/job-no-ttl.json"
rm -rf "$WORK/state" "$WORK/checkpoints"
"$EDDY" run "$WORK/job-no-ttl.json" "$WORK/churn.jsonl" --state-dir "$WORK/state" --checkpoint-dir "$WORK/checkpoints" -q -o /dev/null
echo "without ttl: $("$EDDY" checkpoints list "$WORK/checkpoints" | awk '{for (i = 1; i <= NF; i++) { if ($(i+1) == "keys") k = $i; if ($i == "size") s = $(i+1) " " $(i+2) } print k " keys, " s}')"
