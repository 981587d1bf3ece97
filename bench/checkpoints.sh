#!/usr/bin/env bash
# make bench (checkpoints): with about 950,000 keys in state (3M events over 1M uniformly
# drawn cards), how long a checkpoint takes and how many bytes it adds when 1% of the keys
# changed since the previous one (10,000 more events), for fs and rocksdb; how long a restore
# takes; and the throughput of the loading run with a checkpoint every 10 s against none.
set -euo pipefail
EDDY=$1
DATA=$2  # 3,050,000 events: the first 3M load the state, the rest come in slices of 10,000
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
head -n 3000000 "$DATA" >"$WORK/load.jsonl"
for i in 1 2 3; do
    from=$((3000001 + (i - 1) * 10000))
    sed -n "${from},$((from + 9999))p;$((from + 9999))q" "$DATA" >"$WORK/delta$i.jsonl"
done

seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

for backend in fs rocksdb; do
    dir="$WORK/$backend"
    run() { "$EDDY" run jobs/card_velocity.json --parallelism 1 --state-backend $backend --state-dir "$dir/state" --checkpoint-dir "$dir/checkpoints" -q "$@"; }
    start=$(date +%s.%N)
    run "$WORK/load.jsonl" --no-drain -o /dev/null
    end=$(date +%s.%N)
    keys=$("$EDDY" checkpoints list "$dir/checkpoints" | tail -1)
    echo "$backend: load 3M events in $(seconds "$start" "$end") s; first checkpoint: $(echo "$keys" | grep -o 'size.*')"
    for i in 1 2 3; do
        run "$WORK/delta$i.jsonl" --resume latest --no-drain -o /dev/null 2>"$WORK/err"
        restored=$(grep -o 'restored checkpoint [0-9]* in [0-9.]* s' "$WORK/err")
        echo "$backend: +10,000 events (1% of keys): $restored; new checkpoint: $("$EDDY" checkpoints list "$dir/checkpoints" | tail -1 | grep -o 'size.*')"
    done
    du -sh "$dir/checkpoints" | awk -v b=$backend '{print b ": checkpoint directory on disk " $1}'
done

# Throughput of the loading run, rocksdb: a checkpoint every 10 s against none.
for variant in "--no-checkpoints" "--checkpoint-every 10s"; do
    rm -rf "$WORK/tp"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$EDDY" run jobs/card_velocity.json "$WORK/load.jsonl" --parallelism 1 --state-dir "$WORK/tp/state" $variant \
        $([ "$variant" = "--no-checkpoints" ] || echo --checkpoint-dir "$WORK/tp/checkpoints") -q -o /dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'rocksdb, {sys.argv[3]:<24}: {s:6.1f} s  {3e6/s/1e6:.2f} M events/s')" "$start" "$end" "$variant"
done
