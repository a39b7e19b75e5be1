#!/usr/bin/env bash
# bench/scaleout.sh - `make bench-scaleout`: events/s that 1, 2 and 3 `firn process --group`
# workers (processes, on this machine's cores) publish from parking-entry on librdkafka's
# mock cluster - a mock cluster, NOT representative of a real broker - against librdkafka
# alone consuming the same records (bench_scaleout: assign all partitions, poll to the end),
# measured in the same run just before each worker count.
#
# N simulated events are routed once by `firn classify`; each worker count then reads
# parking-entry from offset 0 into a fresh warehouse: the first worker creates the tables,
# the others start as soon as they exist, so all join the group's first round (~3 s on the
# mock). Time runs from the first assignment to the last worker's exit (--until-drained):
# extra rebalance rounds (5 s each on the mock: a follower's late SyncGroup makes the
# group rejoin) count, and are reported. firn.commits gives the commits per second and the
# share published by cherry-pick (main moved since the worker cut its branch), the cost of
# several workers committing to one table.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-${FIRN_BENCH_SCALE_EVENTS:-75000}}
B=${FIRN_BUILD:-build}
FIRN=$PWD/$B/firn
W=$(mktemp -d /tmp/bench-scaleout.XXXXXX)
coproc MOCK { exec "$B/tools/mock_kafka" --brokers 3; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; kill $MOCK_PID 2>/dev/null; [ -n "${FIRN_BENCH_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"' EXIT
read -r BOOT <&"${MOCK[0]}"
for t in events parking-entry parking-exit dead-letter; do
    echo "create $t 6 3" >&"${MOCK[1]}"; read -r _ <&"${MOCK[0]}"
done
SETS=(--set stream.uri="kafka://$BOOT" --set stream.partitions=6 --set pipeline.commit-interval=200ms
      --set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=500
      --set kafka.partition.assignment.strategy=${FIRN_BENCH_ASSIGNOR:-cooperative-sticky})
# The mock keeps about 5 MiB per partition (librdkafka 2.0.2, fixed): the events are
# simulated and routed in chunks, so parking-entry holds more than one raw topic's worth.
CHUNK=15000
for ((c = 0; c * CHUNK < N; c++)); do
    n=$((N - c * CHUNK < CHUNK ? N - c * CHUNK : CHUNK))
    "$FIRN" sim --stream "kafka://$BOOT" --count "$n" --seed $((7 + c)) --start "2026-11-$((10 + c))T08:00:00Z" \
        --size "${FIRN_BENCH_SCALE_SIZE:-32x32}" --quiet --ndjson >/dev/null || { echo "sim failed"; exit 1; }
    "$FIRN" --warehouse "$W/cls" classify "${SETS[@]}" --until-drained 2>/dev/null || { echo "classify failed"; exit 1; }
done
echo "mock cluster (librdkafka $(pkg-config --modversion rdkafka 2>/dev/null), 3 brokers, 6 partitions; not representative), $(nproc) cores, $N events simulated"
ref1=
for k in ${FIRN_BENCH_WORKERS:-1 2 3}; do
    set -- $("$B/bench/bench_scaleout" "$BOOT" parking-entry 6)
    records=$1 ref=$3
    pids=()
    for ((i = 1; i <= k; i++)); do
        "$FIRN" --warehouse "$W/wh$k" process --topic parking-entry --group "bench$k" --worker "w$i" \
            "${SETS[@]}" --until-drained >"$W/w$k-$i.log" 2>&1 &
        pids+=($!); PIDS+=($!)
        if [ "$i" = 1 ]; then # the first worker creates the tables
            for ((j = 0; j < 200; j++)); do
                "$FIRN" --warehouse "$W/wh$k" scan production.parking_entry --limit 0 >/dev/null 2>&1 && break
                sleep 0.05
            done
        fi
    done
    for ((j = 0; j < 6000; j++)); do
        grep -q "assigned partitions" "$W"/w$k-*.log 2>/dev/null && break
        sleep 0.02
    done
    grep -q "assigned partitions" "$W"/w$k-*.log || { echo "no assignment in 120 s"; tail -3 "$W"/w$k-*.log; exit 1; }
    t0=$(date +%s.%N)
    for ((j = 0; j < 6000; j++)); do # every worker holds partitions (the mock may need extra rounds)
        [ "$(grep -l "assigned partitions" "$W"/w$k-*.log 2>/dev/null | wc -l)" -ge "$k" ] && break
        sleep 0.02
    done
    tall=$(/usr/bin/python3 -c "print(round($(date +%s.%N) - $t0, 1))")
    for p in "${pids[@]}"; do wait "$p" || { echo "worker failed:"; tail -3 "$W"/w$k-*.log; exit 1; }; done
    t1=$(date +%s.%N)
    rebalances=$(grep -h "assigned partitions" "$W"/w$k-*.log | wc -l)
    "$FIRN" --warehouse "$W/wh$k" scan firn.commits >"$W/c$k.jsonl"
    set -- $(/usr/bin/python3 - "$W/c$k.jsonl" "$t0" "$t1" "$records" <<'PY'
import json, sys
from datetime import datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["table_name"] == "production.parking_entry"]
def secs(v):
    if isinstance(v, (int, float)) or str(v).isdigit(): return int(v) / 1e6
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
last = max(secs(r["committed_at"]) for r in rows)
dur = last - t0
n = sum(int(r["rows_trusted"]) + int(r["rows_untrusted"]) for r in rows)
if n != int(sys.argv[4]):
    sys.exit(f"published {n} rows, the topic holds {sys.argv[4]} records")
picked = sum(1 for r in rows if "cherry" in str(r.get("outcome", "")))
print(f"{n / dur:.0f} {len(rows)} {len(rows) / dur:.1f} {100 * picked / max(len(rows), 1):.0f} {dur:.1f} {n / max(len(rows), 1):.0f} {t1 - last:.1f}")
PY
) || exit 1
    rate=$1 commits=$2 cps=$3 picked=$4 dur=$5 per=$6 leave=$7
    [ -z "$ref1" ] && ref1=$rate
    [ "$k" = 1 ] && label="1-worker" || label="$k-workers"
    echo "  $k worker(s): $records events in $dur s, $commits commits ($cps/s, $per events each, $picked% cherry-picked), $rebalances assignments, all held partitions after $tall s, exit ${leave} s after the last commit; scaling vs 1 worker $(/usr/bin/python3 -c "print(round($rate/$ref1,2))")x"
    echo "bench scaleout-$label: $rate events/s vs librdkafka consume-only $ref msg/s = $(/usr/bin/python3 -c "print(round($rate/$ref,3))")x"
done
