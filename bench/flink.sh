#!/usr/bin/env bash
# make bench-flink: the same job on eddy and on Apache Flink (PyFlink's local mini-cluster), in
# the same sitting, and the ratio between them.
#
#   bench/flink.sh EDDY INPUT [RUNS]      (RUNS default 3; PYFLINK=python of a venv with
#                                           apache-flink installed, default bench-data/pyflink/bin/python)
#
# Jobs: jobs/card_velocity.json and bench/running_aggregates.json, each exported with
# `eddy export flink-sql`. Configurations: eddy --state-backend memory and rocksdb (with a
# --checkpoint-dir, so its run includes the end-of-run checkpoint), Flink's hashmap and
# rocksdb state backends with checkpointing off (bench/flink_bench.py says why); one worker
# on eddy, parallelism 1 and one slot on Flink. Both write every output row as JSON to a file
# (eddy -o FILE, Flink's filesystem sink with format json).
#
# The card job on Flink's RocksDB backend takes over 5 minutes for 1M events on this machine
# (64 s for 200k), so that configuration, on both systems, reads the first
# CARD_ROCKSDB_EVENTS (default 200000) events of INPUT.
#
# Runs are interleaved (each round runs every configuration once, one at a time: the machine
# is shared and noisy), each under /usr/bin/time -v. Reported: the whole command's wall time
# (JVM start included for Flink, process start for eddy), Flink's own job runtime
# (JobExecutionResult net runtime), events/s of both, peak RSS, best and median of RUNS, the
# ratios, and a check that the outputs of the last round agree.
set -euo pipefail
EDDY=$1
INPUT=$2
RUNS=${3:-3}
PYFLINK=${PYFLINK:-bench-data/pyflink/bin/python}
CARD_ROCKSDB_EVENTS=${CARD_ROCKSDB_EVENTS:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.tsv
INPUT=$(cd "$(dirname "$INPUT")" && pwd)/$(basename "$INPUT")
head -n "$CARD_ROCKSDB_EVENTS" "$INPUT" >"$WORK/input-small.jsonl"

# name job input eddy-backend flink-backend
CONFIGS="card_velocity jobs/card_velocity.json $INPUT memory hashmap
card_velocity jobs/card_velocity.json $WORK/input-small.jsonl rocksdb rocksdb
running_aggregates bench/running_aggregates.json $INPUT memory hashmap
running_aggregates bench/running_aggregates.json $INPUT rocksdb rocksdb"

# The Flink script per job and input, its sink a directory emptied before each run.
while read -r name job input eddy_backend flink_backend; do
    tag=$name-$flink_backend
    "$EDDY" export flink-sql "$job" --source-path "$input" --sink-path "$WORK/flink-out-$tag" >"$WORK/$tag.sql"
done <<<"$CONFIGS"

seconds_since() { python3 -c "import sys, time; print(round(time.time() - float(sys.argv[1]), 3))" "$1"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }

run_eddy() {
    local name=$1 job=$2 input=$3 backend=$4 round=$5
    local tag=$name-$backend
    rm -rf "$WORK/state" "$WORK/checkpoints" "$WORK/eddy-out-$tag.jsonl"
    local extra=()
    [ "$backend" = rocksdb ] && extra=(--state-dir "$WORK/state" --checkpoint-dir "$WORK/checkpoints")
    local start
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$WORK/time.txt" "$EDDY" run "$job" "$input" --quiet --parallelism 1 \
        --state-backend "$backend" "${extra[@]}" -o "$WORK/eddy-out-$tag.jsonl"
    local wall
    wall=$(seconds_since "$start")
    printf 'eddy\t%s\t%s\t%s\t%s\t%s\t\t%s\n' "$name" "$backend" "$round" "$(wc -l <"$input")" "$wall" "$(rss_mb "$WORK/time.txt")" >>"$RESULTS"
    echo "  eddy  $name $backend: ${wall} s" >&2
}

run_flink() {
    local name=$1 input=$2 backend=$3 round=$4
    local tag=$name-$backend
    rm -rf "$WORK/flink-out-$tag" "$WORK/flink.log"
    local start
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$WORK/time.txt" "$PYFLINK" "$HERE/flink_bench.py" "$WORK/$tag.sql" \
        --state-backend "$backend" >"$WORK/flink.json" 2>"$WORK/flink.log" || {
        echo "Flink run failed ($tag); its log:" >&2
        tail -n 30 "$WORK/flink.log" >&2
        exit 1
    }
    local wall
    wall=$(seconds_since "$start")
    # Peak RSS: the JVM's and the Python driver's VmHWM added (time -v sees only the Python
    # process: the JVM is started by a shell script and is not waited for as its child).
    python3 - "$name" "$backend" "$round" "$(wc -l <"$input")" "$wall" "$WORK/flink.json" >>"$RESULTS" <<'PY'
import json, sys
name, backend, round_, events, wall, path = sys.argv[1:]
job = json.load(open(path))
print("\t".join(["flink", name, backend, round_, events, wall, str(job["net_runtime_s"]),
                 str(job["java_peak_rss_mb"] + job["python_peak_rss_mb"])]))
PY
    echo "  flink $name $backend: ${wall} s (job $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["net_runtime_s"])' "$WORK/flink.json") s)" >&2
}

for round in $(seq 1 "$RUNS"); do
    echo "round $round of $RUNS" >&2
    while read -r name job input eddy_backend flink_backend; do
        run_eddy "$name" "$job" "$input" "$eddy_backend" "$round"
        run_flink "$name" "$input" "$flink_backend" "$round"
    done <<<"$CONFIGS"
done

echo
echo "input: $INPUT ($(wc -l <"$INPUT") events); the card job on rocksdb reads its first $CARD_ROCKSDB_EVENTS"
echo "runs: $RUNS per configuration, interleaved; wall = the whole command; job = Flink's net runtime"
python3 - "$RESULTS" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    system, name, backend, _, events, wall, job, rss = line.rstrip("\n").split("\t")
    runs[(name, system, backend)].append((int(events), float(wall), float(job) if job else None, int(rss)))

def summary(key):
    rows = runs[key]
    walls = [r[1] for r in rows]
    jobs = [r[2] for r in rows if r[2] is not None]
    return {"events": rows[0][0], "wall_best": min(walls), "wall_median": statistics.median(walls),
            "job_best": min(jobs) if jobs else None, "job_median": statistics.median(jobs) if jobs else None,
            "rss": max(r[3] for r in rows)}

print(f"{'job':<19} {'system, state':<17} {'events':>8} {'wall best':>10} {'median':>8} {'job best':>9} {'median':>8}"
      f" {'events/s: wall':>15} {'job':>10} {'peak RSS':>9}")
for name in ("card_velocity", "running_aggregates"):
    for system, backend in (("eddy", "memory"), ("flink", "hashmap"), ("eddy", "rocksdb"), ("flink", "rocksdb")):
        s = summary((name, system, backend))
        job = f"{s['job_best']:8.2f}s {s['job_median']:7.2f}s" if s["job_best"] is not None else f"{'':>9} {'':>8}"
        job_rate = f"{s['events'] / s['job_best']:>10,.0f}" if s["job_best"] is not None else f"{'':>10}"
        print(f"{name:<19} {system + ', ' + backend:<17} {s['events']:>8} {s['wall_best']:9.2f}s {s['wall_median']:7.2f}s {job}"
              f" {s['events'] / s['wall_best']:>15,.0f} {job_rate} {s['rss']:>6} MB")
print()
print("ratios, Flink's time / eddy's (how many times faster eddy is), best and median:")
for name in ("card_velocity", "running_aggregates"):
    for eddy_backend, flink_backend in (("memory", "hashmap"), ("rocksdb", "rocksdb")):
        e, f = summary((name, "eddy", eddy_backend)), summary((name, "flink", flink_backend))
        print(f"  {name}, eddy {eddy_backend} vs Flink {flink_backend}: whole command {f['wall_best'] / e['wall_best']:.1f}x"
              f" (median {f['wall_median'] / e['wall_median']:.1f}x); Flink's job runtime alone against eddy's whole"
              f" command {f['job_best'] / e['wall_best']:.1f}x (median {f['job_median'] / e['wall_median']:.1f}x);"
              f" peak RSS {f['rss'] / e['rss']:.1f}x")
PY

echo
echo "outputs of the last round (row counts; features of 1 key in 20 matched by key and time):"
while read -r name job input eddy_backend flink_backend; do
    echo "$name, eddy $eddy_backend vs Flink $flink_backend:"
    "$PYFLINK" "$HERE/flink_bench.py" compare "$WORK/eddy-out-$name-$eddy_backend.jsonl" "$WORK/flink-out-$name-$flink_backend"
done <<<"$CONFIGS"
