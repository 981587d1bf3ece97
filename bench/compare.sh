#!/usr/bin/env bash
# Compares two eddy binaries on one job and input in the same sitting: runs them interleaved
# (old, new, old, new, ...) so that the machine's drift hits both alike, and prints the best
# and the median wall time of each and their ratio. The machine is shared and noisy: compare
# ratios from one run of this script, not times across sessions.
#
#   bench/compare.sh OLD_EDDY NEW_EDDY JOB INPUT [RUNS] [-- extra eddy run flags]
set -euo pipefail
OLD=$1 NEW=$2 JOB=$3 DATA=$4
RUNS=${5:-5}
shift $(( $# >= 5 ? 5 : 4 ))
[ "${1:-}" = "--" ] && shift
EXTRA=("$@")
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT

time_one() {
    rm -rf "$STATE/state"
    local start end
    start=$(date +%s.%N)
    "$1" run "$JOB" "$DATA" --quiet --state-dir "$STATE/state" "${EXTRA[@]}" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$end"
}

old_times=() new_times=()
for _ in $(seq "$RUNS"); do
    old_times+=("$(time_one "$OLD")")
    new_times+=("$(time_one "$NEW")")
done
python3 - "$OLD" "$NEW" "$JOB" "$DATA" "$(wc -l <"$DATA")" "${old_times[*]}" "${new_times[*]}" <<'PY'
import statistics, sys
old, new, job, data, events = sys.argv[1:6]
old_t = [float(x) for x in sys.argv[6].split()]
new_t = [float(x) for x in sys.argv[7].split()]
events = int(events)
print(f"{job} over {data} ({events} events), {len(old_t)} interleaved runs each")
for name, times in ((old, old_t), (new, new_t)):
    best, median = min(times), statistics.median(times)
    print(f"  {name}: best {best:.3f} s ({events / best / 1e6:.2f} M events/s), median {median:.3f} s")
print(f"  speedup: best {min(old_t) / min(new_t):.2f}x, median {statistics.median(old_t) / statistics.median(new_t):.2f}x")
PY
