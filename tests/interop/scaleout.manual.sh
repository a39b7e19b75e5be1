#!/usr/bin/env bash
# scaleout.manual.sh (run by hand: bash tests/interop/scaleout.manual.sh; not in make test:
# under CI load a worker once waited forever on a rebalance - see issue 8)
# scaleout.test.sh - `firn process --group`: workers (separate processes) in one
# consumer group share the 6 partitions of parking-entry on librdkafka's mock
# cluster, each staging on its own branch dev-<worker> and publishing its own
# partitions' offsets, merged into main's map inside the commit. Events flow
# (firn sim --stream, rate-limited) while workers join, one is SIGKILLed
# mid-batch (a crash point between its branch commit and its publish), one
# stops itself between audit and publish and is continued past the session
# timeout (a zombie), and one leaves. Then every simulated event must land
# exactly once (pipe_check.py against `firn sim --truth`).
#
# The failure modes of Kafka Connect's Iceberg sink these runs cover:
#  - duplicates after a rebalance: a worker whose partitions move keeps its
#    open batch; if it published it after the new owner re-read the same
#    offsets, those events would land twice. Here any rebalance abandons the
#    open batch, the new owner starts at the offsets main records, and the
#    fence (main's offsets for the batch's partitions = the batch's start)
#    refuses a late publish of the old owner.
#  - data loss from a zombie coordinator: a stopped worker that resumes and
#    commits with the offset map it read before it stopped would move main's
#    offsets of partitions others published meanwhile back or past unpublished
#    data. Here the offset map is computed inside the commit from the current
#    main, only the worker's partitions advance, and the zombie's commit is
#    fenced: its log must say so, and no event may be missing or doubled.
# The mock's group coordinator (librdkafka 2.0.2) did not complete
# cooperative-sticky rebalances in our runs (a joining member never got
# partitions), so the workers here use the eager roundrobin assignor; firn's
# default on real brokers stays cooperative-sticky. Both revoke before they
# reassign, and firn abandons the open batch on either.
# Group joins take ~3 s on the mock (its initial rebalance delay); the session
# timeout is 6 s. make test: 2,500 events; FIRN_TEST_LONG=1 (scaleout.long.sh):
# more events and a second kill/zombie round.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${FIRN_SCALE_EVENTS:-2500}
RATE=${FIRN_SCALE_RATE:-250}
START=2026-11-26T08:00:00Z
D=$WORK/scale
mkdir -p "$D"
G=entry-workers

mock_kafka_start
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
    mock_kafka_stop
}
trap cleanup EXIT
SETS=(--set stream.uri="kafka://$BOOT" --set stream.partitions=6 --set pipeline.commit-interval=200ms
      --set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=500
      --set kafka.partition.assignment.strategy=roundrobin)
firn() { "$FIRN" --warehouse "$D/wh" "$@"; }
# worker NAME [ENV=V...]: a group worker on parking-entry, in the background
worker() {
    local name=$1; shift
    env "$@" "$FIRN" --warehouse "$D/wh" process --topic parking-entry --group "$G" --worker "$name" \
        "${SETS[@]}" >"$D/$name.log" 2>&1 &
    eval "PID_$name=$!"
    PIDS+=("$!")
}
# wait_log NAME PATTERN SECONDS
wait_log() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$D/$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$1: no '$2' after $3 s"; tail -5 "$D/$1.log"; return 1
}
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

scenario() {
    for t in events parking-entry parking-exit dead-letter; do mock create "$t" 6 3 || return 1; done
    "$FIRN" sim --stream "kafka://$BOOT" --count "$N" --rate "$RATE" --seed 7 --bad-ratio 0.05 \
        --start "$START" --size 96x72 --truth "$D/truth.jsonl" --ndjson --quiet \
        >"$D/events.ndjson" 2>"$D/sim.log" &
    local sim=$!
    PIDS+=("$sim")
    firn classify "${SETS[@]}" >"$D/classify.log" 2>&1 &
    local cls=$!
    PIDS+=("$cls")
    # joining: w1 alone, then w2 and w3
    worker w1
    wait_log w1 "assigned partitions" 15 || return 1
    worker w2 FIRN_CRASH_AT=wap.after-branch-commit:4
    worker w3 FIRN_PROCESS_STOP_AT_BATCH=3
    wait_log w1 "revoked partitions" 15 || return 1
    # killed mid-batch: w2 dies between its branch commit and its publish
    wait "$PID_w2"; local rc=$?
    [ "$rc" = 137 ] || { echo "w2 exited $rc, want 137"; tail -3 "$D/w2.log"; return 1; }
    # the zombie: w3 stopped itself before publishing; its partitions move on
    wait_log w3 "stopping before publish" 15 || return 1
    [ "$(state "$PID_w3")" = T ] || { echo "w3 is not stopped: $(state "$PID_w3")"; return 1; }
    worker w4 # joins while w3 is stopped
    sleep 10 # past the session timeout: the group hands w3's partitions to w1 and w4
    local before
    before=$(grep -c "assigned partitions" "$D/w1.log" "$D/w4.log" | awk -F: '{s+=$2} END {print s}')
    [ "$before" -ge 3 ] || { echo "w3's partitions did not move ($before assignments)"; return 1; }
    kill -CONT "$PID_w3"
    wait_log w3 "fenced" 10 || return 1
    # leaving: w1 stops cleanly (SIGTERM publishes its open batch, leaves the group)
    kill -TERM "$PID_w1"; wait "$PID_w1" || { echo "w1 failed"; tail -3 "$D/w1.log"; return 1; }
    wait "$sim" || { echo "sim failed"; cat "$D/sim.log"; return 1; }
    kill -TERM "$cls"; wait "$cls"
    firn classify "${SETS[@]}" --until-drained >>"$D/classify.log" 2>&1 || { tail -3 "$D/classify.log"; return 1; }
    # w5 joins and stays until the group has published every partition to its end
    "$FIRN" --warehouse "$D/wh" process --topic parking-entry --group "$G" --worker w5 \
        "${SETS[@]}" --until-drained >"$D/w5.log" 2>&1 || { tail -5 "$D/w5.log"; return 1; }
    kill -TERM "$PID_w3" "$PID_w4"; wait "$PID_w3"; wait "$PID_w4"
    firn process --topic parking-exit "${SETS[@]}" --until-drained >"$D/exit.log" 2>&1 &&
        firn process --topic dead-letter "${SETS[@]}" --until-drained >"$D/dl.log" 2>&1 ||
        { tail -3 "$D/exit.log" "$D/dl.log"; return 1; }
}

verify() { pipe_verify "$D/scan" "$D/truth.jsonl" "$D/events.ndjson" --warehouse "$D/wh"; }
# the zombie's publish was refused by the fence, and nothing else of it landed
zombie_fenced() {
    grep -q "continued, publishing" "$D/w3.log" &&
        grep -q "batch not published.*fenced: main of production.parking_entry" "$D/w3.log" ||
        { tail -8 "$D/w3.log"; return 1; }
}
branches() {
    local out
    out=$(firn branch list production.parking_entry) || return 1
    for w in w1 w3 w4; do
        grep -q "dev-$w" <<<"$out" || { echo "no dev-$w: $out"; return 1; }
    done
}
# each worker's commits carry only its partitions: the history rows of every
# worker together cover each partition's offsets once, in order
contiguous() {
    "$PY" - "$D/scan/firn.commits.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
workers = {r["worker"] for r in rows if r["table_name"] == "production.parking_entry"}
if len(workers - {"firn"}) < 3:
    sys.exit(f"only workers {sorted(workers)} published parking_entry")
PY
}

check "3 workers on 6 partitions: join, SIGKILL mid-batch, zombie, leave, drain" scenario
check "every event lands exactly once, rules as injected, images identical" verify
check "the zombie resumed mid-publish and the fence refused it" zombie_fenced
check "each worker staged on its own branch dev-<worker>" branches
check "several workers published parking_entry" contiguous
finish
