#!/usr/bin/env bash
# pipeline.test.sh - `firn run` end to end on the spool and on Kafka (librdkafka's
# mock cluster), checked against the simulator's ground truth (`firn sim --truth`,
# same seed): every simulated event lands exactly once - trusted, untrusted with the
# rule the simulator injected, or dead-letter; images read back byte-identical;
# firn.commits adds up (pipe_check.py). DuckDB (through the manifests) and icebird
# read the production tables. Crash: SIGKILL at every named point, then restart and
# drain: the same exactly-once result. make test: 5,000 events (Kafka 1,500);
# FIRN_TEST_LONG=1: 50,000.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${FIRN_PIPE_EVENTS:-5000}
NK=1500
[ -n "${FIRN_TEST_LONG:-}" ] && N=50000 && NK=4000
START=2026-11-26T08:00:00Z
SIM=(--set sim.image-width=96 --set sim.image-height=72 --sim-start "$START" --seed 7
     --bad-ratio 0.05 --set pipeline.commit-interval=200ms)

# run DIR N [ARGS...]: firn run on DIR's spool and warehouse until drained
run() {
    local dir=$1 n=$2; shift 2
    "$FIRN" --warehouse "$dir/wh" run --set stream.uri="${STREAM:-spool:$dir/spool}" "${SIM[@]}" \
        --sim-events "$n" --until-drained "$@"
}
# truth N: the simulator's ground truth and events for the same seed
truth() {
    [ -s "$WORK/truth-$1.jsonl" ] && return 0
    "$FIRN" sim --count "$1" --seed 7 --bad-ratio 0.05 --start "$START" --size 96x72 \
        --truth "$WORK/truth-$1.jsonl" --ndjson --quiet >"$WORK/events-$1.ndjson"
}
# verify DIR N: the tables hold exactly the simulated events
verify() {
    truth "$2" || return 1
    pipe_verify "$1/scan" "$WORK/truth-$2.jsonl" "$WORK/events-$2.ndjson" --warehouse "$1/wh"
}
# duck DIR TABLE: DuckDB's count, distinct eventIds and image bytes through the manifests
duck() {
    local WH=$1/wh
    ref_rows production "$2" main \
        "SELECT count(*) AS n, count(DISTINCT eventId) AS ids, sum(octet_length(image)) AS bytes FROM t"
}
# same_as_firn DIR TABLE: DuckDB agrees with firn's own scan
same_as_firn() {
    local got want
    got=$(duck "$1" "$2") || return 1
    want=$("$PY" -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
print(json.dumps({"n":str(len(rows)),"ids":str(len({r["eventId"] for r in rows})),"bytes":str(sum(len(r["image"])//2 for r in rows))},separators=(",",":")))' "$1/scan/production.$2.jsonl")
    [ "$got" = "$want" ] || { echo "DuckDB: $got, firn scan: $want"; return 1; }
}
# icebird DIR TABLE: icebird reads the same eventIds and carIds as firn's scan
icebird_same() {
    local WH=$1/wh md
    md=$(md_of production "$2")
    node "$INTEROP/pipe_icebird.mjs" "$1/wh/production/$2" "$(basename "$md")" | sort >"$1/ib.txt" || return 1
    "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l); print(r["eventId"]+"\t"+r["carId"])' "$1/scan/production.$2.jsonl" | sort >"$1/firn.txt"
    cmp -s "$1/ib.txt" "$1/firn.txt" || { echo "icebird: $(wc -l <"$1/ib.txt") rows, firn: $(wc -l <"$1/firn.txt")"; diff "$1/ib.txt" "$1/firn.txt" | head -5; return 1; }
}

D=$WORK/plain
check "firn run drains $N simulated events (spool)" run "$D" "$N"
check "every event lands exactly once, rules as injected, images identical" verify "$D" "$N"
check "DuckDB reads production.parking_entry as firn does" same_as_firn "$D" parking_entry
check "DuckDB reads production.parking_exit as firn does" same_as_firn "$D" parking_exit
check "icebird reads production.parking_entry" icebird_same "$D" parking_entry
check "icebird reads production.parking_exit" icebird_same "$D" parking_exit
check "main only holds audited data: every main snapshot is a published dev snapshot or carries offsets" \
    bash -c "[ \"\$('$FIRN' --warehouse '$D/wh' scan firn.commits --where \"outcome = 'rejected'\" | wc -l)\" = 0 ]"
check "a second run with the same command adds nothing" bash -c \
    "'$FIRN' --warehouse '$D/wh' run --set stream.uri=spool:$D/spool ${SIM[*]} --sim-events $N --until-drained 2>&1 | grep -q '0 simulated ($N already there)'"
check "... and the tables still hold each event once" verify "$D" "$N"

# a failed audit: the batch goes to untrusted with audit:<check>, main's data unchanged
# (production tables only: a rejected dead-letter batch, with no untrusted table, is read
# again until it passes - rejected.test.sh)
A=$WORK/audit
quarantine() {
    FIRN_WAP_AUDIT_FAIL=records@production. run "$A" 300 2>"$A.err" || { cat "$A.err"; return 1; }
    local t=0 u
    for x in parking_entry parking_exit; do
        t=$((t + $("$FIRN" --warehouse "$A/wh" scan production.$x | wc -l)))
    done
    u=$("$FIRN" --warehouse "$A/wh" scan staging.parking_entry_untrusted --where "failed_rules = 'audit:records: branch snapshot added 0 rows, batch has 0'" | wc -l)
    [ "$t" = 0 ] || { echo "$t rows on main after failed audits"; return 1; }
    "$FIRN" --warehouse "$A/wh" scan staging.parking_entry_untrusted --columns failed_rules |
        grep -q 'audit:records' || { echo "no audit:records rows"; return 1; }
    "$FIRN" --warehouse "$A/wh" branch list production.parking_entry | grep -q '^rejected-' ||
        { echo "no rejected-<id> tag"; return 1; }
    "$FIRN" --warehouse "$A/wh" scan firn.commits --columns outcome | grep -q rejected
}
check "failed audits quarantine every batch, tag it, keep main empty" quarantine

# crash at every named point, restart, drain: the same exactly-once result
crash_then_drain() {
    local point=$1 dir=$WORK/crash-${1//[:.]/-} rc
    FIRN_CRASH_AT=$point run "$dir" "$N" >"$dir.log" 2>&1
    rc=$?
    [ "$rc" = 137 ] || { echo "run with FIRN_CRASH_AT=$point exited $rc, want 137 (killed)"; tail -3 "$dir.log"; return 1; }
    run "$dir" "$N" >>"$dir.log" 2>&1 || { tail -5 "$dir.log"; return 1; }
    verify "$dir" "$N"
}
for p in sim.after-append:3 classify.after-routing:2 wap.after-data-files:2 \
         wap.after-branch-commit:2 wap.after-publish:3 commit.after-metadata-write:4 \
         commit.after-catalog-swap:5 append.after-manifest-list-write:3; do
    check "crash at $p, restart: exactly once" crash_then_drain "$p"
done
# a transient I/O error in a batch's write or publish: the batch is read again
# (and what the handler learned from it - the dedupe window - forgotten). Only
# writes of data files count (FIRN_IO_FAIL_PATH): those belong to batches alone,
# whatever order the processors' threads write in
io_error() {
    local dir=$WORK/io-$1
    FIRN_IO_FAIL_OP=write FIRN_IO_FAIL_PATH=/data/ FIRN_IO_FAIL_AT=$1 run "$dir" "$N" >"$dir.log" 2>&1 ||
        { tail -5 "$dir.log"; return 1; }
    grep -q "batch not published, re-reading" "$dir.log" || { echo "no batch failed"; return 1; }
    verify "$dir" "$N"
}
for n in 3; do
    check "an I/O error at data file write $n: the batch is re-read, exactly once" io_error "$n"
done
# SIGKILL at a random moment mid-batch, twice, then drain
midbatch() {
    local dir=$WORK/kill9 pid
    for delay in 0.4 0.7; do
        "$FIRN" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" "${SIM[@]}" \
            --sim-events "$N" --until-drained --sim-rate 4000 >>"$dir.log" 2>&1 & pid=$!
        sleep "$delay"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
    run "$dir" "$N" >>"$dir.log" 2>&1 || { tail -5 "$dir.log"; return 1; }
    verify "$dir" "$N"
}
check "SIGKILL mid-batch twice, restart: exactly once" midbatch
# one spool, one pipeline: a second `firn run` on the same spool is refused
second_run() {
    local dir=$WORK/two pid rc
    "$FIRN" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" "${SIM[@]}" \
        --sim-events "$N" --sim-rate 500 >/dev/null 2>&1 & pid=$!
    sleep 0.5
    run "$dir" "$N" >"$dir.log" 2>&1; rc=$?
    kill "$pid"; wait "$pid"
    [ "$rc" != 0 ] && grep -q "another firn" "$dir.log" || { echo "rc=$rc"; cat "$dir.log"; return 1; }
}
check "a second firn run on the same spool is refused" second_run

# maintenance inside firn run compacts main between a batch's write and its
# publish: the cherry-pick path publishes it; nothing lost or doubled
with_maintenance() {
    local dir=$WORK/maint out
    # each publish waits 300 ms after its write, so the 200 ms compaction lands in between
    out=$(FIRN_PROCESS_PAUSE_BEFORE_PUBLISH_MS=300 run "$dir" "$N" --sim-rate 2500 --set pipeline.commit-interval=100ms \
        --set maintain.compact-interval=200ms --set maintain.compact-min-files=2 \
        --set maintain.expire-interval=500ms --set maintain.rewrite-manifests-interval=700ms 2>&1) ||
        { echo "$out" | tail -5; return 1; }
    echo "$out" | tail -1
    echo "$out" | grep -Eq '[1-9][0-9]* cherry-picked' || { echo "no batch was cherry-picked"; return 1; }
    echo "$out" | grep -Eq '[1-9][0-9]* compactions' || { echo "nothing was compacted"; return 1; }
    verify "$dir" "$N" && icebird_same "$dir" parking_entry
}
check "compaction between write and publish: cherry-picked, exactly once, icebird reads it" with_maintenance
check "a daily tag marks the day's first published snapshot" bash -c \
    "'$FIRN' --warehouse '$WORK/maint/wh' branch list production.parking_entry | grep -q '^daily-2026-'"
# SIGTERM publishes the open batch and exits cleanly; a restart finishes the job
sigterm() {
    local dir=$WORK/term pid rc
    "$FIRN" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" "${SIM[@]}" \
        --sim-events "$N" --until-drained --sim-rate 3000 >"$dir.log" 2>&1 & pid=$!
    sleep 0.8; kill -TERM "$pid"; wait "$pid"; rc=$?
    [ "$rc" = 0 ] || { echo "exit $rc after SIGTERM"; tail -3 "$dir.log"; return 1; }
    run "$dir" "$N" >>"$dir.log" 2>&1 || { tail -3 "$dir.log"; return 1; }
    verify "$dir" "$N"
}
check "SIGTERM stops cleanly (exit 0); a restart drains: exactly once" sigterm

# the same on Kafka (librdkafka's mock cluster; topics created through the mock:
# its controller-less cluster cannot serve CreateTopics)
mock_kafka_start
kafka_run() {
    for t in events parking-entry parking-exit dead-letter; do mock create "$t" 4 3 || return 1; done
    STREAM=kafka://$BOOT run "$WORK/kafka" "$NK"
}
check "firn run drains $NK simulated events (Kafka mock cluster)" kafka_run
check "Kafka: every event lands exactly once, rules as injected, images identical" verify "$WORK/kafka" "$NK"
finish
