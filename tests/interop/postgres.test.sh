#!/usr/bin/env bash
# postgres.test.sh - the PostgreSQL catalog against a private PostgreSQL 15 this
# test starts (pg_server.sh: initdb + pg_ctl on a free port, stopped at the end):
# the whole catalog unit suite on PostgreSQL (build/firn-tests catalog with
# FIRN_PG_URI: every scenario also runs as catalog_pg_*), the CLI through
# --catalog postgresql://..., 4 processes appending to one table (no lost commit),
# a server restart under the CLI, and `firn run` end to end with the exactly-once
# check against the simulator's ground truth.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$INTEROP/pg_server.sh"

if ! pg_start >"$WORK/pg_start.log" 2>&1; then
    check "start PostgreSQL" bash -c "cat '$WORK/pg_start.log'; false"
    finish; exit 1
fi
export FIRN_PG_RESTART_CMD="bash -c 'source $INTEROP/pg_server.sh; PG_DIR=$PG_DIR PG_PORT=$PG_PORT; pg_restart 1'"
psql_() { "$PG_BIN/psql" -qAt -F $'\t' "$PG_ADMIN dbname=firn_test" -c "$1"; }

# ------------------------------------------------------------- unit suite
unit_on_pg() {
    local out
    out=$("$FIRN_BUILD/firn-tests" catalog 2>&1)
    local rc=$?
    printf '%s\n' "$out" | grep -E '^(FAIL|    )' | head -40
    local npg
    npg=$(printf '%s\n' "$out" | grep -c '^ok   catalog_pg_')
    echo "$npg PostgreSQL scenarios passed; $(printf '%s\n' "$out" | tail -n 1)"
    [ "$rc" -eq 0 ] && [ "$npg" -ge 14 ]
}
check "catalog unit suite on SQLite and PostgreSQL (catalog_pg_*)" unit_on_pg
# the table, producer and WAP unit tests with their catalogs on PostgreSQL
tables_on_pg() {
    local out rc f
    for f in ice_table ice_producer wap_; do
        out=$(FIRN_TEST_CATALOG=postgresql "$FIRN_BUILD/firn-tests" "$f" 2>&1); rc=$?
        printf '%s\n' "$out" | grep -E '^(FAIL|    )' | head -20
        echo "$f: $(printf '%s\n' "$out" | tail -n 1)"
        [ "$rc" -eq 0 ] || return 1
    done
    # they did run on PostgreSQL: one schema per warehouse, with tables in it
    local n
    n=$(psql_ "SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'w!_%' ESCAPE '!' AND tablename = 'iceberg_tables'")
    echo "$n test warehouses had their catalog in PostgreSQL"
    [ "$n" -ge 5 ]
}
check "table, producer and WAP unit tests on the PostgreSQL catalog" tables_on_pg

# ------------------------------------------------------------- CLI
# its own schema, as a JDBC catalog with currentSchema would use
psql_ "CREATE SCHEMA cli" >/dev/null
URI="$FIRN_PG_URI?options=-csearch_path%3Dcli"
WH=$WORK/wh
fc() { "$FIRN" --catalog "$URI" --warehouse "$WH" "$@"; }
cat >"$WORK/s.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"who","required":false,"type":"string"}]}
JSON
check "namespace create" fc namespace create db --property owner=ops
check "the namespace is a row in PostgreSQL" \
    eq "$(psql_ "SELECT property_value FROM cli.iceberg_namespace_properties WHERE namespace='db' AND property_key='owner'")" ops
check "namespace list" eq "$(fc namespace list)" db
check "namespace create twice fails" bash -c \
    "! '$FIRN' --catalog '$URI' --warehouse '$WH' namespace create db 2>'$WORK/twice.err' && grep -q \"'db' already exists\" '$WORK/twice.err'"
check "table create" fc table create db.t --schema "$WORK/s.json"
printf 'id,who\n1,a\n2,b\n3,c\n' >"$WORK/r.csv"
check "append" fc append db.t "$WORK/r.csv"
check "scan reads the rows back" eq "$(fc scan db.t | sort | tr -d ' ')" \
    "$(printf '{"id":1,"who":"a"}\n{"id":2,"who":"b"}\n{"id":3,"who":"c"}')"
check "the table row points at the newest metadata file" bash -c \
    "test -f \"\$($PG_BIN/psql -qAt '$PG_ADMIN dbname=firn_test' -c \"SELECT substr(metadata_location, 6) FROM cli.iceberg_tables WHERE table_name='t'\")\""
check "a password in the URI never shows in errors" bash -c \
    "out=\$('$FIRN' --catalog 'postgresql://firn:WrongPass@127.0.0.1:$PG_PORT/firn_test' --warehouse '$WH' namespace list 2>&1); echo \"\$out\"; ! grep -q WrongPass <<<\"\$out\" && grep -q 'password authentication failed' <<<\"\$out\""
check "password from FIRN_CATALOG_PASSWORD" bash -c \
    "FIRN_CATALOG_PASSWORD=$PG_PASSWORD '$FIRN' --catalog 'postgresql://firn@127.0.0.1:$PG_PORT/firn_test?options=-csearch_path%3Dcli' --warehouse '$WH' namespace list | grep -qx db"
check "password from PGPASSWORD" bash -c \
    "PGPASSWORD=$PG_PASSWORD '$FIRN' --catalog 'postgresql://firn@127.0.0.1:$PG_PORT/firn_test?options=-csearch_path%3Dcli' --warehouse '$WH' namespace list | grep -qx db"

# 4 processes append to one table at once: every commit lands (the table's
# snapshots and rows add up), none lost to a race
concurrent_appends() {
    local p j pids=()
    fc table create db.c --schema "$WORK/s.json" >/dev/null || return 1
    for p in 1 2 3 4; do
        (for j in 1 2 3 4 5; do
             printf 'id,who\n%d,p%d\n' "$((p * 100 + j))" "$p" >"$WORK/c$p-$j.csv"
             fc append db.c "$WORK/c$p-$j.csv" >/dev/null || exit 1
         done) & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { echo "an appender failed"; return 1; }; done
    local rows snaps
    rows=$(fc scan db.c | wc -l)
    snaps=$(fc table show db.c | sed -nE 's/^snapshots: ([0-9]+)$/\1/p')
    eq "$rows $snaps" "20 20"
}
check "4 processes x 5 appends to one table: 20 snapshots, 20 rows" concurrent_appends

restart_under_cli() {
    ( sleep 0.3; pg_restart 2 ) & local rpid=$!
    sleep 0.8 # the server is down now: the CLI waits for it
    printf 'id,who\n9,z\n' >"$WORK/z.csv"
    fc append db.t "$WORK/z.csv" >/dev/null || return 1
    wait "$rpid"
    eq "$(fc scan db.t | wc -l)" 4
}
check "a CLI started while the server restarts waits for it (connection retry)" restart_under_cli

# ------------------------------------------------------------- firn run
N=500
START=2026-11-26T08:00:00Z
psql_ "CREATE SCHEMA pipe" >/dev/null
PURI="$FIRN_PG_URI?options=-csearch_path%3Dpipe"
D=$WORK/pipe
SIM=(--set sim.image-width=48 --set sim.image-height=36 --sim-start "$START" --seed 7
     --bad-ratio 0.05 --set pipeline.commit-interval=200ms)
check "firn run --sim-events $N --until-drained on the PostgreSQL catalog" \
    "$FIRN" --catalog "$PURI" --warehouse "$D/wh" run --set stream.uri="spool:$D/spool" "${SIM[@]}" \
    --sim-events "$N" --until-drained
verify_pipe() {
    "$FIRN" sim --count "$N" --seed 7 --bad-ratio 0.05 --start "$START" --size 48x36 \
        --truth "$WORK/truth.jsonl" --ndjson --quiet >"$WORK/events.ndjson" || return 1
    pipe_verify "$D/scan" "$WORK/truth.jsonl" "$WORK/events.ndjson" --catalog "$PURI" --warehouse "$D/wh"
}
check "the tables hold every event exactly once (ground truth)" verify_pipe
check "the pipeline's tables are rows in PostgreSQL, not in a SQLite file" bash -c \
    "[ \"\$($PG_BIN/psql -qAt '$PG_ADMIN dbname=firn_test' -c \"SELECT count(*) FROM pipe.iceberg_tables WHERE table_namespace IN ('production','staging','firn')\")\" -ge 6 ] && [ ! -e '$D/wh/catalog.db' ]"
finish
