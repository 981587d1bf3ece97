#!/usr/bin/env bash
# Crash test: run a job over generated events with checkpoints, kill it with SIGKILL at
# random moments, resume each time with --resume latest, and require the final output to be
# byte-identical to an uninterrupted run. For each backend (fs, rocksdb) and each mode: a
# file in and a file out, a replayed stdin in, stdout out with --exactly-once, and windowed
# jobs (hopping windows, jobs/card_windows.json; sessions, jobs/card_sessions.json) from a file
# to a file. Each run
# takes a random --parallelism of 1, 2 or 4, so resumes also rescale the keyed state.
#
#   Tests/crash/run.sh KILLS [EVENTS]     KILLS per backend and input mode
set -u
cd "$(dirname "$0")/../.."
KILLS=${1:-10}
EVENTS=${2:-200000}
EDDY=${EDDY:-.build/release/eddy}
EDDY=$(cd "$(dirname "$EDDY")" && pwd)/$(basename "$EDDY")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0

python3 Tests/support/gen_events.py --events "$EVENTS" --keys 5000 --seed 3 --out "$TMP/events.jsonl"
"$EDDY" run jobs/card_velocity.json "$TMP/events.jsonl" --state-backend memory -q -o "$TMP/expected.jsonl" \
    --late-output "$TMP/expected.late"
"$EDDY" run jobs/card_windows.json "$TMP/events.jsonl" --state-backend memory -q -o "$TMP/expected-windows.jsonl" \
    --late-output "$TMP/expected-windows.late"
"$EDDY" run jobs/card_sessions.json "$TMP/events.jsonl" --state-backend memory -q -o "$TMP/expected-sessions.jsonl" \
    --late-output "$TMP/expected-sessions.late"
# How long an uninterrupted run takes: kills land anywhere within it.
start=$(date +%s%N)
"$EDDY" run jobs/card_velocity.json "$TMP/events.jsonl" --state-backend rocksdb --state-dir "$TMP/timing-state" \
    --checkpoint-dir "$TMP/timing-checkpoints" --checkpoint-every 20000 -q -o "$TMP/timing.jsonl"
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))

# One scenario: runs resumed with --resume latest until one completes, each killed with
# SIGKILL at a random moment while kills are still wanted; then the output is compared.
scenario() {
    local backend=$1 mode=$2 dir=$3 want=$4
    kills=0
    runs=0
    while :; do
        runs=$((runs + 1))
        local workers=$((1 << (RANDOM % 3)))
        if [ "$mode" = windows ] || [ "$mode" = sessions ]; then
            "$EDDY" run "jobs/card_$mode.json" "$TMP/events.jsonl" --state-backend "$backend" \
                --state-dir "$dir/state" --checkpoint-dir "$dir/checkpoints" --checkpoint-every 20000 \
                --parallelism "$workers" --resume latest -q -o "$dir/out.jsonl" --late-output "$dir/late" 2>>"$dir/log" &
        elif [ "$mode" = file ]; then
            "$EDDY" run jobs/card_velocity.json "$TMP/events.jsonl" --state-backend "$backend" \
                --state-dir "$dir/state" --checkpoint-dir "$dir/checkpoints" --checkpoint-every 20000 \
                --parallelism "$workers" --resume latest -q -o "$dir/out.jsonl" --late-output "$dir/late" 2>>"$dir/log" &
        elif [ "$mode" = stdout ]; then
            # stdout appended to across runs: --exactly-once must neither repeat nor lose records.
            "$EDDY" run jobs/card_velocity.json "$TMP/events.jsonl" --state-backend "$backend" \
                --state-dir "$dir/state" --checkpoint-dir "$dir/checkpoints" --checkpoint-every 20000 \
                --parallelism "$workers" --resume latest -q --exactly-once --late-output "$dir/late" >>"$dir/out.jsonl" 2>>"$dir/log" &
        else
            "$EDDY" run jobs/card_velocity.json - --state-backend "$backend" \
                --state-dir "$dir/state" --checkpoint-dir "$dir/checkpoints" --checkpoint-every 20000 \
                --parallelism "$workers" --resume latest -q -o "$dir/out.jsonl" --late-output "$dir/late" <"$TMP/events.jsonl" 2>>"$dir/log" &
        fi
        local pid=$!
        if [ "$kills" -lt "$want" ]; then
            sleep "$(python3 -c "import random; print(random.uniform(0.02, $run_ms / 1000 * 0.8))")"
            if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
        fi
        wait "$pid" 2>/dev/null
        local code=$?
        [ "$code" = 0 ] && return 0
        if [ "$code" != 137 ]; then
            echo "FAIL $backend/$mode: run $runs exited $code: $(tail -3 "$dir/log")"
            return 1
        fi
    done
}

for backend in fs rocksdb; do
    for mode in file stdin stdout windows sessions; do
        expected=expected
        [ "$mode" = windows ] && expected=expected-windows
        [ "$mode" = sessions ] && expected=expected-sessions
        total_kills=0
        scenarios=0
        # Until enough kills landed: a run that finishes before its kill starts a new scenario.
        while [ "$total_kills" -lt "$KILLS" ]; do
            scenarios=$((scenarios + 1))
            dir="$TMP/$backend-$mode-$scenarios"
            mkdir -p "$dir"
            if ! scenario "$backend" "$mode" "$dir" $((KILLS - total_kills)); then
                failed=$((failed + 1))
                continue 2
            fi
            total_kills=$((total_kills + kills))
            if ! cmp -s "$dir/out.jsonl" "$TMP/$expected.jsonl" || ! cmp -s "$dir/late" "$TMP/$expected.late"; then
                echo "FAIL $backend/$mode: after $kills kills in $runs runs, output differs: $(cmp "$dir/out.jsonl" "$TMP/$expected.jsonl" 2>&1 | head -1)"
                failed=$((failed + 1))
                continue 2
            fi
            rm -rf "$dir"
        done
        echo "ok   $backend/$mode: $total_kills kills (SIGKILL) in $scenarios scenarios, each resumed with --resume latest and a random --parallelism (1, 2, 4); output and late output byte-identical to an uninterrupted run"
    done
done
echo "crash test: $failed failed"
[ "$failed" = 0 ]
