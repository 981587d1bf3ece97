#!/usr/bin/env bash
# make bench: eddy's throughput on the card-velocity job over generated events, with the
# memory and rocksdb state backends, next to `cat FILE > /dev/null`, all measured in the same
# run (the machine is shared and noisy, so ratios are the figures to compare across
# sessions). Each time is the best of 3; peak RSS comes from one more run under time -f %M.
# Every eddy run names its --parallelism: 1 is one thread doing everything; 2 adds the
# keyed workers (one reader thread, two worker threads).
set -euo pipefail
EDDY=$1
DATA=$2
JOB=${JOB:-jobs/card_velocity.json}
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
events=$(wc -l <"$DATA")
bytes=$(stat -c %s "$DATA")

best_of_3() {
    local best=""
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null
        end=$(date +%s.%N)
        best=$(python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); b=sys.argv[3]; print(t if not b or t < float(b) else b)" "$start" "$end" "$best")
    done
    echo "$best"
}

peak_rss_mb() {
    rm -rf "$STATE/state" "$STATE/checkpoints"
    /usr/bin/env time -f %M "$EDDY" run "$JOB" "$DATA" --quiet --state-dir "$STATE/state" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}'
}

# Each run takes its state and checkpoints to a fresh temporary directory, as a first run would.
run_job() {
    local job=$1
    shift
    rm -rf "$STATE/state" "$STATE/checkpoints"
    "$EDDY" run "$job" "$DATA" --quiet --state-dir "$STATE/state" "$@"
}
run() {
    rm -rf "$STATE/state" "$STATE/checkpoints"
    "$EDDY" run "$JOB" "$DATA" --quiet --state-dir "$STATE/state" "$@"
}

cat_s=$(best_of_3 cat "$DATA")
memory_s=$(best_of_3 run --state-backend memory --parallelism 1)
memory_rss=$(peak_rss_mb --state-backend memory --parallelism 1)
rocksdb_s=$(best_of_3 run --state-backend rocksdb --parallelism 1 --checkpoint-dir "$STATE/checkpoints")
rocksdb_rss=$(peak_rss_mb --state-backend rocksdb --parallelism 1 --checkpoint-dir "$STATE/checkpoints")
rocksdb2_s=$(best_of_3 run --state-backend rocksdb --parallelism 2 --checkpoint-dir "$STATE/checkpoints")
memory2_s=$(best_of_3 run --state-backend memory --parallelism 2)
small_s=$(best_of_3 run --state-backend rocksdb --parallelism 1 --state-memory 64MB --checkpoint-dir "$STATE/checkpoints")
small_rss=$(peak_rss_mb --state-backend rocksdb --parallelism 1 --state-memory 64MB --checkpoint-dir "$STATE/checkpoints")
running_s=$(best_of_3 "$EDDY" run bench/running_aggregates.json "$DATA" --quiet --state-backend memory --parallelism 1)
tumbling_s=$(best_of_3 run_job bench/tumbling_1m.json --state-backend memory --parallelism 1)
tumbling_rocksdb_s=$(best_of_3 run_job bench/tumbling_1m.json --state-backend rocksdb --parallelism 1 --checkpoint-dir "$STATE/checkpoints")
python3 - "$events" "$bytes" "$JOB" "$cat_s" "$memory_s" "$memory_rss" "$rocksdb_s" "$rocksdb_rss" "$small_s" "$small_rss" "$running_s" "$rocksdb2_s" "$memory2_s" "$tumbling_s" "$tumbling_rocksdb_s" <<'PY'
import sys
events, size, job = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cat_s, memory_s, memory_rss, rocksdb_s, rocksdb_rss, small_s, small_rss, running_s, rocksdb2_s, memory2_s, tumbling_s, tumbling_rocksdb_s = sys.argv[4:16]
cat_s, memory_s, rocksdb_s, small_s, running_s, rocksdb2_s, memory2_s, tumbling_s, tumbling_rocksdb_s = map(
    float, (cat_s, memory_s, rocksdb_s, small_s, running_s, rocksdb2_s, memory2_s, tumbling_s, tumbling_rocksdb_s))
rate = lambda s: f"{events / s / 1e6:6.2f} M events/s"
print(f"input: {events} events, {size / 1e6:.1f} MB; job: {job}")
print(f"cat FILE > /dev/null             : {cat_s:7.3f} s  {rate(cat_s)}  {size / cat_s / 1e9:.2f} GB/s")
print(f"eddy, memory backend             : {memory_s:7.3f} s  {rate(memory_s)}  peak RSS {memory_rss} MB  ({memory_s / cat_s:.0f}x cat)")
print(f"eddy, rocksdb backend (512MB)    : {rocksdb_s:7.3f} s  {rate(rocksdb_s)}  peak RSS {rocksdb_rss} MB  ({memory_s / rocksdb_s:.2f} of memory's rate)")
print(f"eddy, rocksdb, --parallelism 2    : {rocksdb2_s:7.3f} s  {rate(rocksdb2_s)}  ({rocksdb_s / rocksdb2_s:.2f}x parallelism 1)")
print(f"eddy, memory, --parallelism 2     : {memory2_s:7.3f} s  {rate(memory2_s)}  ({memory_s / memory2_s:.2f}x parallelism 1)")
print(f"eddy, rocksdb, --state-memory 64MB: {small_s:6.3f} s  {rate(small_s)}  peak RSS {small_rss} MB  ({memory_s / small_s:.2f} of memory's rate)")
print(f"tumbling 1m windows (bench/tumbling_1m.json), memory : {tumbling_s:7.3f} s  {rate(tumbling_s)}")
print(f"tumbling 1m windows (bench/tumbling_1m.json), rocksdb: {tumbling_rocksdb_s:7.3f} s  {rate(tumbling_rocksdb_s)}  ({tumbling_s / tumbling_rocksdb_s:.2f} of memory's rate)")
print(f"running aggregates only (count, sum, max, last; bench/running_aggregates.json), memory: {running_s:.3f} s  {rate(running_s)}")
PY
