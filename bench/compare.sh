#!/usr/bin/env bash
# Compares two eddy binaries on one job and input in the same sitting: runs them interleaved
# (old, new, old, new, ...) so that the machine's drift hits both alike, and prints the best
# and the median wall time of each and their ratio. The machine is shared and noisy: compare
# ratios from one run of this script, not times across sessions. CPU time comes from GNU time
# (`/usr/bin/time -f`, Linux; Debian package `time`).
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

# Prints "wall,cpu": elapsed seconds (to the nanosecond), and user + system CPU seconds (GNU
# time's, to the hundredth; not stretched by neighbours taking the core away).
time_one() {
    rm -rf "$STATE/state"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%U,%S" -o "$STATE/time" "$1" run "$JOB" "$DATA" --quiet --state-dir "$STATE/state" "${EXTRA[@]}" >/dev/null
    end=$(date +%s.%N)
    IFS=, read -r user system <"$STATE/time"
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1])},{float(sys.argv[3]) + float(sys.argv[4])}')" "$start" "$end" "$user" "$system"
}

old_times=() new_times=()
for _ in $(seq "$RUNS"); do
    old_times+=("$(time_one "$OLD")")
    new_times+=("$(time_one "$NEW")")
done
python3 - "$OLD" "$NEW" "$JOB" "$DATA" "$(wc -l <"$DATA")" "${old_times[*]}" "${new_times[*]}" <<'PY'
import statistics, sys
old, new, job, data, events = sys.argv[1:6]
def parse(runs):
    pairs = [tuple(float(v) for v in run.split(",")) for run in runs.split()]
    return [p[0] for p in pairs], [p[1] for p in pairs]
old_wall, old_cpu = parse(sys.argv[6])
new_wall, new_cpu = parse(sys.argv[7])
events = int(events)
print(f"{job} over {data} ({events} events), {len(old_wall)} interleaved runs each")
for name, wall, cpu in ((old, old_wall, old_cpu), (new, new_wall, new_cpu)):
    best, median = min(wall), statistics.median(wall)
    print(f"  {name}: best {best:.3f} s ({events / best / 1e6:.2f} M events/s), median {median:.3f} s; "
          f"CPU best {min(cpu):.3f} s, median {statistics.median(cpu):.3f} s")
print(f"  speedup: best {min(old_wall) / min(new_wall):.2f}x, median {statistics.median(old_wall) / statistics.median(new_wall):.2f}x; "
      f"CPU best {min(old_cpu) / min(new_cpu):.2f}x, median {statistics.median(old_cpu) / statistics.median(new_cpu):.2f}x")
PY
