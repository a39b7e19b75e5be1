#!/usr/bin/env bash
# rest.test.sh - firn's Iceberg REST catalog (src/rest, served by build/tools/rest_server
# on a free loopback port) and firn's REST client (--catalog http://.../iceberg):
#  - firn's CLI against firn's server: namespaces, tables, appends, scans, publish
#    (transactions/commit, and one by one on a server without it)
#  - iceberg-js (an independent REST client, npm) against firn's server
#  - plain-HTTP protocol checks: each requirement answers 409 when stale, transactions
#    all or none, metrics, register, purge, error answers (rest_protocol.py)
#  - 4 processes x 20 appends through the server: no snapshot lost
#  - bearer tokens and OAuth2 client credentials
#  - every response the servers gave, validated against the OpenAPI document with
#    openapi-schema-validator (the image's python3.11, first on PATH)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SPEC=$INTEROP/spec/rest-catalog-open-api.yaml
PY311=python3
WH=$WORK/wh
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# start_server NAME ARGS...: rest_server on a free port; sets PORT
start_server() {
    local name=$1; shift
    rm -f "$WORK/$name.port"
    "$TOOLS/rest_server" --catalog "sqlite:$WH/catalog.db" --warehouse "$WH" \
        --port-file "$WORK/$name.port" --log "$WORK/$name.log" "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    wait_for_file "$WORK/$name.port"
    PORT=$(cat "$WORK/$name.port")
}
# json URL EXPR: evaluate a python expression over the JSON at URL (as j)
json() { "$PY311" -c 'import json,sys,urllib.request
j=json.load(urllib.request.urlopen(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

check "python3 has openapi-schema-validator" "$PY311" -c "import openapi_schema_validator, yaml"
check "the validator rejects a bad answer and accepts a good one" \
    "$PY311" "$INTEROP/rest_openapi.py" "$SPEC" --self-test

start_server main --prefix firn
BASE=http://127.0.0.1:$PORT/iceberg
fc() { "$FIRN" --catalog "$BASE" --warehouse "$WH" "$@"; }

cat >"$WORK/s.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"name","required":false,"type":"string"}]}
JSON
printf 'id,name\n1,a\n2,b\n3,c\n' >"$WORK/rows.csv"
printf 'id,name\n7,x\n' >"$WORK/one.csv"

# ---------------------------------------------------------------- firn client
check "namespace create through REST" fc namespace create db --property owner=ops
check "nested namespace" fc namespace create db.sub
check "namespace list" eq "$(fc namespace list)" db
check "namespace list PARENT" eq "$(fc namespace list db)" db.sub
check "namespace show" bash -c "'$FIRN' --catalog '$BASE' --warehouse '$WH' namespace show db | grep -qx '  owner=ops'"
check "namespace create twice fails" expect_fail "AlreadyExistsException" fc namespace create db
check "namespace drop" fc namespace drop db.sub
check "table create (register of firn's first metadata file)" fc table create db.t --schema "$WORK/s.json"
check "table list" eq "$(fc table list db)" db.t
check "append" fc append db.t "$WORK/rows.csv"
check "append again" fc append db.t "$WORK/rows.csv"
check "scan reads both appends" eq "$(fc scan db.t | wc -l)" 6
check "the server's metadata has 2 snapshots" \
    eq "$(json "$BASE/v1/firn/namespaces/db/tables/t" 'len(j["metadata"]["snapshots"])')" 2
check "the server wrote the metadata file the client adopted" \
    eq "$(json "$BASE/v1/firn/namespaces/db/tables/t" 'j["metadata-location"].split("/")[-1][:5]')" 00002
check "table rename" fc table rename db.t db.t2
check "renamed table scans" eq "$(fc scan db.t2 | wc -l)" 6
check "table drop" fc table drop db.t2
check "dropped table is gone" expect_fail "NoSuchTableException" fc scan db.t2

# publish: a multi-table fast-forward (transactions/commit)
for t in p1 p2; do
    check "create $t" fc table create db.$t --schema "$WORK/s.json"
    check "append to $t on main" fc append db.$t "$WORK/one.csv"
    check "append to $t on dev" fc append db.$t "$WORK/rows.csv" --branch dev
done
check "publish dev (transactions/commit)" fc publish --branch dev --namespace db
check "publish moved main of p1" eq "$(fc scan db.p1 | wc -l)" 4
check "publish moved main of p2" eq "$(fc scan db.p2 | wc -l)" 4
check "publish went through transactions/commit" \
    grep -q '"path":"/v1/firn/transactions/commit","status":204' "$WORK/main.log"

# ------------------------------------------------- a server without transactions
start_server notx --transactions-404
NOTX=http://127.0.0.1:$PORT/iceberg
fn() { "$FIRN" --catalog "$NOTX" --warehouse "$WH" "$@"; }
for t in p1 p2; do check "append to $t on dev again" fn append db.$t "$WORK/one.csv" --branch dev; done
check "publish without transactions/commit (one by one)" fn publish --branch dev --namespace db
check "... p1 moved" eq "$(fn scan db.p1 | wc -l)" 5
check "... p2 moved" eq "$(fn scan db.p2 | wc -l)" 5
check "... after transactions/commit answered 404" \
    grep -q '"path":"/v1/transactions/commit","status":404' "$WORK/notx.log"
check "... table by table" grep -q '"method":"POST","path":"/v1/namespaces/db/tables/p2","status":200' "$WORK/notx.log"

# a server that does not offer transactions/commit: not in its endpoints, 406 if called
start_server notx2 --no-transactions
NOTX2=http://127.0.0.1:$PORT/iceberg
check "--no-transactions leaves transactions/commit out of the endpoints" \
    eq "$(json "$NOTX2/v1/config" '[e for e in j["endpoints"] if "transactions" in e]')" "[]"
fn2() { "$FIRN" --catalog "$NOTX2" --warehouse "$WH" "$@"; }
for t in p1 p2; do check "append to $t on dev (server without transactions)" fn2 append db.$t "$WORK/one.csv" --branch dev; done
check "publish on a server without transactions/commit" fn2 publish --branch dev --namespace db
check "... p1 and p2 moved" eq "$(fn2 scan db.p1 | wc -l) $(fn2 scan db.p2 | wc -l)" "6 6"
check "... without calling transactions/commit" bash -c "! grep -q 'transactions/commit' '$WORK/notx2.log'"
check "... which answers 406 when called" eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{"table-changes":[]}' "$NOTX2/v1/transactions/commit")" 406

# ------------------------------------------------------------ protocol checks
check "protocol: requirements, transactions, metrics, register, purge, errors" \
    "$PY311" "$INTEROP/rest_protocol.py" "$BASE"

# ---------------------------------------------------------------- iceberg-js
ijs_dir=$INTEROP
if ! (cd "$INTEROP" && node -e "import('iceberg-js').then(()=>0,()=>process.exit(1))") 2>/dev/null; then
    # not installed in tests/interop/node_modules yet: a private install (FIRN_NPM_EXTRA)
    ijs_dir=${FIRN_NPM_EXTRA:-}
fi
if [ -n "$ijs_dir" ] && [ "$ijs_dir" != "$INTEROP" ]; then cp "$INTEROP/rest_icebergjs.mjs" "$ijs_dir/"; fi
check "iceberg-js is installed (npm ci in tests/interop)" test -n "$ijs_dir"
check "iceberg-js against firn's server" node "${ijs_dir:-$INTEROP}/rest_icebergjs.mjs" "$BASE" wh

# ------------------------------------------- concurrent appends through the server
check "table for concurrent appends" fc table create db.c --schema "$WORK/s.json" \
    --property commit.retry.num-retries=200 --property commit.retry.min-wait-ms=5 \
    --property commit.retry.max-wait-ms=200
# 4 x 5 appends in make test; 4 x 20 in make test-long (about 12 s: ~0.1 s a commit)
NAPP=5; [ -n "${FIRN_TEST_LONG:-}" ] && NAPP=20
NSNAP=$((4 * NAPP))
appender() { for _ in $(seq $NAPP); do fc append db.c "$WORK/one.csv" >/dev/null || return 1; done; }
cpids=()
for w in 1 2 3 4; do appender >"$WORK/app$w.out" 2>&1 & cpids+=($!); done
crc=0; for p in "${cpids[@]}"; do wait "$p" || crc=1; done
check "4 processes x $NAPP appends all succeed" bash -c "[ $crc -eq 0 ] || cat '$WORK'/app*.out"
check "$NSNAP snapshots, none lost" \
    eq "$(json "$BASE/v1/firn/namespaces/db/tables/c" 'len(j["metadata"]["snapshots"])')" $NSNAP
check "$NSNAP rows scan back" eq "$(fc scan db.c | wc -l)" $NSNAP
check "the snapshots form one chain" eq "$(json "$BASE/v1/firn/namespaces/db/tables/c" \
    'len({s.get("parent-snapshot-id") for s in j["metadata"]["snapshots"]})')" $NSNAP
check "some commits lost a race and answered 409" \
    grep -q '"path":"/v1/firn/namespaces/db/tables/c","status":409' "$WORK/main.log"

# --------------------------------------------------------------- authentication
start_server auth --token sesame-123 --oauth firn-client:s3cret
AUTH=http://127.0.0.1:$PORT/iceberg
fa() { env "$@" "$FIRN" --catalog "$AUTH" --warehouse "$WH" namespace list; }
lists_db() { eq "$(fa "$@")" db; }
check "no credentials: 401" expect_fail "HTTP 401" fa
check "bearer token" lists_db FIRN_REST_TOKEN=sesame-123
check "wrong bearer token: 401" expect_fail "HTTP 401" fa FIRN_REST_TOKEN=nope
OAUTH_URI=http://127.0.0.1:$PORT/oauth/tokens
check "OAuth2 client credentials" lists_db FIRN_REST_CREDENTIAL=firn-client:s3cret \
    FIRN_REST_OAUTH2_SERVER_URI="$OAUTH_URI"
check "OAuth2 with a wrong secret fails" expect_fail "OAuth2 token request" \
    fa FIRN_REST_CREDENTIAL=firn-client:wrong FIRN_REST_OAUTH2_SERVER_URI="$OAUTH_URI"

# ---------------------------------------------------------- OpenAPI validation
cleanup
check "every response is valid per the OpenAPI document" \
    "$PY311" "$INTEROP/rest_openapi.py" "$SPEC" "$WORK/main.log" "$WORK/notx.log" "$WORK/auth.log"
finish
