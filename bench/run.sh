#!/usr/bin/env bash
# make bench: eddy's throughput on the card-velocity job over generated events, next to
# `cat FILE > /dev/null` measured in the same run (the machine is shared and noisy, so the
# ratio is the figure to compare across sessions). Each measurement is the best of 3.
set -euo pipefail
EDDY=$1
DATA=$2
JOB=${JOB:-jobs/card_velocity.json}
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
    /usr/bin/env time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}'
}

cat_s=$(best_of_3 cat "$DATA")
eddy_s=$(best_of_3 "$EDDY" run "$JOB" "$DATA" --quiet)
rss=$(peak_rss_mb "$EDDY" run "$JOB" "$DATA" --quiet || echo "?")
running_s=$(best_of_3 "$EDDY" run bench/running_aggregates.json "$DATA" --quiet)
python3 - "$events" "$bytes" "$cat_s" "$eddy_s" "$rss" "$JOB" "$running_s" <<'PY'
import sys
events, size, cat_s, eddy_s, rss, job = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
running_s = float(sys.argv[7])
print(f"input: {events} events, {size / 1e6:.1f} MB; job: {job}")
print(f"cat FILE > /dev/null : {cat_s:8.3f} s  {events / cat_s / 1e6:8.2f} M events/s  {size / cat_s / 1e9:.2f} GB/s")
print(f"eddy run (memory)    : {eddy_s:8.3f} s  {events / eddy_s / 1e6:8.2f} M events/s  peak RSS {rss} MB")
print(f"eddy / cat time ratio: {eddy_s / cat_s:.1f}x")
print(f"running aggregates only (count, sum, max, last; bench/running_aggregates.json): {running_s:.3f} s  {events / running_s / 1e6:.2f} M events/s")
PY
