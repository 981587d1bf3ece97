#!/usr/bin/env bash
# End-to-end tests of the built binary: the jobs/ examples against outputs computed by an
# independent reference model (reference.py), exit codes, formats, and a randomized
# differential run on generated events. Prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/../.."
EDDY=${EDDY:-.build/release/eddy}
EDDY=$(cd "$(dirname "$EDDY")" && pwd)/$(basename "$EDDY") # absolute: some checks run elsewhere
REPO=$PWD
HERE=Tests/e2e
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/     /'; }

# expect_exit NAME CODE COMMAND...: the command exits with CODE.
expect_exit() {
    local name=$1 code=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    local actual=$?
    if [ "$actual" = "$code" ]; then pass "$name"; else fail "$name" "exit $actual, expected $code; stderr: $(head -c 600 "$TMP/err")"; fi
}

# Summary line check: "N events read: E emitted, L late, R rejected".
expect_counts() {
    local name=$1 counts=$2 stderr=$3
    read -r r e l j <<<"$counts"
    if grep -q "$r events read: $e emitted, $l late, $j rejected" "$stderr"; then pass "$name"; else fail "$name" "expected $counts, got: $(cat "$stderr")"; fi
}

for job in card_velocity:jsonl host_metrics:csv sessions:jsonl host_minutes:csv card_windows:jsonl card_sessions:jsonl; do
    name=${job%%:*}
    ext=${job##*:}
    input=jobs/$name.input.$ext
    "$EDDY" run "jobs/$name.json" "$input" --output "$TMP/$name.out" --late-output "$TMP/$name.late" \
        --dead-letter "$TMP/$name.dead" 2>"$TMP/$name.err"
    code=$?
    [ $code = 0 ] && pass "$name: exit 0" || fail "$name: exit 0" "exit $code: $(cat "$TMP/$name.err")"
    if diff=$(python3 $HERE/compare.py "$TMP/$name.out" "jobs/$name.expected.jsonl"); then pass "$name: output matches the reference"; else fail "$name: output matches the reference" "$diff"; fi
    expect_counts "$name: summary counts" "$(cat "jobs/$name.expected.counts")" "$TMP/$name.err"
    read -r _ _ late rejected <"jobs/$name.expected.counts"
    dead=$(wc -l <"$TMP/$name.dead")
    [ "$dead" = "$rejected" ] && pass "$name: one dead letter per rejected record" || fail "$name: dead letters" "$dead lines, expected $rejected"
    if [ "$ext" = csv ]; then late=$((late + 1)); fi # CSV late output starts with the header
    lines=$(wc -l <"$TMP/$name.late")
    [ "$lines" = "$late" ] && pass "$name: late output" || fail "$name: late output" "$lines lines, expected $late"
    # stdin gives the same result as the file
    "$EDDY" run "jobs/$name.json" --input-format "$ext" --quiet <"$input" >"$TMP/$name.stdin"
    cmp -s "$TMP/$name.stdin" "$TMP/$name.out" && pass "$name: stdin equals file" || fail "$name: stdin equals file"
done

# State backends: the output is the same on every backend (the runs above used the default,
# rocksdb), and with a 1 KB budget that evicts every key to RocksDB after every batch.
for job in card_velocity:jsonl host_metrics:csv sessions:jsonl host_minutes:csv card_windows:jsonl card_sessions:jsonl; do
    name=${job%%:*}
    input=jobs/$name.input.${job##*:}
    for variant in "memory" "fs" "rocksdb --state-memory 1KB"; do
        # shellcheck disable=SC2086 # the variant is a backend name and its flags
        set -- --state-backend $variant
        state="$TMP/state-$name-${variant%% *}"
        [ "$variant" = memory ] || set -- "$@" --state-dir "$state" --checkpoint-dir "$state/checkpoints"
        "$EDDY" run "jobs/$name.json" "$input" "$@" --quiet --output "$TMP/$name.variant" 2>"$TMP/err"
        cmp -s "$TMP/$name.variant" "$TMP/$name.out" && pass "$name: $variant backend gives the same output" || fail "$name: $variant backend gives the same output" "$(head -c 300 "$TMP/err")"
    done
done
# Parallelism: 1, 2 and 4 keyed workers give the same bytes on every backend (records are
# written in (time, arrival) order whatever worker computed them).
for job in card_velocity:jsonl host_metrics:csv sessions:jsonl host_minutes:csv card_windows:jsonl card_sessions:jsonl; do
    name=${job%%:*}
    input=jobs/$name.input.${job##*:}
    for backend in memory fs rocksdb; do
        for workers in 1 2 4; do
            set -- --state-backend $backend --parallelism $workers
            state="$TMP/par-$name-$backend-$workers"
            [ "$backend" = memory ] || set -- "$@" --state-dir "$state" --checkpoint-dir "$state/checkpoints"
            "$EDDY" run "jobs/$name.json" "$input" "$@" --quiet --output "$TMP/$name.par" 2>"$TMP/err"
            cmp -s "$TMP/$name.par" "$TMP/$name.out" || { fail "$name: $backend with $workers workers gives the same output" "$(head -c 300 "$TMP/err")"; continue; }
        done
    done
    pass "$name: 1, 2 and 4 workers give the same output on memory, fs and rocksdb"
done
python3 Tests/support/gen_events.py --events 20000 --keys 2000 --seed 9 --out "$TMP/par.jsonl"
"$EDDY" run jobs/card_velocity.json "$TMP/par.jsonl" --state-backend memory --parallelism 1 -q -o "$TMP/par1.out"
"$EDDY" run jobs/card_velocity.json "$TMP/par.jsonl" --state-dir "$TMP/par-state" --no-checkpoints --state-memory 64KB --parallelism 3 -q -o "$TMP/par3.out"
cmp -s "$TMP/par1.out" "$TMP/par3.out" && pass "3 workers over rocksdb with a 64KB budget give one memory worker's output" || fail "3 workers over rocksdb with a 64KB budget give one memory worker's output" "$(cmp "$TMP/par1.out" "$TMP/par3.out" 2>&1)"
expect_exit "run: --parallelism 0 exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --parallelism 0
expect_exit "run: a negative --retain exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --retain -1
grep -q -- "--retain -1: keep at least 1 checkpoint" "$TMP/err" && pass "a negative value is read as the option's value and refused as such" || fail "a negative value is read as the option's value and refused as such" "$(cat "$TMP/err")"
expect_exit "run: more workers than key groups exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --parallelism 9 --max-parallelism 8
grep -q "exceeds the job's 8 key groups" "$TMP/err" && pass "too many workers says why" || fail "too many workers says why" "$(cat "$TMP/err")"
ls "$TMP/state-card_velocity-fs/checkpoints/chk-000001/state/"kg-*.state >/dev/null 2>&1 && pass "fs backend checkpoints one snapshot file per key group" || fail "fs backend checkpoints one snapshot file per key group" "$(ls -R "$TMP/state-card_velocity-fs" 2>&1 | head)"
[ -f "$TMP/state-card_velocity-rocksdb/rocksdb/CURRENT" ] && pass "rocksdb backend keeps its database in the state directory" || fail "rocksdb backend keeps its database in the state directory" "$(ls -R "$TMP/state-card_velocity-rocksdb" 2>&1 | head)"
(cd "$TMP" && "$EDDY" run "$REPO/jobs/card_velocity.json" "$REPO/jobs/card_velocity.input.jsonl" --quiet >/dev/null)
[ -f "$TMP/eddy-state/card_velocity/rocksdb/CURRENT" ] && pass "default state directory is eddy-state/<code>" || fail "default state directory is eddy-state/<code>" "$(ls -R "$TMP/eddy-state" 2>&1 | head)"
expect_exit "run: --state-memory with the fs backend exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-backend fs --state-memory 64MB
grep -q "applies to the rocksdb backend only" "$TMP/err" && pass "--state-memory misuse says why" || fail "--state-memory misuse says why" "$(cat "$TMP/err")"
expect_exit "run: a bad --state-memory exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-memory lots
expect_exit "run: an unknown backend exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-backend hbase

# Dead letters carry line, byte offset and reason.
if python3 - "$TMP/card_velocity.dead" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all({"source", "line", "offset", "reason", "record"} <= set(r) for r in rows), rows
raw = open("jobs/card_velocity.input.jsonl", "rb").read()
for r in rows:
    line_start = sum(len(l) for l in raw.splitlines(keepends=True)[: r["line"] - 1])
    assert line_start <= r["offset"] < line_start + len(r["record"]) + 1, r
    assert raw.splitlines()[r["line"] - 1].decode() == r["record"], r
print("ok")
PY
then pass "dead letters name line, offset and reason"; else fail "dead letters name line, offset and reason"; fi

# Exit codes
expect_exit "validate: valid spec exits 0" 0 "$EDDY" validate jobs/card_velocity.json
grep -q "card_velocity: valid" "$TMP/out" && pass "validate prints a summary" || fail "validate prints a summary" "$(cat "$TMP/out")"
echo '{"code":"x","keys":["k"],"dict":[{"name":"s","operator":"summ","field":"a"}]}' >"$TMP/bad.json"
expect_exit "validate: invalid spec exits 2" 2 "$EDDY" validate "$TMP/bad.json"
grep -q 'dict\[0\].operator: unknown operator "summ"; did you mean "sum"?' "$TMP/err" && pass "validate names the path and suggests" || fail "validate names the path and suggests" "$(cat "$TMP/err")"
expect_exit "run: invalid spec exits 2" 2 "$EDDY" run "$TMP/bad.json" jobs/card_velocity.input.jsonl
expect_exit "run: bad record with --on-bad-record fail exits 3" 3 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --on-bad-record fail
grep -q "card_velocity.input.jsonl:[0-9]* (byte [0-9]*): missing key column \"card_id\"" "$TMP/err" && pass "fail message names file, line, byte and reason" || fail "fail message names file, line, byte and reason" "$(cat "$TMP/err")"
expect_exit "run: missing input exits 1" 1 "$EDDY" run jobs/card_velocity.json "$TMP/no-such-file.jsonl"
expect_exit "run: a missing second input exits 1 before reading the first" 1 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl "$TMP/no-such-file.jsonl" -o "$TMP/partial.out"
[ ! -s "$TMP/partial.out" ] && grep -q "cannot open $TMP/no-such-file.jsonl: No such file or directory" "$TMP/err" && pass "a missing input is reported before any output" || fail "a missing input is reported before any output" "$(cat "$TMP/err")"
expect_exit "run: unreadable input exits 1" 1 "$EDDY" run jobs/card_velocity.json "$TMP"
grep -q "$TMP: cannot read input: Is a directory" "$TMP/err" && pass "read errors name the input" || fail "read errors name the input" "$(cat "$TMP/err")"
expect_exit "run: a directory as the second input exits 1 before reading the first" 1 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl "$TMP" -o "$TMP/partial-dir.out"
[ ! -s "$TMP/partial-dir.out" ] && grep -q "$TMP: cannot read input: Is a directory" "$TMP/err" && pass "a directory input is reported before any output" || fail "a directory input is reported before any output" "$(cat "$TMP/err"; head -c 300 "$TMP/partial-dir.out")"
printf 'ts,,host\n1,2,3\n' >"$TMP/badheader.csv"
expect_exit "run: one file named twice as an input exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl ./jobs/card_velocity.input.jsonl --state-backend memory
grep -q "names the same file as jobs/card_velocity.input.jsonl" "$TMP/err" && pass "an input named twice is refused with both names" || fail "an input named twice is refused with both names" "$(cat "$TMP/err")"
cp jobs/card_velocity.input.jsonl "$TMP/own-input.jsonl"
expect_exit "run: an output naming its input exits 64" 64 "$EDDY" run jobs/card_velocity.json "$TMP/own-input.jsonl" -o "$TMP/./own-input.jsonl" --state-backend memory
cmp -s "$TMP/own-input.jsonl" jobs/card_velocity.input.jsonl && grep -q "is the input $TMP/own-input.jsonl" "$TMP/err" && pass "an output naming its input leaves the input whole" || fail "an output naming its input leaves the input whole" "$(cat "$TMP/err")"
cp jobs/card_velocity.json "$TMP/own-job.json"
ln -f "$TMP/own-input.jsonl" "$TMP/hard-link.jsonl"
expect_exit "run: an output that is a hard link of its input exits 64" 64 "$EDDY" run jobs/card_velocity.json "$TMP/own-input.jsonl" -o "$TMP/hard-link.jsonl" --state-backend memory
cmp -s "$TMP/own-input.jsonl" jobs/card_velocity.input.jsonl && pass "and leaves the input whole" || fail "and leaves the input whole" "$(cat "$TMP/err")"
expect_exit "run: two outputs to /dev/null are fine" 0 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl -o /dev/null --dead-letter /dev/null --state-backend memory -q
expect_exit "run: an output naming the job exits 64" 64 "$EDDY" run "$TMP/own-job.json" jobs/card_velocity.input.jsonl --dead-letter "$TMP/own-job.json" --state-backend memory
expect_exit "run: two outputs in one file exit 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl -o "$TMP/both.out" --late-output "$TMP/both.out" --state-backend memory
grep -q "late-output $TMP/both.out is the same file as --output" "$TMP/err" && pass "two outputs in one file are named" || fail "two outputs in one file are named" "$(cat "$TMP/err")"
expect_exit "run: one directory for state and checkpoints exits 64" 64 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-dir "$TMP/shared-dir" --checkpoint-dir "$TMP/shared-dir"
grep -q "checkpoint-dir and --state-dir are the same directory" "$TMP/err" && pass "a shared state and checkpoint directory is named" || fail "a shared state and checkpoint directory is named" "$(cat "$TMP/err")"
expect_exit "run: bad CSV header exits 1" 1 "$EDDY" run jobs/host_metrics.json "$TMP/badheader.csv"
grep -q "badheader.csv: line 1 (byte 3): bad CSV header: column 2 has an empty name" "$TMP/err" && pass "bad CSV header names file, line and byte" || fail "bad CSV header names file, line and byte" "$(cat "$TMP/err")"
printf '\n\nts,host,host\n1,2,3\n' >"$TMP/lateheader.csv"
expect_exit "run: a bad CSV header after blank lines exits 1" 1 "$EDDY" run jobs/host_metrics.json "$TMP/lateheader.csv"
grep -q "lateheader.csv: line 3 (byte 10): bad CSV header: duplicate column name" "$TMP/err" && pass "a bad CSV header after blank lines is found on its line" || fail "a bad CSV header after blank lines is found on its line" "$(cat "$TMP/err")"
expect_exit "run: unknown flag exits 64" 64 "$EDDY" run jobs/card_velocity.json --no-such-flag
expect_exit "plan exits 0" 0 "$EDDY" plan jobs/card_velocity.json
grep -q "key-by   card_id" "$TMP/out" && pass "plan shows the key-by stage" || fail "plan shows the key-by stage" "$(cat "$TMP/out")"
expect_exit "quiet run prints nothing on stderr" 0 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --quiet
[ ! -s "$TMP/err" ] && pass "quiet stderr is empty" || fail "quiet stderr is empty" "$(cat "$TMP/err")"

# CSV output: a header, then one row per emitted event
"$EDDY" run jobs/host_metrics.json jobs/host_metrics.input.csv --output "$TMP/hosts.csv" --quiet
read -r _ emitted _ _ <jobs/host_metrics.expected.counts
rows=$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1])))))' "$TMP/hosts.csv")
[ "$rows" = $((emitted + 1)) ] && pass "csv output has a header and one row per event" || fail "csv output rows" "$rows rows"
head -1 "$TMP/hosts.csv" | grep -q '^host,ts,path,requests,' && pass "csv header lists the columns" || fail "csv header lists the columns" "$(head -1 "$TMP/hosts.csv")"

# A slow stream (tail -f style): what the watermark releases is written before input ends.
mkfifo "$TMP/stream"
"$EDDY" run jobs/card_velocity.json --output "$TMP/stream.out" --quiet <"$TMP/stream" &
eddy_pid=$!
exec 3>"$TMP/stream"
printf '{"card_id":"a","amount":1,"ts":1000}\n{"card_id":"a","amount":2,"ts":20000}\n' >&3
sleep 1
early=$(wc -l <"$TMP/stream.out")
exec 3>&-
wait $eddy_pid
late_lines=$(wc -l <"$TMP/stream.out")
[ "$early" = 1 ] && [ "$late_lines" = 2 ] && pass "a paused stream gets its released records out" || fail "a paused stream gets its released records out" "before end: $early lines (want 1), after: $late_lines (want 2)"

# Randomized differential run: generated card events, tight watermark (late events), reference vs eddy.
for seed in 1 2; do
    python3 Tests/support/gen_events.py --events 4000 --keys 60 --seed $seed --out-of-order-ms 3000 --out "$TMP/gen.jsonl"
    sed 's/"watermark": "5s"/"watermark": "1s"/' jobs/card_velocity.json >"$TMP/gen-job.json"
    python3 $HERE/reference.py "$TMP/gen-job.json" "$TMP/gen.jsonl" >"$TMP/gen.expected" 2>"$TMP/gen.counts"
    "$EDDY" run "$TMP/gen-job.json" "$TMP/gen.jsonl" --output "$TMP/gen.out" 2>"$TMP/gen.err"
    if diff=$(python3 $HERE/compare.py "$TMP/gen.out" "$TMP/gen.expected"); then pass "generated events (seed $seed) match the reference"; else fail "generated events (seed $seed) match the reference" "$diff"; fi
    expect_counts "generated events (seed $seed) counts" "$(cat "$TMP/gen.counts")" "$TMP/gen.err"
done

# Windowed jobs against the reference on generated events, windows so short that many events
# are late for all their windows and, hopping, stragglers still join the windows not yet fired.
for seed in 1 2; do
    python3 Tests/support/gen_events.py --events 4000 --keys 60 --seed $seed --out-of-order-ms 3000 --out "$TMP/gen.jsonl"
    for emit in '{"tumbling": "1s"}' '{"hopping": {"size": "2s", "slide": "1s"}}' '{"session": {"gap": "50ms"}}' '{"session": {"gap": "300ms"}}'; do
        python3 -c 'import json, sys; spec = json.load(open(sys.argv[1])); spec["watermark"] = "1s"; spec["emit"] = json.loads(sys.argv[2]); json.dump(spec, open(sys.argv[3], "w"))' \
            jobs/card_windows.json "$emit" "$TMP/gen-windows.json"
        python3 $HERE/reference.py "$TMP/gen-windows.json" "$TMP/gen.jsonl" >"$TMP/gen.expected" 2>"$TMP/gen.counts"
        "$EDDY" run "$TMP/gen-windows.json" "$TMP/gen.jsonl" --parallelism 2 --state-dir "$TMP/gen-state" --output "$TMP/gen.out" 2>"$TMP/gen.err"
        if diff=$(python3 $HERE/compare.py "$TMP/gen.out" "$TMP/gen.expected"); then pass "windows $emit on generated events (seed $seed) match the reference"; else fail "windows $emit on generated events (seed $seed) match the reference" "$diff"; fi
        expect_counts "windows $emit (seed $seed) counts" "$(cat "$TMP/gen.counts")" "$TMP/gen.err"
    done
done
"$EDDY" plan jobs/card_sessions.json >"$TMP/out" && grep -q "sessions per key: events at most 15m apart" "$TMP/out" && pass "plan shows sessions" || fail "plan shows sessions" "$(cat "$TMP/out")"
"$EDDY" plan jobs/card_windows.json >"$TMP/out" && grep -q "hopping windows of 10m every 5m" "$TMP/out" && pass "plan shows the windows" || fail "plan shows the windows" "$(cat "$TMP/out")"

# State TTL against the reference: a key not updated for 150ms starts over; the run ends with
# only the keys updated within the TTL of the last watermark.
for seed in 1 2; do
    python3 Tests/support/gen_events.py --events 4000 --keys 60 --seed $seed --out-of-order-ms 3000 --out "$TMP/gen.jsonl"
    python3 -c 'import json, sys; spec = json.load(open(sys.argv[1])); spec["watermark"] = "1s"; spec["ttl"] = "150ms"; json.dump(spec, open(sys.argv[2], "w"))' \
        jobs/card_velocity.json "$TMP/gen-ttl.json"
    python3 $HERE/reference.py "$TMP/gen-ttl.json" "$TMP/gen.jsonl" >"$TMP/gen.expected" 2>"$TMP/gen.counts"
    "$EDDY" run "$TMP/gen-ttl.json" "$TMP/gen.jsonl" --parallelism 2 --state-dir "$TMP/gen-state" --output "$TMP/gen.out" 2>"$TMP/gen.err"
    if diff=$(python3 $HERE/compare.py "$TMP/gen.out" "$TMP/gen.expected"); then pass "ttl 150ms on generated events (seed $seed) matches the reference"; else fail "ttl 150ms on generated events (seed $seed) matches the reference" "$diff"; fi
    grep -qE "; [0-9] keys;" "$TMP/gen.err" && pass "ttl (seed $seed): expired keys are removed, not just hidden" || fail "ttl (seed $seed): expired keys are removed, not just hidden" "$(cat "$TMP/gen.err")"
done

# Checkpoints and resume.
python3 Tests/support/gen_events.py --events 30000 --keys 300 --seed 5 --out "$TMP/ck.jsonl"
"$EDDY" run jobs/card_velocity.json "$TMP/ck.jsonl" --state-backend memory --parallelism 1 -q -o "$TMP/ck.expected"
ck() { "$EDDY" run jobs/card_velocity.json --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" "$@"; }

# A second run on the same checkpoint directory is refused, naming the holder.
mkfifo "$TMP/ck-fifo"
"$EDDY" run jobs/card_velocity.json - --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" -q -o "$TMP/ck-held.out" <"$TMP/ck-fifo" 2>/dev/null &
holder=$!
exec 4>"$TMP/ck-fifo"
sleep 0.5
expect_exit "a second run on a locked checkpoint directory exits 1" 1 ck "$TMP/ck.jsonl" -q -o "$TMP/ck-second.out"
grep -q "is in use by eddy pid $holder" "$TMP/err" && pass "the lock message names the holder" || fail "the lock message names the holder" "$(cat "$TMP/err")"

# SIGTERM: a checkpoint, then exit 143; resuming with the replayed stream completes the output.
head -n 12000 "$TMP/ck.jsonl" >&4
sleep 0.5
kill -TERM $holder
wait $holder
code=$?
exec 4>&-
[ "$code" = 143 ] && pass "SIGTERM exits 143 after a checkpoint" || fail "SIGTERM exits 143 after a checkpoint" "exit $code"
ck - --resume latest -o "$TMP/ck-held.out" <"$TMP/ck.jsonl" 2>"$TMP/err"
grep -q "resuming from checkpoint" "$TMP/err" && pass "resume says which checkpoint" || fail "resume says which checkpoint" "$(cat "$TMP/err")"
cmp -s "$TMP/ck-held.out" "$TMP/ck.expected" && pass "stopped by SIGTERM and resumed: output identical to one run" || fail "stopped by SIGTERM and resumed: output identical to one run" "$(cmp "$TMP/ck-held.out" "$TMP/ck.expected" 2>&1)"
"$EDDY" checkpoints list "$TMP/ck-dir" >"$TMP/out" && grep -q "chk-000002 .* rocksdb  30000 events" "$TMP/out" && pass "checkpoints list shows id, backend and events" || fail "checkpoints list shows id, backend and events" "$(cat "$TMP/out")"
expect_exit "checkpoints verify exits 0 on good checkpoints" 0 "$EDDY" checkpoints verify "$TMP/ck-dir"
expect_exit "checkpoints verify exits 1 on a directory that does not exist" 1 "$EDDY" checkpoints verify "$TMP/no-such-ck-dir"
grep -q "no-such-ck-dir: no such checkpoint directory" "$TMP/err" && pass "and says so" || fail "and says so" "$(cat "$TMP/err")"
mkdir -p "$TMP/ck-root" && cp -r "$TMP/ck-dir" "$TMP/ck-root/card_velocity"
expect_exit "checkpoints verify exits 1 on the root of the jobs' directories, where nothing verifies" 1 "$EDDY" checkpoints verify "$TMP/ck-root"
grep -q "no checkpoints in $TMP/ck-root to verify: it holds a directory per job; name one, e.g. $TMP/ck-root/card_velocity" "$TMP/err" && pass "and names a job's directory to give" || fail "and names a job's directory to give" "$(cat "$TMP/err")"

# Resuming a replayed stdin that is not the same stream is an error, not a double count.
sed 's/"c0/"x0/' "$TMP/ck.jsonl" >"$TMP/ck-other.jsonl"
rm -rf "$TMP/ck-dir" "$TMP/ck-state"
ck - -q -o "$TMP/ck-other.out" --checkpoint-every 5000 <"$TMP/ck.jsonl"
expect_exit "resuming with a different stdin exits 1" 1 ck - --resume latest -q -o "$TMP/ck-other.out" <"$TMP/ck-other.jsonl"
grep -q "differs from the one the checkpoint read" "$TMP/err" && pass "a different stdin is detected by its fingerprint" || fail "a different stdin is detected by its fingerprint" "$(cat "$TMP/err")"
expect_exit "resuming with another backend exits 1" 1 ck "$TMP/ck.jsonl" --resume latest --state-backend fs -q -o "$TMP/ck-other.out"
grep -q "holds rocksdb state; resume it with --state-backend rocksdb" "$TMP/err" && pass "another backend is refused with the fix" || fail "another backend is refused with the fix" "$(cat "$TMP/err")"

# Tomorrow's file: day 1 with --no-drain, day 2 resumed: one run over both.
head -n 15000 "$TMP/ck.jsonl" >"$TMP/day1.jsonl"
tail -n +15001 "$TMP/ck.jsonl" >"$TMP/day2.jsonl"
for backend in fs rocksdb; do
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    ck "$TMP/day1.jsonl" --state-backend $backend --no-drain -q -o "$TMP/days.out"
    ck "$TMP/day2.jsonl" --state-backend $backend --resume latest -q -o "$TMP/days.out"
    cmp -s "$TMP/days.out" "$TMP/ck.expected" && pass "$backend: day 1 (--no-drain) then day 2 (--resume) equals one run" || fail "$backend: day 1 (--no-drain) then day 2 (--resume) equals one run" "$(cmp "$TMP/days.out" "$TMP/ck.expected" 2>&1)"
done

# A growing file cut in the middle of a line: --no-drain leaves the half line unread (and
# says so), the resumed run reads it whole once the writer has finished it.
for backend in fs rocksdb; do
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    head -c 1000000 "$TMP/ck.jsonl" >"$TMP/growing.jsonl"
    ck "$TMP/growing.jsonl" --state-backend $backend --no-drain -o "$TMP/growing.out" --dead-letter "$TMP/growing.dead" 2>"$TMP/err"
    grep -q "bytes of a last line without its newline left unread for the next --resume" "$TMP/err" && pass "$backend: --no-drain leaves a half-written last line unread" || fail "$backend: --no-drain leaves a half-written last line unread" "$(cat "$TMP/err")"
    cp "$TMP/ck.jsonl" "$TMP/growing.jsonl"
    ck "$TMP/growing.jsonl" --state-backend $backend --resume latest -q -o "$TMP/growing.out" --dead-letter "$TMP/growing.dead"
    cmp -s "$TMP/growing.out" "$TMP/ck.expected" && [ ! -s "$TMP/growing.dead" ] && pass "$backend: the resumed run reads the finished line and equals one run" || fail "$backend: the resumed run reads the finished line and equals one run" "$(cmp "$TMP/growing.out" "$TMP/ck.expected" 2>&1; head -c 300 "$TMP/growing.dead")"
done

# Spec evolution: day 2 resumed by the card job with a feature dropped (--allow-drop), two
# added and the rest reordered. The kept features go on exactly as an unchanged job's; an
# added count starts empty: it counts the key's records emitted since the resume, peers
# included. With and without a drain, on fs and rocksdb (evicting every key).
python3 - "$TMP/evolved.json" <<'PY'
import json, sys
job = json.load(open("jobs/card_velocity.json"))
kept = [f for f in job["dict"] if f["name"] != "amount_max"]
job["dict"] = [kept[4]] + kept[:4] + kept[5:] + [{"name": "n_since", "operator": "count"}, {"name": "sum_10m", "operator": "sum", "field": "amount", "window": "10m"}]
json.dump(job, open(sys.argv[1], "w"))
PY
for variant in "fs" "fs --no-drain" "rocksdb --state-memory 1KB" "rocksdb --state-memory 1KB --no-drain"; do
    # shellcheck disable=SC2086 # the variant is a backend and flags
    set -- --state-backend $variant
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    ck "$TMP/day1.jsonl" "$@" -q -o "$TMP/same.out"
    # shellcheck disable=SC2086 # the backend and its flags, without --no-drain
    ck "$TMP/day2.jsonl" --state-backend ${variant% --no-drain} --resume latest -q -o "$TMP/same.out"
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    ck "$TMP/day1.jsonl" "$@" -q -o "$TMP/evolved.out"
    # shellcheck disable=SC2086 # the backend and its flags, without --no-drain
    "$EDDY" run "$TMP/evolved.json" "$TMP/day2.jsonl" --state-backend ${variant% --no-drain} --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --resume latest -o "$TMP/evolved.out" 2>"$TMP/err"
    code=$?
    [ $code = 1 ] && grep -q 'feature "amount_max": max(amount) over all events -> removed (a resume drops its state only with --allow-drop)' "$TMP/err" \
        && pass "evolution ($variant): dropping a feature without --allow-drop is refused, naming it" || fail "evolution ($variant): dropping a feature without --allow-drop is refused, naming it" "exit $code: $(cat "$TMP/err")"
    # shellcheck disable=SC2086 # the backend and its flags, without --no-drain
    "$EDDY" run "$TMP/evolved.json" "$TMP/day2.jsonl" --state-backend ${variant% --no-drain} --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --resume latest --allow-drop -o "$TMP/evolved.out" 2>"$TMP/err"
    grep -q 'added "n_since", "sum_10m" (starting empty); dropped "amount_max"' "$TMP/err" || fail "evolution ($variant): the change is announced" "$(cat "$TMP/err")"
    if verdict=$(python3 - "$TMP/same.out" "$TMP/evolved.out" <<'PY'
import json, sys
same = [json.loads(line) for line in open(sys.argv[1])]
evolved = [json.loads(line) for line in open(sys.argv[2])]
assert len(same) == len(evolved), f"{len(same)} records against {len(evolved)}"
kept = ["card_id", "ts", "txn_count", "amount_sum_1h", "amount_avg", "last_merchant", "merchants_1d", "recent_amounts"]
for index, (a, b) in enumerate(zip(same, evolved)):
    for column in kept:
        assert a[column] == b[column], f"record {index + 1}: {column} {a[column]} against {b[column]}"
first = next(i for i, b in enumerate(evolved) if "n_since" in b)
assert all("n_since" not in b and "amount_max" in b for b in evolved[:first]) and first > 0
since = {}
for b in evolved[first:]:
    since.setdefault(b["card_id"], []).append(b["ts"])
for index, b in enumerate(evolved[first:], first):
    assert "amount_max" not in b and list(b)[2] == "merchants_1d", f"record {index + 1}: {list(b)}"
    expected = sum(1 for t in since[b["card_id"]] if t <= b["ts"])
    assert b["n_since"] == expected, f"record {index + 1}: n_since {b['n_since']}, expected {expected}"
PY
    ); then pass "evolution ($variant): kept features go on unchanged, an added count starts empty"; else fail "evolution ($variant): kept features go on unchanged, an added count starts empty" "$verdict"; fi
done
# The evolved run's checkpoint stores the evolved spec: plan --against shows the original
# job adding amount_max back (accepted) and dropping the two added (refused without --allow-drop).
expect_exit "plan --against an evolved checkpoint with the original job exits 4" 4 "$EDDY" plan jobs/card_velocity.json --against latest --checkpoint-dir "$TMP/ck-dir" --state-backend rocksdb
grep -q 'feature "amount_max": absent -> added: max(amount) over all events (starts empty)' "$TMP/out" && grep -q 'feature "n_since": count(\*) over all events -> removed' "$TMP/out" \
    && pass "and lists the feature added back and the two it would drop" || fail "and lists the feature added back and the two it would drop" "$(cat "$TMP/out")"
expect_exit "plan --against with --allow-drop exits 0" 0 "$EDDY" plan jobs/card_velocity.json --against latest --checkpoint-dir "$TMP/ck-dir" --state-backend rocksdb --allow-drop

# Late events from inputs of different layouts: each layout gets a block of its own (a blank
# line, then a CSV input's header), never rows under another input's header; a resumed run
# continues the block the checkpoint ended in.
echo '{"code":"wm","keys":["k"],"time":"ts","dict":[{"name":"n","operator":"count"},{"name":"s","operator":"sum","field":"v"}]}' >"$TMP/wm.json"
printf '{"k":"a","ts":5000,"v":1}\n{"k":"a","ts":100,"v":9}\n' >"$TMP/late1.jsonl"
printf 'k,ts,v\na,5000,1\na,100,9\n' >"$TMP/late1.csv"
printf 'k,ts,v\na,200,2\n' >"$TMP/late2.csv"
printf 'v,ts,k\n3,300,a\n' >"$TMP/late3.csv"
printf '{"k":"a","ts":100,"v":9}\n\nk,ts,v\na,200,2\n\nv,ts,k\n3,300,a\n' >"$TMP/late-mixed.expected"
"$EDDY" run "$TMP/wm.json" "$TMP/late1.jsonl" "$TMP/late2.csv" "$TMP/late3.csv" --state-backend memory -q \
    --late-output "$TMP/late-mixed" >/dev/null
cmp -s "$TMP/late-mixed" "$TMP/late-mixed.expected" && pass "late events of JSON Lines and two CSV headers: one block each" || fail "late events of JSON Lines and two CSV headers: one block each" "$(cat -A "$TMP/late-mixed")"
printf 'k,ts,v\na,100,9\na,200,2\n\nv,ts,k\n3,300,a\n' >"$TMP/late-days.expected"
rm -rf "$TMP/late-state" "$TMP/late-ck"
late_run() { "$EDDY" run "$TMP/wm.json" "$@" --state-dir "$TMP/late-state" --checkpoint-dir "$TMP/late-ck" -q --late-output "$TMP/late-days" -o "$TMP/late-days.out"; }
late_run "$TMP/late1.csv" --no-drain
late_run "$TMP/late2.csv" "$TMP/late3.csv" --resume latest 2>/dev/null
cmp -s "$TMP/late-days" "$TMP/late-days.expected" && pass "a resumed run's late rows continue the CSV block of the same header" || fail "a resumed run's late rows continue the CSV block of the same header" "$(cat -A "$TMP/late-days")"

# Integer keys past 64 bits stay apart even when they round to one double, and print exactly.
printf '{"card_id":12345678901234567890,"merchant":"m","amount":1,"ts":1700000000000}\n{"card_id":12345678901234567891,"merchant":"m","amount":1,"ts":1700000000001}\n' >"$TMP/bigkeys.jsonl"
"$EDDY" run jobs/card_velocity.json "$TMP/bigkeys.jsonl" --state-backend memory -o "$TMP/bigkeys.out" 2>"$TMP/err"
grep -q "2 events read: 2 emitted, 0 late, 0 rejected; 2 keys" "$TMP/err" && grep -q '"card_id":12345678901234567891,.*"txn_count":1' "$TMP/bigkeys.out" && pass "integer keys past Int64 are two keys, printed exactly" || fail "integer keys past Int64 are two keys, printed exactly" "$(cat "$TMP/err" "$TMP/bigkeys.out")"

# Broadcast state: a side input every worker sees, read by lookup features.
risk() { "$EDDY" run jobs/card_risk.json "$@"; }
for variant in "--state-backend memory" "--state-backend rocksdb --parallelism 3 --state-dir $TMP/risk-state" "--state-backend fs --parallelism 2 --state-dir $TMP/risk-state"; do
    # shellcheck disable=SC2086 # the variant is flags
    risk jobs/card_velocity.input.jsonl --broadcast merchants=jobs/card_risk.merchants.csv $variant \
        --quiet -o "$TMP/risk.out" 2>"$TMP/err"
    if diff=$(python3 $HERE/compare.py "$TMP/risk.out" jobs/card_risk.expected.jsonl); then pass "card_risk ($variant): lookups match the reference"; else fail "card_risk ($variant): lookups match the reference" "$diff $(cat "$TMP/err")"; fi
done
expect_exit "a lookup without its --broadcast exits 1" 1 risk jobs/card_velocity.input.jsonl --state-backend memory
grep -q 'broadcast input "merchants" (read by "merchant_tier", "merchant_city") is not loaded: give it with --broadcast merchants=FILE' "$TMP/err" && pass "a missing broadcast input names the fix" || fail "a missing broadcast input names the fix" "$(cat "$TMP/err")"
echo "kept" >"$TMP/kept.out"
risk jobs/card_velocity.input.jsonl --state-backend memory -o "$TMP/kept.out" 2>/dev/null
[ "$(cat "$TMP/kept.out")" = kept ] && pass "a run refused for a missing broadcast input leaves its output untouched" || fail "a run refused for a missing broadcast input leaves its output untouched" "$(head -c 200 "$TMP/kept.out")"
sed 's/"column": "tier"/"column": "tierr"/' jobs/card_risk.json >"$TMP/risk-typo.json"
"$EDDY" run "$TMP/risk-typo.json" jobs/card_velocity.input.jsonl --state-backend memory --broadcast merchants=jobs/card_risk.merchants.csv -q -o "$TMP/typo.out" 2>"$TMP/err"
grep -q 'broadcast merchants: no row has a column "tierr", so "merchant_tier" is null for every event' "$TMP/err" && pass "a lookup column no row has is reported" || fail "a lookup column no row has is reported" "$(cat "$TMP/err")"
expect_exit "--broadcast of a name no lookup reads exits 1" 1 risk jobs/card_velocity.input.jsonl --state-backend memory --broadcast merchants=jobs/card_risk.merchants.csv --broadcast tiers=x.csv
grep -q 'no lookup in the job reads it (its lookups read "merchants")' "$TMP/err" && pass "an unused broadcast name says which are read" || fail "an unused broadcast name says which are read" "$(cat "$TMP/err")"
expect_exit "--broadcast without NAME= exits 64" 64 risk jobs/card_velocity.input.jsonl --broadcast jobs/card_risk.merchants.csv
printf 'merchant,tier\n"m001,low\n' >"$TMP/bad-side.csv"
expect_exit "a broken broadcast file exits 1" 1 risk jobs/card_velocity.input.jsonl --state-backend memory --broadcast merchants="$TMP/bad-side.csv"
grep -q "broadcast merchants ($TMP/bad-side.csv): line 2" "$TMP/err" && pass "a broken broadcast file names its line" || fail "a broken broadcast file names its line" "$(cat "$TMP/err")"
"$EDDY" plan jobs/card_risk.json | grep -q "broadcast merchants (--broadcast merchants=FILE) -> every worker" && pass "plan shows the broadcast input" || fail "plan shows the broadcast input" "$("$EDDY" plan jobs/card_risk.json)"
# Checkpointed once: a resumed run without --broadcast uses the checkpoint's copy; with a new
# file, the new rows apply from there on, and later resumes keep them.
head -n 20 jobs/card_velocity.input.jsonl >"$TMP/risk1.jsonl"
tail -n +21 jobs/card_velocity.input.jsonl >"$TMP/risk2.jsonl"
rkc() { risk --state-dir "$TMP/rk-state" --checkpoint-dir "$TMP/rk-dir" "$@"; }
rkc "$TMP/risk1.jsonl" --broadcast merchants=jobs/card_risk.merchants.csv --parallelism 2 --no-drain -q -o "$TMP/rk.out"
ls "$TMP/rk-dir/chk-000001/broadcast/merchants.jsonl" >/dev/null 2>&1 && pass "the checkpoint keeps the broadcast input once" || fail "the checkpoint keeps the broadcast input once" "$(ls -R "$TMP/rk-dir" | head -20)"
rkc "$TMP/risk2.jsonl" --resume latest --parallelism 1 -q -o "$TMP/rk.out"
cmp -s "$TMP/rk.out" "$TMP/risk.out" && pass "resumed without --broadcast: the checkpoint's copy gives one run's output" || fail "resumed without --broadcast: the checkpoint's copy gives one run's output" "$(cmp "$TMP/rk.out" "$TMP/risk.out" 2>&1)"
rm -rf "$TMP/rk-state" "$TMP/rk-dir"
rkc "$TMP/risk1.jsonl" --broadcast merchants=jobs/card_risk.merchants.csv --no-drain -q -o "$TMP/rk.out"
bytes=$(stat -c %s "$TMP/rk.out")
rkc "$TMP/risk2.jsonl" --resume latest --broadcast merchants=jobs/card_risk.merchants-v2.jsonl -o "$TMP/rk.out" 2>"$TMP/err"
grep -q "broadcast merchants: 2 rows from jobs/card_risk.merchants-v2.jsonl replace the checkpoint's" "$TMP/err" && pass "a new broadcast file on resume is announced" || fail "a new broadcast file on resume is announced" "$(cat "$TMP/err")"
tail -c +$((bytes + 1)) "$TMP/rk.out" >"$TMP/rk-after.out"
if python3 - "$TMP/rk-after.out" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
tiers = {r["merchant_tier"] for r in records}
# m001 is "medium" and m006 "blocked" in v2; v1's tiers (high, low) are gone: m002..m005 are not in v2.
assert tiers <= {"medium", "blocked", None}, tiers
assert "blocked" in tiers and "medium" in tiers, tiers
PY
then pass "after the resume, lookups read the new broadcast rows"; else fail "after the resume, lookups read the new broadcast rows"; fi

# Rescaling: three days, with 4, then 2, then 1 workers, each resumed from the last one's
# checkpoint: each worker takes exactly its key groups, so the output equals one run's.
head -n 10000 "$TMP/ck.jsonl" >"$TMP/part1.jsonl"
sed -n 10001,20000p "$TMP/ck.jsonl" >"$TMP/part2.jsonl"
tail -n +20001 "$TMP/ck.jsonl" >"$TMP/part3.jsonl"
for backend in fs rocksdb; do
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    ck "$TMP/part1.jsonl" --state-backend $backend --parallelism 4 --no-drain -q -o "$TMP/days.out"
    ck "$TMP/part2.jsonl" --state-backend $backend --parallelism 2 --resume latest --no-drain -q -o "$TMP/days.out"
    ck "$TMP/part3.jsonl" --state-backend $backend --parallelism 1 --resume latest -q -o "$TMP/days.out"
    cmp -s "$TMP/days.out" "$TMP/ck.expected" && pass "$backend: rescaled 4 -> 2 -> 1 workers across resumes, equals one run" || fail "$backend: rescaled 4 -> 2 -> 1 workers across resumes, equals one run" "$(cmp "$TMP/days.out" "$TMP/ck.expected" 2>&1)"
done
"$EDDY" checkpoints list "$TMP/ck-dir" >"$TMP/out" && grep -q "1 worker" "$TMP/out" && pass "checkpoints list shows the workers that wrote each" || fail "checkpoints list shows the workers that wrote each" "$(cat "$TMP/out")"
expect_exit "resuming with another maxParallelism exits 1" 1 ck "$TMP/part3.jsonl" --resume latest --max-parallelism 64 -q -o "$TMP/days.out"
grep -q "key groups cannot change" "$TMP/err" && pass "another maxParallelism is refused with the fix" || fail "another maxParallelism is refused with the fix" "$(cat "$TMP/err")"

# TTL across resumes: when each key was last updated is part of its state.
python3 -c 'import json, sys; spec = json.load(open(sys.argv[1])); spec["ttl"] = "200ms"; json.dump(spec, open(sys.argv[2], "w"))' jobs/card_velocity.json "$TMP/ttl.json"
"$EDDY" run "$TMP/ttl.json" "$TMP/ck.jsonl" --state-backend memory -q -o "$TMP/ckt.expected"
for backend in fs rocksdb; do
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    "$EDDY" run "$TMP/ttl.json" "$TMP/part1.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --state-backend $backend --parallelism 2 --no-drain -q -o "$TMP/ckt.out"
    "$EDDY" run "$TMP/ttl.json" "$TMP/part2.jsonl" "$TMP/part3.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --state-backend $backend --resume latest -q -o "$TMP/ckt.out"
    cmp -s "$TMP/ckt.out" "$TMP/ckt.expected" && pass "$backend: a TTL job resumed (2 workers, then 1) equals one run" || fail "$backend: a TTL job resumed (2 workers, then 1) equals one run" "$(cmp "$TMP/ckt.out" "$TMP/ckt.expected" 2>&1)"
done
cmp -s "$TMP/ckt.expected" "$TMP/ck.expected" && fail "the TTL changes the card job's results" || pass "the TTL changes the card job's results"

# Windows across resumes: open windows are buffered events, so they are checkpointed, rescaled
# and fired after the resume as in one run.
for windowed in card_windows card_sessions; do
"$EDDY" run jobs/$windowed.json "$TMP/ck.jsonl" --state-backend memory -q -o "$TMP/ckw.expected"
for backend in fs rocksdb; do
    rm -rf "$TMP/ck-dir" "$TMP/ck-state"
    "$EDDY" run jobs/$windowed.json "$TMP/part1.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --state-backend $backend --parallelism 2 --no-drain -q -o "$TMP/ckw.out"
    "$EDDY" run jobs/$windowed.json "$TMP/part2.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --state-backend $backend --parallelism 1 --resume latest --no-drain -q -o "$TMP/ckw.out"
    "$EDDY" run jobs/$windowed.json "$TMP/part3.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --state-backend $backend --parallelism 3 --resume latest -q -o "$TMP/ckw.out"
    cmp -s "$TMP/ckw.out" "$TMP/ckw.expected" && pass "$backend: $windowed across three resumes (2, 1, 3 workers) equals one run" || fail "$backend: $windowed across three resumes (2, 1, 3 workers) equals one run" "$(cmp "$TMP/ckw.out" "$TMP/ckw.expected" 2>&1)"
done
done
rm -rf "$TMP/ck-dir" "$TMP/ck-state"
"$EDDY" run jobs/card_windows.json "$TMP/part1.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --no-drain -q -o "$TMP/ckw.out"
sed 's/"slide": "5m"/"slide": "2m"/' jobs/card_windows.json >"$TMP/other-windows.json"
expect_exit "resuming windows with another emit exits 1" 1 "$EDDY" run "$TMP/other-windows.json" "$TMP/part2.jsonl" --state-dir "$TMP/ck-state" --checkpoint-dir "$TMP/ck-dir" --resume latest -q -o "$TMP/ckw.out"


# A damaged newest checkpoint is skipped for the one before; a lost local copy comes from the mirror.
rm -rf "$TMP/ck-dir" "$TMP/ck-state" "$TMP/ck-mirror"
ck "$TMP/day1.jsonl" --state-backend fs --no-drain --checkpoint-every 4000 --mirror "$TMP/ck-mirror" -q -o "$TMP/days.out"
newest=$(ls -d "$TMP/ck-dir"/chk-* | tail -1)
printf 'garbage' >>"$(ls "$newest"/state/kg-* | head -1)"
expect_exit "checkpoints verify exits 1 on a damaged checkpoint" 1 "$EDDY" checkpoints verify "$TMP/ck-dir"
rm -rf "$TMP/ck-mirror/card_velocity/$(basename "$newest")"
# The older checkpoint stands inside day 1: name both days, as a resumed run must read what the
# checkpoint had not.
ck "$TMP/day1.jsonl" "$TMP/day2.jsonl" --state-backend fs --resume latest --mirror "$TMP/ck-mirror" -q -o "$TMP/days.out" 2>"$TMP/err"
grep -q "skipped a damaged checkpoint: .*checksum mismatch\|skipped a damaged checkpoint: .*bytes, expected" "$TMP/err" && pass "a damaged checkpoint is reported and skipped" || fail "a damaged checkpoint is reported and skipped" "$(cat "$TMP/err")"
cmp -s "$TMP/days.out" "$TMP/ck.expected" && pass "resumed from the previous checkpoint: output identical to one run" || fail "resumed from the previous checkpoint: output identical to one run" "$(cmp "$TMP/days.out" "$TMP/ck.expected" 2>&1)"
rm -rf "$TMP/ck-dir" "$TMP/ck-state" "$TMP/ck-mirror"
ck "$TMP/day1.jsonl" --no-drain --mirror "$TMP/ck-mirror" -q -o "$TMP/days.out"
rm -rf "$TMP/ck-dir/shared" "$TMP/ck-dir"/chk-*
ck "$TMP/day2.jsonl" --resume latest --mirror "$TMP/ck-mirror" -q -o "$TMP/days.out" 2>"$TMP/err"
grep -q "resuming from checkpoint 1 ($TMP/ck-mirror/card_velocity)" "$TMP/err" && pass "a lost local checkpoint is restored from the mirror" || fail "a lost local checkpoint is restored from the mirror" "$(cat "$TMP/err")"
cmp -s "$TMP/days.out" "$TMP/ck.expected" && pass "resumed from the mirror: output identical to one run" || fail "resumed from the mirror: output identical to one run" "$(cmp "$TMP/days.out" "$TMP/ck.expected" 2>&1)"
rm -rf "$TMP/ck-dir" "$TMP/ck-state"
ck "$TMP/ck.jsonl" --resume latest -q -o "$TMP/days.out" 2>"$TMP/err"
grep -q "no checkpoint in .* yet: starting from the beginning" "$TMP/err" && pass "--resume latest without a checkpoint starts over and says so" || fail "--resume latest without a checkpoint starts over and says so" "$(cat "$TMP/err")"
# The same files named another way are the same files.
rm -rf "$TMP/ck-dir" "$TMP/ck-state"
(cd "$TMP" && ck day1.jsonl --no-drain -q -o days.out)
ck "$TMP/./day1.jsonl" "$TMP/day2.jsonl" --resume latest -q -o "$TMP/./days.out"
cmp -s "$TMP/days.out" "$TMP/ck.expected" && pass "inputs and outputs match their checkpoint by file, not by spelling" || fail "inputs and outputs match their checkpoint by file, not by spelling" "$(cmp "$TMP/days.out" "$TMP/ck.expected" 2>&1)"
# After a drained run, a resumed run takes events older than what was released as late.
rm -rf "$TMP/ck-dir" "$TMP/ck-state"
printf '{"card_id":"c1","amount":1,"ts":0}\n{"card_id":"c1","amount":2,"ts":4000}\n' >"$TMP/a.jsonl"
printf '{"card_id":"c1","amount":3,"ts":2000}\n{"card_id":"c1","amount":4,"ts":9000}\n' >"$TMP/b.jsonl"
ck "$TMP/a.jsonl" -q -o "$TMP/ab.out"
ck "$TMP/b.jsonl" --resume latest -o "$TMP/ab.out" 2>"$TMP/err"
grep -q "4 events read: 3 emitted, 1 late" "$TMP/err" && pass "after a drain, older events of a resumed run are late" || fail "after a drain, older events of a resumed run are late" "$(cat "$TMP/err")"
ck "$TMP/b.jsonl" --resume latest -q -o "$TMP/ab.out" && pass "and its checkpoint restores" || fail "and its checkpoint restores" "$(cat "$TMP/err")"
# Every checkpoint damaged: an error, not a silent start from scratch.
for metadata in "$TMP/ck-dir"/chk-*/_metadata; do printf 'x' >>"$metadata"; done
expect_exit "resume with every checkpoint damaged exits 1" 1 ck "$TMP/b.jsonl" --resume latest -q -o "$TMP/ab.out"
grep -q "no checkpoint in .* verifies" "$TMP/err" && pass "and says which are damaged and what to do" || fail "and says which are damaged and what to do" "$(cat "$TMP/err")"
expect_exit "resume from a checkpoint that does not exist exits 1" 1 ck "$TMP/b.jsonl" --resume "$TMP/ck-dir/chk-000099" -q -o "$TMP/ab.out"
grep -q "chk-000099: no such checkpoint directory; \`eddy checkpoints list $TMP/ck-dir\` lists" "$TMP/err" && pass "and says there is no such checkpoint, not that it is damaged" || fail "and says there is no such checkpoint, not that it is damaged" "$(cat "$TMP/err")"
# The state directory is locked too: another run may not wipe it.
mkfifo "$TMP/st-fifo"
"$EDDY" run jobs/card_velocity.json - --state-dir "$TMP/shared-state" --checkpoint-dir "$TMP/ck-one" -q -o /dev/null <"$TMP/st-fifo" 2>/dev/null &
state_holder=$!
exec 5>"$TMP/st-fifo"
sleep 0.5
expect_exit "a second run on a locked state directory exits 1" 1 "$EDDY" run jobs/card_velocity.json "$TMP/a.jsonl" --state-dir "$TMP/shared-state" --checkpoint-dir "$TMP/ck-two" -q -o /dev/null
grep -q "state directory $TMP/shared-state is in use by eddy pid $state_holder" "$TMP/err" && pass "the state lock names the holder" || fail "the state lock names the holder" "$(cat "$TMP/err")"
expect_exit "an fs run without checkpoints on a locked state directory exits 1" 1 "$EDDY" run jobs/card_velocity.json "$TMP/a.jsonl" --state-dir "$TMP/shared-state" --state-backend fs --no-checkpoints -q -o /dev/null
grep -q "state directory $TMP/shared-state is in use by eddy pid $state_holder" "$TMP/err" && pass "the fs backend's state lock names the holder" || fail "the fs backend's state lock names the holder" "$(cat "$TMP/err")"
exec 5>&-
wait $state_holder
# Closed standard descriptors are not handed to the files eddy opens: with stdout closed, the
# run's records went into the checkpoint directory's LOCK file (and with stderr closed, its
# summary). They go nowhere, as to /dev/null.
first_record=$(head -n 1 "$TMP/card_velocity.out")
"$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-dir "$TMP/closed-state" --checkpoint-dir "$TMP/closed-ck" <&- >&- 2>&-
code=$?
if [ "$code" = 0 ] && ! grep -rqF -e "$first_record" -e "events read" "$TMP/closed-state" "$TMP/closed-ck"; then
    pass "with stdin, stdout and stderr closed, no file of eddy's gets its output"
else
    fail "with stdin, stdout and stderr closed, no file of eddy's gets its output" "exit $code; $(grep -rlF -e "$first_record" -e "events read" "$TMP/closed-state" "$TMP/closed-ck")"
fi
expect_exit "the memory backend refuses checkpoint flags" 64 "$EDDY" run jobs/card_velocity.json "$TMP/ck.jsonl" --state-backend memory --resume latest
expect_exit "--no-checkpoints with --exactly-once exits 64" 64 "$EDDY" run jobs/card_velocity.json "$TMP/ck.jsonl" --no-checkpoints --exactly-once
grep -q -- "--no-checkpoints contradicts --exactly-once" "$TMP/err" && pass "the contradiction names the flag given" || fail "the contradiction names the flag given" "$(cat "$TMP/err")"

# eddy plan --against: the differences from a checkpoint's spec, and the resume's verdict.
"$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-dir "$TMP/pa-state" --checkpoint-dir "$TMP/pa-ck" -q -o "$TMP/pa.out"
expect_exit "plan --against latest with the same spec exits 0" 0 "$EDDY" plan jobs/card_velocity.json --against latest --checkpoint-dir "$TMP/pa-ck"
grep -q "^no differences" "$TMP/out" && grep -q "would accept this checkpoint" "$TMP/out" && pass "and says the resume would accept it" || fail "and says the resume would accept it" "$(cat "$TMP/out")"
sed -e 's/"window": "1h"/"window": "2h"/' -e 's/"watermark": "5s"/"watermark": "9s"/' jobs/card_velocity.json >"$TMP/pa-changed.json"
expect_exit "plan --against a checkpoint of another window exits 4" 4 "$EDDY" plan "$TMP/pa-changed.json" --against "$TMP/pa-ck/chk-000001"
grep -q 'feature "amount_sum_1h" window: 1h -> 2h' "$TMP/out" && grep -q "watermark: 5s -> 9s" "$TMP/out" && grep -q "would refuse this checkpoint" "$TMP/out" \
    && pass "and names the window (refused) and the watermark (accepted)" || fail "and names the window (refused) and the watermark (accepted)" "$(cat "$TMP/out")"
expect_exit "plan --against a checkpoint that does not exist exits 1" 1 "$EDDY" plan jobs/card_velocity.json --against "$TMP/pa-ck/chk-000099/"
grep -q "chk-000099/: no such checkpoint directory" "$TMP/err" && pass "and says so, not that it is damaged" || fail "and says so, not that it is damaged" "$(cat "$TMP/err")"
expect_exit "plan --against with another backend exits 4" 4 "$EDDY" plan jobs/card_velocity.json --against latest --checkpoint-dir "$TMP/pa-ck" --state-backend fs
grep -q "backend: rocksdb -> fs" "$TMP/out" && pass "and names the backend" || fail "and names the backend" "$(cat "$TMP/out")"
expect_exit "resuming with another window exits 1" 1 "$EDDY" run "$TMP/pa-changed.json" jobs/card_velocity.input.jsonl --state-dir "$TMP/pa-state" --checkpoint-dir "$TMP/pa-ck" --resume latest -q -o "$TMP/pa.out"
grep -q 'with a different spec (feature "amount_sum_1h" window: 1h -> 2h)' "$TMP/err" && pass "and the refusal names the difference" || fail "and the refusal names the difference" "$(cat "$TMP/err")"
expect_exit "plan --against a directory with no checkpoint exits 1" 1 "$EDDY" plan jobs/card_velocity.json --against latest --checkpoint-dir "$TMP/pa-none"
expect_exit "plan --against something not a checkpoint exits 1" 1 "$EDDY" plan jobs/card_velocity.json --against "$TMP/pa-ck"
expect_exit "plan --checkpoint-dir without --against exits 64" 64 "$EDDY" plan jobs/card_velocity.json --checkpoint-dir "$TMP/pa-ck"

# eddy checkpoints gc: old checkpoints, unlisted shared files and interrupted writes go; the
# newest stay and still resume; a directory a run holds is refused.
for run in 1 2 3 4 5; do
    "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-dir "$TMP/gc-state" --checkpoint-dir "$TMP/gc-ck" --retain 5 -q -o "$TMP/gc.out"
done
mkdir "$TMP/gc-ck/chk-000099.tmp" && printf 'torn' >"$TMP/gc-ck/chk-000099.tmp/_metadata"
expect_exit "checkpoints gc --dry-run exits 0" 0 "$EDDY" checkpoints gc "$TMP/gc-ck" --retain 2 --dry-run
if grep -q "^would remove chk-000099.tmp: an interrupted checkpoint write" "$TMP/out" && grep -q "^would remove chk-000003: beyond the newest 2" "$TMP/out" \
    && [ -d "$TMP/gc-ck/chk-000001" ] && [ -d "$TMP/gc-ck/chk-000099.tmp" ]; then
    pass "and lists what it would remove, removing nothing"
else
    fail "and lists what it would remove, removing nothing" "$(cat "$TMP/out"; ls "$TMP/gc-ck")"
fi
expect_exit "checkpoints gc --retain 2 exits 0" 0 "$EDDY" checkpoints gc "$TMP/gc-ck" --retain 2
[ "$(ls "$TMP/gc-ck" | grep -c '^chk-')" = 2 ] && [ -d "$TMP/gc-ck/chk-000005" ] && grep -q "^freed .* ([1-9][0-9]* bytes) in [0-9]* entries; kept chk-000004, chk-000005$" "$TMP/out" \
    && pass "and keeps the newest 2, saying what it freed" || fail "and keeps the newest 2, saying what it freed" "$(cat "$TMP/out"; ls "$TMP/gc-ck")"
expect_exit "the kept checkpoints verify after gc" 0 "$EDDY" checkpoints verify "$TMP/gc-ck"
expect_exit "and a run resumes from them" 0 "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-dir "$TMP/gc-state" --checkpoint-dir "$TMP/gc-ck" --resume latest -q -o "$TMP/gc.out"
mkfifo "$TMP/gc-fifo"
"$EDDY" run jobs/card_velocity.json - --state-dir "$TMP/gc-state" --checkpoint-dir "$TMP/gc-ck" -q -o /dev/null <"$TMP/gc-fifo" 2>/dev/null &
gc_holder=$!
exec 6>"$TMP/gc-fifo"
sleep 0.5
expect_exit "checkpoints gc on a directory a run holds exits 1" 1 "$EDDY" checkpoints gc "$TMP/gc-ck" --retain 1
grep -q "checkpoint directory $TMP/gc-ck is in use by eddy pid $gc_holder" "$TMP/err" && pass "and names the holder" || fail "and names the holder" "$(cat "$TMP/err")"
exec 6>&-
wait $gc_holder
expect_exit "checkpoints gc --retain 0 exits 64" 64 "$EDDY" checkpoints gc "$TMP/gc-ck" --retain 0
expect_exit "checkpoints gc on a missing directory exits 1" 1 "$EDDY" checkpoints gc "$TMP/gc-none"
mkdir -p "$TMP/not-ck/shared" && echo keep >"$TMP/not-ck/shared/notes.txt"
expect_exit "checkpoints gc on a directory without checkpoints exits 1" 1 "$EDDY" checkpoints gc "$TMP/not-ck"
[ -f "$TMP/not-ck/shared/notes.txt" ] && [ ! -e "$TMP/not-ck/LOCK" ] && grep -q "holds no checkpoint" "$TMP/err" \
    && pass "and removes nothing there, nor leaves a lock file" || fail "and removes nothing there, nor leaves a lock file" "$(ls -A "$TMP/not-ck"; cat "$TMP/err")"

# eddy plan --dot: the operator graph as Graphviz DOT, one node per feature.
for job in card_velocity card_risk card_windows; do
    expect_exit "$job: plan --dot exits 0" 0 "$EDDY" plan "jobs/$job.json" --dot
    missing=$(python3 -c 'import json, sys
dot = open(sys.argv[2]).read()
ok = dot.startswith("digraph ") and dot.rstrip().endswith("}") and "source -> parse;" in dot
print(" ".join(f["name"] for f in json.load(open(sys.argv[1]))["dict"] if "label=\"" + f["name"] + "\\n" not in dot) + ("" if ok else " (not a digraph)"))' "jobs/$job.json" "$TMP/out")
    [ -z "$missing" ] && pass "$job: the DOT graph has a node per feature" || fail "$job: the DOT graph has a node per feature" "missing: $missing"
done
expect_exit "plan --dot with --against exits 64" 64 "$EDDY" plan jobs/card_velocity.json --dot --against latest

# eddy schema: the job spec's JSON Schema, valid JSON that names every operator.
expect_exit "schema exits 0" 0 "$EDDY" schema
missing=$(python3 -c 'import json, sys
schema = json.load(open(sys.argv[1]))
operators = set(schema["$defs"]["feature"]["properties"]["operator"]["enum"])
expected = {"first", "last", "count", "sum", "min", "max", "avg", "stddev", "count_distinct", "histogram", "collect", "lookup"}
print(" ".join(sorted(expected ^ operators)) + ("" if schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema" else " (not draft 2020-12)"))' "$TMP/out" 2>&1)
[ -z "$missing" ] && pass "schema is JSON (draft 2020-12) naming every operator" || fail "schema is JSON (draft 2020-12) naming every operator" "$missing"
# eddy state get|dump: a checkpoint's keyed state read offline, per key equal to the features
# of the key's last output record, on both durable backends; the checkpoint is not changed.
for backend in fs rocksdb; do
    rm -rf "$TMP/state-ck" "$TMP/state-st"
    "$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --state-backend $backend --state-dir "$TMP/state-st" \
        --checkpoint-dir "$TMP/state-ck" -q -o "$TMP/state-run.out"
    before=$(cd "$TMP/state-ck" && find . -type f -exec md5sum {} + | sort)
    checkpoint=$(ls -d "$TMP"/state-ck/chk-* | tail -n 1)
    "$EDDY" state dump "$checkpoint" >"$TMP/state-dump" 2>"$TMP/err"
    code=$?
    if verdict=$(python3 - "$TMP/state-run.out" "$TMP/state-dump" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1]):
    last[json.loads(line)["card_id"]] = line.rstrip("\n")
dump = [line.rstrip("\n") for line in open(sys.argv[2])]
assert len(dump) == len(last), f"{len(dump)} keys dumped, {len(last)} in the output"
order = []
for line in dump:
    entry = json.loads(line)
    card = entry["key"]["card_id"]
    features = line[line.index(',"features":{') + len(',"features":{'):-1]
    # The record's feature columns are its last ones, written byte for byte the same.
    assert last[card].endswith("," + features), f"{card}: state {features} vs record {last[card]}"
    order.append((entry["key_group"], card.encode()))
assert order == sorted(order), f"not in key-group, key order: {order}"
PY
    2>&1) && [ $code = 0 ]; then pass "state dump ($backend): every key's features equal its last output record"; else fail "state dump ($backend): every key's features equal its last output record" "exit $code: $verdict $(cat "$TMP/err")"; fi
    "$EDDY" state get latest --checkpoint-dir "$TMP/state-ck" --key c003 >"$TMP/state-get" 2>"$TMP/err"
    if [ $? = 0 ] && grep -qxF -f "$TMP/state-get" "$TMP/state-dump" && grep -q '"card_id":"c003"' "$TMP/state-get"; then
        pass "state get latest ($backend): the key's line of the dump"
    else
        fail "state get latest ($backend): the key's line of the dump" "$(cat "$TMP/state-get" "$TMP/err")"
    fi
    "$EDDY" state get "$checkpoint" --key '"c001"' >"$TMP/state-get" 2>"$TMP/err"
    grep -q '"card_id":"c001"' "$TMP/state-get" && pass "state get ($backend): a key given as JSON text" || fail "state get ($backend): a key given as JSON text" "$(cat "$TMP/err")"
    expect_exit "state get ($backend): a key without state exits 4" 4 "$EDDY" state get "$checkpoint" --key c999
    grep -q 'holds no state for key "c999"' "$TMP/err" && pass "and says so" || fail "and says so" "$(cat "$TMP/err")"
    after=$(cd "$TMP/state-ck" && find . -type f -exec md5sum {} + | sort)
    [ "$before" = "$after" ] && pass "state ($backend): the checkpoint is unchanged" || fail "state ($backend): the checkpoint is unchanged" "$(diff <(echo "$before") <(echo "$after"))"
done
group=$(head -n 1 "$TMP/state-dump" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_group"])')
"$EDDY" state dump "$checkpoint" --key-group "$group" >"$TMP/state-group"
grep -c . "$TMP/state-group" | grep -qx "$(grep -c "\"key_group\":$group," "$TMP/state-dump")" && head -n 1 "$TMP/state-dump" | grep -qxF -f - "$TMP/state-group" \
    && pass "state dump --key-group: that key group's keys" || fail "state dump --key-group: that key group's keys" "$(cat "$TMP/state-group")"
expect_exit "state get with a key value per column missing exits 64" 64 "$EDDY" state get "$checkpoint" --key c001 --key extra
grep -q "the job's key is 1 column (card_id)" "$TMP/err" && pass "and names the key columns" || fail "and names the key columns" "$(cat "$TMP/err")"
# A dump cut short by its reader (| head) or a signal removes its temporary copy of the
# RocksDB checkpoint on the way out, with the exit code a shell shows for the signal.
python3 Tests/support/gen_events.py --events 30000 --keys 30000 --seed 3 --out "$TMP/many-keys.jsonl"
"$EDDY" run jobs/card_velocity.json "$TMP/many-keys.jsonl" -q -o /dev/null --state-dir "$TMP/mk-state" --checkpoint-dir "$TMP/mk-ck"
mkdir -p "$TMP/state-tmp"
TMPDIR="$TMP/state-tmp" "$EDDY" state dump latest --checkpoint-dir "$TMP/mk-ck" | head -n 1 >/dev/null
code=${PIPESTATUS[0]}
[ "$code" = 141 ] && [ -z "$(ls -A "$TMP/state-tmp")" ] && pass "state dump | head: exit 141, its temporary copy removed" || fail "state dump | head: exit 141, its temporary copy removed" "exit $code; left: $(ls -A "$TMP/state-tmp")"
expect_exit "state dump latest without --checkpoint-dir exits 64" 64 "$EDDY" state dump latest
expect_exit "state dump of a directory that is no checkpoint exits 1" 1 "$EDDY" state dump "$TMP/state-ck"
expect_exit "state dump --key-group out of range exits 64" 64 "$EDDY" state dump "$checkpoint" --key-group 100000
"$EDDY" state dump "$checkpoint" --state-bytes >"$TMP/state-bytes"
if python3 -c '
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    assert list(entry["state_bytes"]) == list(entry["features"]), line
    assert entry["state_bytes"]["txn_count"] == 8 and all(n > 0 for n in entry["state_bytes"].values()), line
' "$TMP/state-bytes" && [ "$(grep -c . "$TMP/state-bytes")" = "$(grep -c . "$TMP/state-dump")" ]; then
    pass "state dump --state-bytes: each feature's persisted size"
else
    fail "state dump --state-bytes: each feature's persisted size" "$(cat "$TMP/state-bytes")"
fi
# --what buffered: the events a run stopped without draining left waiting, one line each.
rm -rf "$TMP/state-ck2"
"$EDDY" run jobs/card_velocity.json jobs/card_velocity.input.jsonl --no-drain --state-backend fs --state-dir "$TMP/state-st2" \
    --checkpoint-dir "$TMP/state-ck2" -o /dev/null 2>"$TMP/state-run.err"
pending=$(grep -o '[0-9]* pending' "$TMP/state-run.err" | cut -d' ' -f1)
"$EDDY" state dump latest --checkpoint-dir "$TMP/state-ck2" --what buffered >"$TMP/state-buffered"
if [ -n "$pending" ] && [ "$pending" -gt 0 ] && [ "$(grep -c '"fields":{"card_id":' "$TMP/state-buffered")" = "$pending" ]; then
    pass "state dump --what buffered: one line per pending event"
else
    fail "state dump --what buffered: one line per pending event" "pending ${pending:-?}: $(cat "$TMP/state-buffered" "$TMP/state-run.err")"
fi
sst=$(ls "$TMP"/state-ck/shared/*.sst | head -n 1)
printf 'x' >>"$sst"
expect_exit "state dump of a damaged checkpoint exits 1" 1 "$EDDY" state dump "$checkpoint"
grep -qF "the checkpoint is damaged: $sst:" "$TMP/err" && pass "and names the damaged file" || fail "and names the damaged file" "$(cat "$TMP/err")"
# eddy export flink-sql: every example job exports (exit 0) or is refused as documented (exit 2,
# naming the JSON path of what Flink SQL cannot express: card_risk's broadcast lookups).
for job in jobs/*.json; do
    name=$(basename "$job" .json)
    input=$(ls jobs/"$name".input.* 2>/dev/null | head -n 1)
    "$EDDY" export flink-sql "$job" ${input:+--source-path "$input"} >"$TMP/$name.flink.sql" 2>"$TMP/$name.flink.err"
    code=$?
    if [ "$code" = 0 ] && grep -q "^INSERT INTO \`[A-Za-z0-9_]*_sink\`$" "$TMP/$name.flink.sql"; then
        pass "export flink-sql $name: exit 0 with an INSERT"
    elif [ "$code" = 2 ] && grep -q "^  dict\[[0-9]*\]\.operator: lookup" "$TMP/$name.flink.err"; then
        pass "export flink-sql $name: refused with exit 2 and the lookup's path"
    else
        fail "export flink-sql $name" "exit $code: $(head -c 600 "$TMP/$name.flink.err")"
    fi
done
# A CRLF file with a byte order mark is sampled as eddy run reads it: its times are RFC 3339.
printf '\xEF\xBB\xBF' >"$TMP/crlf.jsonl" && sed 's/$/\r/' jobs/sessions.input.jsonl >>"$TMP/crlf.jsonl"
"$EDDY" export flink-sql jobs/sessions.json --source-path "$TMP/crlf.jsonl" >"$TMP/crlf.sql" 2>"$TMP/err"
! grep -q "TRY_CAST(\`event_time\` AS BIGINT)" "$TMP/crlf.sql" && grep -q "event_time" "$TMP/crlf.sql" \
    && pass "export flink-sql samples a CRLF file with a BOM as eddy reads it" || fail "export flink-sql samples a CRLF file with a BOM as eddy reads it" "$(grep -n event_time "$TMP/crlf.sql" | head -5; cat "$TMP/err")"
card_sql="$TMP/card_velocity.flink.sql"
for clause in \
    "CREATE TABLE \`card_velocity_source\` (" \
    "  WATERMARK FOR \`event_time\` AS \`event_time\` - INTERVAL '5.001' SECOND" \
    "  \`event_time\` AS TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(\`ts\` AS BIGINT), 0), 3)," \
    "  'path' = 'jobs/card_velocity.input.jsonl'," \
    "    COUNT(DISTINCT \`merchant\`) OVER w AS \`f\$5\`" \
    "        CASE WHEN COUNT(\`amount\`) OVER w = 0 THEN NULL ELSE ARRAY_SLICE(ARRAY_AGG(\`amount\` IGNORE NULLS) OVER w, -5) END AS \`f\$6\`" \
    "  WINDOW w AS (PARTITION BY \`card_id\` ORDER BY \`event_time\` RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND CURRENT ROW)" \
    "SET 'pipeline.max-parallelism' = '128';"; do
    grep -qxF -- "$clause" "$card_sql" && pass "card_velocity's Flink SQL has: $clause" || fail "card_velocity's Flink SQL has: $clause" "$(head -c 600 "$card_sql")"
done
expect_exit "export flink-sql of CSV columns without a column the job reads exits 1" 1 "$EDDY" export flink-sql jobs/host_metrics.json --input-format csv --csv-columns ts,host
grep -q 'lack "latency_ms"' "$TMP/err" && pass "and names the missing column" || fail "and names the missing column" "$(cat "$TMP/err")"
expect_exit "export flink-sql with an unknown --input-format exits 64" 64 "$EDDY" export flink-sql jobs/card_velocity.json --input-format xml
expect_exit "export flink-sql of an invalid spec exits 2" 2 "$EDDY" export flink-sql "$TMP/does-not-exist.json"

echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
