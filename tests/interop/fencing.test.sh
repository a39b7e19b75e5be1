#!/usr/bin/env bash
# fencing.test.sh - a second worker on the same partitions: while `firn run` processes
# simulated events, `firn process --topic parking-entry` starts on the same spool and
# tables (from main's offsets at its start) and races it. Whichever worker's batch
# starts at offsets main no longer records is refused by the fence ("fenced" on its
# stderr), re-reads from main and carries on; in the end every simulated event lands
# exactly once (pipe_check.py against the simulator's truth). Run twice with different
# timings. make test: 3,000 events.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=3000
[ -n "${FIRN_TEST_LONG:-}" ] && N=20000
START=2026-11-26T08:00:00Z
SETS=(--set pipeline.commit-interval=200ms)
SIM=(--set sim.image-width=96 --set sim.image-height=72 --sim-start "$START" --seed 7 --bad-ratio 0.05)

"$FIRN" sim --count "$N" --seed 7 --bad-ratio 0.05 --start "$START" --size 96x72 \
    --truth "$WORK/truth.jsonl" --ndjson --quiet >"$WORK/events.ndjson"
# verify DIR: the tables in DIR/wh hold exactly the simulated events
verify() { pipe_verify "$1/scan" "$WORK/truth.jsonl" "$WORK/events.ndjson" --warehouse "$1/wh"; }
# race DIR DELAY RATE: firn run at RATE events/s; after DELAY s a second processor
# of parking-entry joins until run has drained
race() {
    local dir=$1 delay=$2 rate=$3 run_pid proc_pid rc
    mkdir -p "$dir"
    "$FIRN" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" "${SETS[@]}" "${SIM[@]}" \
        --sim-events "$N" --sim-rate "$rate" --until-drained >"$dir/run.log" 2>&1 & run_pid=$!
    sleep "$delay"
    "$FIRN" --warehouse "$dir/wh" process --topic parking-entry --set stream.uri="spool:$dir/spool" \
        --set pipeline.commit-interval=100ms --until-drained >"$dir/proc.log" 2>&1 & proc_pid=$!
    wait "$run_pid"; rc=$?
    sleep 0.5 # the second worker may still hold a batch: let it try to publish it
    kill "$proc_pid" 2>/dev/null; wait "$proc_pid"
    [ "$rc" = 0 ] || { echo "firn run exited $rc"; tail -5 "$dir/run.log"; return 1; }
    grep -q 'parking-entry.*fenced: main of production.parking_entry' "$dir/proc.log" "$dir/run.log" ||
        { echo "no worker was fenced"; tail -n 3 "$dir/run.log" "$dir/proc.log"; return 1; }
    grep -q 'published' "$dir/proc.log" || { echo "the second worker never got to publish"; tail -n 3 "$dir/proc.log"; return 1; }
    verify "$dir"
}
check "a second processor races firn run (joins after 0.8 s): fenced, exactly once" race "$WORK/a" 0.8 1500
check "... joins after 1.2 s at another rate: fenced, exactly once" race "$WORK/b" 1.2 1200
# the stale worker: started from main's offsets, then main moves on without it
# (SIGSTOP while run publishes), resumed: its held batch is refused
stale() {
    local dir=$WORK/stale run_pid proc_pid rc
    mkdir -p "$dir"
    "$FIRN" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" "${SETS[@]}" "${SIM[@]}" \
        --sim-events "$N" --sim-rate 1500 --until-drained >"$dir/run.log" 2>&1 & run_pid=$!
    sleep 0.6
    "$FIRN" --warehouse "$dir/wh" process --topic parking-entry --set stream.uri="spool:$dir/spool" \
        "${SETS[@]}" >"$dir/proc.log" 2>&1 & proc_pid=$!
    sleep 0.4; kill -STOP "$proc_pid"; sleep 0.8; kill -CONT "$proc_pid"
    wait "$run_pid"; rc=$?
    sleep 0.5
    kill "$proc_pid" 2>/dev/null; wait "$proc_pid"
    [ "$rc" = 0 ] || { echo "firn run exited $rc"; tail -5 "$dir/run.log"; return 1; }
    grep -q 'fenced: main of production.parking_entry' "$dir/proc.log" ||
        { echo "the stale worker was not fenced"; tail -n 3 "$dir/proc.log"; return 1; }
    verify "$dir"
}
check "a stale worker (stopped while main moved on) is fenced on resume, exactly once" stale
finish
