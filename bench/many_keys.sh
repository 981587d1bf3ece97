#!/usr/bin/env bash
# make bench-many-keys: state far larger than its memory budget. 6M events over 3M uniformly
# drawn cards (about 2.6M distinct keys) through the card job, on the memory backend and on
# rocksdb with --state-memory 64MB; the outputs must be identical. Prints time, events/s and
# peak RSS of each.
set -euo pipefail
EDDY=$1
DATA=$2
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
measure() {
    local label=$1 out=$2
    shift 2
    local start end
    start=$(date +%s.%N)
    /usr/bin/env time -f %M -o "$STATE/rss" "$EDDY" run jobs/card_velocity.json "$DATA" --parallelism 1 --state-dir "$STATE/state" "$@" >"$out" 2>"$STATE/summary"
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]:<34}: {s:7.1f} s  {int(sys.argv[4])/s/1e6:.2f} M events/s  peak RSS {int(sys.argv[5])//1024} MB')" \
        "$start" "$end" "$label" "$(wc -l <"$DATA")" "$(tail -1 "$STATE/rss")"
    grep -o '[0-9]* keys' "$STATE/summary"
}
measure "memory backend" "$STATE/memory.out" --state-backend memory
measure "rocksdb, --state-memory 64MB" "$STATE/rocksdb.out" --state-backend rocksdb --state-memory 64MB
cmp "$STATE/memory.out" "$STATE/rocksdb.out" && echo "outputs identical"
