#!/usr/bin/env bash
# rest_intent.test.sh - the pipeline on a REST catalog without multi-table
# transactions (build/tools/rest_server --no-transactions over a SQLite catalog:
# transactions/commit is not in its endpoints and answers 406). Each publish then
# records an intent in firn.commits, commits production, untrusted and the
# completion row one by one (pipeline/wap.c). SIGKILL between those commits,
# restart, drain: every simulated event lands exactly once (pipe_check.py against
# the simulator's truth), every intent is completed once, firn.commits adds up.
# And with transactions/commit offered, the single atomic commit is still used.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${FIRN_INTENT_EVENTS:-1500}
[ -n "${FIRN_TEST_LONG:-}" ] && N=20000
START=2026-11-26T08:00:00Z
# a slow simulator spreads the events over several batches per table
SIM=(--set sim.image-width=96 --set sim.image-height=72 --sim-start "$START" --seed 7
     --bad-ratio 0.05 --set pipeline.commit-interval=100ms --sim-rate 3000)
# servers start inside check's subshells: their pids go to a file, so the exit trap finds them
cleanup() {
    [ -f "$WORK/pids" ] || return 0
    while read -r p; do kill "$p" 2>/dev/null; done <"$WORK/pids"
    : >"$WORK/pids"
}
trap cleanup EXIT

# server DIR [ARGS...]: a REST server on DIR/wh; sets URL
server() {
    local dir=$1; shift
    mkdir -p "$dir/wh"
    rm -f "$dir/port"
    "$TOOLS/rest_server" --catalog "sqlite:$dir/wh/catalog.db" --warehouse "$dir/wh" \
        --port-file "$dir/port" --log "$dir/rest.log" "$@" >"$dir/rest.out" 2>&1 &
    echo $! >>"$WORK/pids"
    wait_for_file "$dir/port"
    URL=http://127.0.0.1:$(cat "$dir/port")/iceberg
}
run() {
    local dir=$1; shift
    "$FIRN" --catalog "$URL" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" \
        "${SIM[@]}" --sim-events "$N" --until-drained "$@"
}
truth() {
    [ -s "$WORK/truth.jsonl" ] && return 0
    "$FIRN" sim --count "$N" --seed 7 --bad-ratio 0.05 --start "$START" --size 96x72 \
        --truth "$WORK/truth.jsonl" --ndjson --quiet >"$WORK/events.ndjson"
}
verify() {
    truth || return 1
    pipe_verify "$1/scan" "$WORK/truth.jsonl" "$WORK/events.ndjson" --catalog "$URL" --warehouse "$1/wh"
}
outcomes() { "$PY" -c 'import collections,json,sys
print(" ".join(f"{k}={v}" for k,v in sorted(collections.Counter(json.loads(l)["outcome"] for l in open(sys.argv[1])).items())))' "$1/scan/firn.commits.jsonl"; }
has_outcome() { outcomes "$1" | grep -qw "$2=[0-9]*" || { echo "no $2 rows: $(outcomes "$1")"; return 1; }; }
no_outcome() { ! outcomes "$1" | grep -qw "$2=[0-9]*" || { echo "$2 rows: $(outcomes "$1")"; return 1; }; }

# ------------------------------------------- with transactions/commit: one atomic commit
D=$WORK/atomic
server "$D"
check "firn run on a REST catalog with transactions/commit" run "$D"
check "... exactly once" verify "$D"
check "... publishes went through transactions/commit" \
    grep -q '"path":"/v1/transactions/commit","status":204' "$D/rest.log"
check "... and recorded no intent" no_outcome "$D" intent
cleanup

# ------------------------------------------- without: table by table behind an intent
D=$WORK/plain
server "$D" --no-transactions
check "firn run on a REST catalog without transactions/commit" run "$D"
check "... exactly once, every intent completed once" verify "$D"
check "... transactions/commit was never called" bash -c "! grep -q transactions/commit '$D/rest.log'"
check "... intent rows recorded" has_outcome "$D" intent
cleanup

# SIGKILL at each point between the single-table commits, restart, drain
crash_then_drain() {
    local point=$1 dir=$WORK/crash-${1//[:.]/-} rc
    server "$dir" --no-transactions
    FIRN_CRASH_AT=$point run "$dir" >"$dir.log" 2>&1
    rc=$?
    [ "$rc" = 137 ] || { echo "run with FIRN_CRASH_AT=$point exited $rc, want 137 (killed)"; tail -3 "$dir.log"; return 1; }
    run "$dir" >>"$dir.log" 2>&1 || { tail -5 "$dir.log"; return 1; }
    grep -q "rolled forward" "$dir.log" || { echo "no intent was rolled forward on restart"; return 1; }
    verify "$dir"
}
for p in wap.after-intent:2 wap.after-table-commit:1 wap.after-table-commit:2 \
         wap.after-table-commit:5; do
    check "crash at $p, restart rolls the intent forward: exactly once" crash_then_drain "$p"
    cleanup
done

# a second worker races firn run on parking-entry (as fencing.test.sh, through the
# REST catalog without transactions): the loser's intent is fenced at its production
# commit and completes as "aborted", nothing of it applied; exactly once
race() {
    local dir=$WORK/race run_pid proc_pid rc
    server "$dir" --no-transactions
    "$FIRN" --catalog "$URL" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" \
        "${SIM[@]}" --sim-events "$N" --until-drained >"$dir/run.log" 2>&1 & run_pid=$!
    sleep 0.3
    "$FIRN" --catalog "$URL" --warehouse "$dir/wh" process --topic parking-entry \
        --set stream.uri="spool:$dir/spool" --set pipeline.commit-interval=50ms \
        --until-drained >"$dir/proc.log" 2>&1 & proc_pid=$!
    wait "$run_pid"; rc=$?
    sleep 0.5
    kill "$proc_pid" 2>/dev/null; wait "$proc_pid"
    [ "$rc" = 0 ] || { echo "firn run exited $rc"; tail -5 "$dir/run.log"; return 1; }
    grep -q 'fenced: main of production.parking_entry' "$dir/proc.log" "$dir/run.log" ||
        { echo "no worker was fenced"; tail -n 3 "$dir/run.log" "$dir/proc.log"; return 1; }
    verify "$dir" && has_outcome "$dir" aborted
}
check "two workers race without transactions: the fenced intent is aborted, exactly once" race
cleanup
finish
