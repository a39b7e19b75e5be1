#!/usr/bin/env bash
# bench/scaleout.sh - events/s of parking-entry published by 1, 2 and 3 `firn process
# --group` workers (processes) on the mock Kafka cluster (NOT representative of a real
# broker). N events are routed first; each worker count runs on a fresh warehouse until
# the group drained the topic. Throughput = rows / (wall time from the first
# assignment to the group's exit): later joins and rebalances (~3 s each on the mock) count. Reference: 1 worker.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-20000}
FIRN=$PWD/build/firn
W=$(mktemp -d /tmp/bench-scaleout.XXXXXX)
coproc MOCK { exec build/tools/mock_kafka --brokers 3; }
trap 'kill $MOCK_PID 2>/dev/null; rm -rf "$W"' EXIT
read -r BOOT <&"${MOCK[0]}"
for t in events parking-entry parking-exit dead-letter; do echo "create $t 6 3" >&"${MOCK[1]}"; read -r _ <&"${MOCK[0]}"; done
SETS=(--set stream.uri="kafka://$BOOT" --set stream.partitions=6 --set pipeline.commit-interval=200ms
      --set kafka.partition.assignment.strategy=roundrobin)
"$FIRN" sim --stream "kafka://$BOOT" --count "$N" --seed 7 --start 2026-11-26T08:00:00Z --size 64x48 --quiet --ndjson >/dev/null
"$FIRN" --warehouse "$W/cls" classify "${SETS[@]}" --until-drained 2>/dev/null
ref=
for k in 1 2 3; do
    pids=()
    for ((i = 1; i <= k; i++)); do
        "$FIRN" --warehouse "$W/wh$k" process --topic parking-entry --group "bench$k" --worker "w$i" \
            "${SETS[@]}" --until-drained >"$W/w$k-$i.log" 2>&1 & pids+=($!)
        [ "$i" = 1 ] && sleep 1 # the first worker creates the tables
    done
    while ! grep -q "assigned partitions" "$W"/w$k-*.log 2>/dev/null; do sleep 0.02; done
    t0=$(date +%s.%N)
    for p in "${pids[@]}"; do wait "$p"; done
    t1=$(date +%s.%N)
    "$FIRN" --warehouse "$W/wh$k" scan firn.commits >"$W/c$k.jsonl"
    dur=$(/usr/bin/python3 -c "print($t1 - $t0)")
    rate=$(/usr/bin/python3 - "$W/c$k.jsonl" "$dur" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["table_name"] == "production.parking_entry"]
from datetime import datetime
def us(v):
    if isinstance(v, (int, float)) or str(v).isdigit(): return int(v)
    return int(datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp() * 1e6)
ts = sorted(us(r["committed_at"]) for r in rows)
n = sum(int(r["rows_trusted"]) + int(r["rows_untrusted"]) for r in rows)
print(f"{n / float(sys.argv[2]):.0f} {len(rows)}")
PY
)
    set -- $rate
    [ -z "$ref" ] && ref=$1
    echo "bench scaleout-${k}-workers: $1 events/s vs 1-worker $ref events/s = $(/usr/bin/python3 -c "print(round($1/$ref,2))")x ($2 commits)"
done
