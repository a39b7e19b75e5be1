#!/usr/bin/env bash
# kafka_faults.test.sh - `firn run` on Kafka (librdkafka's mock cluster, 3 brokers,
# replication 3) while the mock injects faults: Produce and Fetch request errors,
# a broker down and up again, partition leader changes, added latency. Every
# simulated event still lands exactly once (pipe_check.py against the simulator's
# truth). Figures on the mock cluster are not representative of a real broker.
# make test: 1,500 events at 500/s (faults injected during the run), well under 60 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=1500
RATE=500
START=2026-11-26T08:00:00Z
SIM=(--set sim.image-width=96 --set sim.image-height=72 --sim-start "$START" --seed 7
     --bad-ratio 0.05 --set pipeline.commit-interval=200ms)

mock_kafka_start
"$FIRN" sim --count "$N" --seed 7 --bad-ratio 0.05 --start "$START" --size 96x72 \
    --truth "$WORK/truth.jsonl" --ndjson --quiet >"$WORK/events.ndjson"
# verify DIR: the tables in DIR/wh hold exactly the simulated events
verify() { pipe_verify "$1/scan" "$WORK/truth.jsonl" "$WORK/events.ndjson" --warehouse "$1/wh"; }

# faults: injected one after another while firn run works (about 3 s of simulation)
faults() {
    sleep 0.4
    mock error 0 6 3 &&        # Produce: NOT_LEADER_OR_FOLLOWER x3
    mock error 1 6 3 &&        # Fetch: NOT_LEADER_OR_FOLLOWER x3
    sleep 0.3 &&
    mock leader events 0 2 && mock leader parking-entry 1 3 && mock leader parking-exit 0 2 &&
    sleep 0.3 &&
    mock rtt -1 150 &&         # every broker 150 ms slower
    sleep 0.5 &&
    mock rtt -1 0 &&
    mock error 0 7 2 &&        # Produce: REQUEST_TIMED_OUT x2
    mock down 2 &&             # broker 2 disconnects clients
    sleep 0.6 &&
    mock up 2 &&
    mock leader events 0 1 && mock leader events 1 3 &&
    mock error 1 7 2 &&        # Fetch: REQUEST_TIMED_OUT x2
    sleep 0.3 &&
    mock down 1 &&             # broker 1 (leader of events/0 now) gone for a second
    sleep 1 &&
    mock up 1 &&
    mock error 0 19 5          # Produce: NOT_ENOUGH_REPLICAS x5
}
under_faults() {
    local dir=$WORK/kafka pid rc
    for t in events parking-entry parking-exit dead-letter; do mock create "$t" 4 3 || return 1; done
    mkdir -p "$dir"
    timeout 60 "$FIRN" --warehouse "$dir/wh" run --set stream.uri="kafka://$BOOT" "${SIM[@]}" \
        --sim-events "$N" --sim-rate "$RATE" --until-drained >"$dir.log" 2>&1 & pid=$!
    faults || { kill "$pid"; wait "$pid"; return 1; }
    wait "$pid"; rc=$?
    [ "$rc" = 0 ] || { echo "firn run exited $rc"; tail -n 8 "$dir.log"; return 1; }
    grep -q "^firn run: $N simulated" "$dir.log" || { tail -n 3 "$dir.log"; return 1; }
    verify "$dir"
}
check "firn run on Kafka under request errors, broker down/up, leader changes, latency: exactly once" under_faults
finish
