#!/usr/bin/env bash
# make bench-ceiling: how fast the card-velocity job can go on this machine, in Swift. Builds
# bench/ceiling, a throwaway program hand-specialised to this one job (its fields, its seven
# features, its output), checks that its output is byte for byte eddy's, then times `cat`,
# the program and eddy (memory backend, one thread), interleaved, and prints the best and the
# median of each. The program is a measuring stick, not part of eddy: it handles only what
# this job and generated input need (see the top of its main.swift).
#
#   bench/ceiling.sh EDDY INPUT [RUNS]
set -euo pipefail
EDDY=$1
DATA=$2
RUNS=${3:-5}
JOB=jobs/card_velocity.json
HERE=$(cd "$(dirname "$0")" && pwd)
swift build -c release --package-path "$HERE/ceiling" >/dev/null
CEILING=$("swift" build -c release --package-path "$HERE/ceiling" --show-bin-path)/ceiling
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$CEILING" "$DATA" >"$WORK/ceiling.jsonl"
"$EDDY" run "$JOB" "$DATA" --state-backend memory --parallelism 1 --quiet >"$WORK/eddy.jsonl"
if ! cmp -s "$WORK/ceiling.jsonl" "$WORK/eddy.jsonl"; then
    echo "bench/ceiling's output differs from eddy's on $DATA: the comparison would not be fair" >&2
    exit 1
fi

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$end"
}
cat_times=() ceiling_times=() eddy_times=()
for _ in $(seq "$RUNS"); do
    cat_times+=("$(seconds cat "$DATA")")
    ceiling_times+=("$(seconds "$CEILING" "$DATA")")
    eddy_times+=("$(seconds "$EDDY" run "$JOB" "$DATA" --state-backend memory --parallelism 1 --quiet)")
done
python3 - "$(wc -l <"$DATA")" "$RUNS" "${cat_times[*]}" "${ceiling_times[*]}" "${eddy_times[*]}" <<'PY'
import statistics, sys
events, runs = int(sys.argv[1]), sys.argv[2]
rows = [("cat FILE > /dev/null", sys.argv[3]), ("bench/ceiling (hand-specialised)", sys.argv[4]), ("eddy, memory backend", sys.argv[5])]
print(f"card-velocity job, {events} events, {runs} interleaved runs each (outputs identical)")
best = {}
for name, times in rows:
    t = [float(v) for v in times.split()]
    best[name] = min(t)
    print(f"  {name:34}: best {min(t):.3f} s ({events / min(t) / 1e6:5.2f} M events/s), median {statistics.median(t):.3f} s")
print(f"  eddy takes {best[rows[2][0]] / best[rows[1][0]]:.2f}x the hand-specialised program's time (best against best)")
PY
