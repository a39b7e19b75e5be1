#!/usr/bin/env bash
# serve_rest.test.sh - the Iceberg REST catalog mounted at /iceberg by `firn run
# --listen` and `firn serve`:
#  - while `firn run --listen ... --until-drained` (a small paced simulation) commits,
#    a REST client loading production.parking_entry through /iceberg sees the metadata
#    location and snapshot the SQL catalog has
#  - firn's REST client (--catalog http://.../iceberg) against `firn serve`: namespace
#    and table lists and scans equal those of the SQL catalog; a table created and
#    appended to through REST scans back from the SQL catalog
#  - iceberg-js against `firn serve`: namespaces, the pipeline's table, create a
#    namespace and a table, commit; and the whole rest_icebergjs.mjs and
#    rest_protocol.py sweeps (written for tests/tools/rest_server) against it
#  - auth: 401 without a token, 403 with a read-only one, reads open or not per
#    server.read-auth; errors in the Iceberg error model; 413 over
#    server.iceberg-max-body
#  - every logged answer (--iceberg-log) valid per the OpenAPI document
#  - garbage paths, escapes and bodies under /iceberg: 4xx, never a crash
#  - the request log and /metrics count /iceberg requests
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=$WORK/sr
mkdir -p "$D"
WH=$D/wh
DB=$WH/catalog.db
SPEC=$INTEROP/spec/rest-catalog-open-api.yaml
WTOK=w-$RANDOM$RANDOM
RTOK=r-$RANDOM$RANDOM
SETS=(--set stream.uri="spool:$D/spool" --set sim.image-width=48 --set sim.image-height=36
      --set pipeline.commit-interval=100ms)
CHECK=("$PY" "$INTEROP/serve_rest_check.py")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
eq() { [ "$1" = "$2" ] || { printf 'got:  %s\nwant: %s\n' "$1" "$2"; return 1; }; }

# ------------------------------------------------ firn run --listen, live
"$FIRN" --warehouse "$WH" run --listen 127.0.0.1:0 "${SETS[@]}" --set server.state-dir="$D/st-run" \
    --sim-events 240 --sim-rate 80 --seed 3 --sim-start 2026-11-26T08:00:00Z --until-drained \
    >"$D/run.out" 2>"$D/run.log" &
RPID=$!
PIDS+=("$RPID")
for _ in $(seq 100); do grep -q "(port [0-9]*)" "$D/run.log" 2>/dev/null && break; sleep 0.05; done
RPORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$D/run.log" | head -1)
check "firn run --listen serves" test -n "$RPORT"
check "while firn run commits, /iceberg shows the SQL catalog's snapshot of production.parking_entry" \
    "${CHECK[@]}" live "http://127.0.0.1:$RPORT/iceberg" "$DB" "$RPID"
wait "$RPID"; RRC=$?
check "firn run drains" test "$RRC" -eq 0
check "firn run's request log has the /iceberg requests" \
    grep -qE '^firn serve: 127\.0\.0\.1 GET /iceberg/v1/namespaces/production/tables/parking_entry 200 ' "$D/run.log"

# serve NAME ARGS...: firn serve on a free port; sets BASE (the catalog's URL) and SPID
serve() {
    local name=$1; shift
    BASE=
    "$FIRN" --warehouse "$WH" serve --listen 127.0.0.1:0 "${SETS[@]}" \
        --set server.state-dir="$D/st-$name" --iceberg-log "$D/$name.jsonl" "$@" \
        >"$D/$name.out" 2>"$D/$name.log" &
    SPID=$!
    PIDS+=("$SPID")
    for _ in $(seq 100); do grep -q listening "$D/$name.out" 2>/dev/null && break; sleep 0.05; done
    BASE=$(sed -n 's/^firn serve: listening on \(http:[^ ]*\)\/$/\1/p' "$D/$name.out")/iceberg
}
started() { [ "$BASE" != /iceberg ] && kill -0 "$SPID" 2>/dev/null || { cat "$D/$1.log"; return 1; }; }
alive() { kill -0 "$SPID" 2>/dev/null || { echo "server died"; tail -5 "$D/$1.log"; return 1; }; }

serve main --set server.tokens="$WTOK" --set server.read-tokens="$RTOK"
check "firn serve starts" started main

# ------------------------------------------------ firn's REST client
fr() { "$FIRN" --catalog "$BASE" --warehouse "$WH" "$@"; }
fs() { "$FIRN" --warehouse "$WH" "$@"; }
same() { # CMD...: the same output through /iceberg and from the SQL catalog
    local a b
    a=$(fr "$@") || return 1
    b=$(fs "$@") || return 1
    [ -n "$b" ] || { echo "empty output"; return 1; }
    [ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") | head -5; return 1; }
}
check "REST client: namespace list = SQL catalog" same namespace list
check "REST client: table list production = SQL catalog" same table list production
check "REST client: table list staging = SQL catalog" same table list staging
check "REST client: scan production.parking_entry = SQL catalog" same scan production.parking_entry
check "REST client: scan production.parking_exit = SQL catalog" same scan production.parking_exit
check "REST client: scan firn.commits = SQL catalog" same scan firn.commits
check "REST client: the scans are not empty" test "$(fr scan production.parking_entry | wc -l)" -gt 0
cat >"$D/s.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"name","required":false,"type":"string"}]}
JSON
printf 'id,name\n1,a\n2,b\n3,c\n' >"$D/rows.csv"
expect_fail() { local out; if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi; grep -q "$FAIL_PAT" <<<"$out" || { echo "$out"; return 1; }; }
FAIL_PAT="HTTP 401"
check "REST client: a write without a token fails with 401" expect_fail fr namespace create viarest
FAIL_PAT="HTTP 403"
check "REST client: a write with a read-only token fails with 403" \
    expect_fail env FIRN_REST_TOKEN="$RTOK" "$FIRN" --catalog "$BASE" --warehouse "$WH" namespace create viarest
frw() { FIRN_REST_TOKEN=$WTOK fr "$@"; }
check "REST client: namespace create with the write token" frw namespace create viarest
check "REST client: table create" frw table create viarest.t --schema "$D/s.json"
check "REST client: append" frw append viarest.t "$D/rows.csv"
check "the SQL catalog scans what was appended through REST" eq "$(fs scan viarest.t | wc -l)" 3
check "... the same rows through REST" same scan viarest.t

# ------------------------------------------------ iceberg-js
EXPECT=$("${CHECK[@]}" expect "$DB" production parking_entry)
check "iceberg-js against firn serve: namespaces, the pipeline's table, create, commit" \
    node "$INTEROP/serve_rest_ijs.mjs" "$BASE" "$WTOK" "$EXPECT"
check "iceberg-js's commit is in the SQL catalog" eq "$("${CHECK[@]}" prop "$DB" restjs visits committed-by)" iceberg-js
check "iceberg-js protocol sweep (rest_icebergjs.mjs) against firn serve" \
    node "$INTEROP/rest_icebergjs.mjs" "$BASE" "" "$WTOK"
check "protocol sweep (rest_protocol.py) against firn serve" \
    env FIRN_TEST_REST_TOKEN="$WTOK" "$PY" "$INTEROP/rest_protocol.py" "$BASE"

# ------------------------------------------------ auth, limits
check "auth: 401 without a token, 403 read-only, reads open" "${CHECK[@]}" auth "$BASE" "$WTOK" "$RTOK"
check "the request log and /metrics count /iceberg requests" bash -c "
    grep -qE '^firn serve: 127\.0\.0\.1 POST /iceberg/v1/namespaces 403 ' '$D/main.log' &&
    curl -sf '${BASE%/iceberg}/metrics' | grep -qE '^firn_iceberg_requests_total\{method=\"POST\",code=\"403\"\} [1-9]'"
check "namespaces are logged with their escapes (no control characters in the log)" \
    bash -c "! LC_ALL=C grep -q \$'\\x1f' '$D/main.log'"
kill "$SPID"; wait "$SPID" 2>/dev/null

serve ro --set server.tokens="$WTOK" --set server.read-tokens="$RTOK" --set server.read-auth=true \
    --set server.iceberg-max-body=64KiB
check "firn serve with server.read-auth" started ro
check "read-auth: reads need a token; a read-only one reads, cannot write" \
    "${CHECK[@]}" auth-read "$BASE" "$RTOK"
check "413 over server.iceberg-max-body" "${CHECK[@]}" limits "$BASE" "$WTOK" 65536
kill "$SPID"; wait "$SPID" 2>/dev/null

check "every /iceberg answer is valid per the OpenAPI document" \
    python3 "$INTEROP/rest_openapi.py" "$SPEC" "$D/main.jsonl" "$D/ro.jsonl"

check "firn help serve prints docs/cli/serve.md" bash -c "'$FIRN' help serve | cmp - docs/cli/serve.md"

# ------------------------------------------------ garbage
serve fz --set server.tokens="$WTOK"
check "firn serve for the fuzz loop" started fz
check "garbage under /iceberg: 4xx, no 5xx" "${CHECK[@]}" fuzz "$BASE" "$WTOK" 300
check "the server still runs after the fuzz loop" alive fz
check "the pipeline's table is unchanged by the garbage" same scan production.parking_entry
finish
