#!/usr/bin/env bash
# s3.test.sh - the S3 warehouse against moto_server (the image's Python 3.11), started
# here on a free loopback port with signature checking on (s3_moto.py makes an IAM user
# and key; requests signed with anything else are refused). Checks:
#  - the FileIO contract through s3_io (write once with If-None-Match, ranged reads,
#    list pagination, multipart upload and its conflict, delete, batch delete, injected
#    503s retried, wrong secret refused, virtual-hosted addressing);
#  - an aborted multipart upload leaves no upload behind (boto3 lists them);
#  - listing beyond 1,000 keys (two ListObjectsV2 pages of the server's maximum);
#  - the table commands on --warehouse s3://...: rows read back equal a local
#    warehouse's, DuckDB reads the downloaded files through the manifests, drop --purge
#    empties the prefix, remove-orphans deletes an orphan object;
#  - firn run --sim-events 300 --until-drained on S3: every event lands exactly once
#    (pipe_check.py against the simulator's truth), DuckDB reads the production tables.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY311=${PY311:-python3.11}
BUCKET=firn-test
need() { command -v "$1" >/dev/null || { echo "FAIL $1 not found (needed for the S3 tests)"; exit 1; }; }
need moto_server
need "$PY311"

PORT=$("$PY311" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# parts of 64 KiB (moto, like S3, refuses parts under 5 MiB but the last: lowered here so
# uploads of many parts stay small)
S3_UPLOAD_PART_MIN_SIZE=65536 INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null; wait $MOTO 2>/dev/null' EXIT
EP=http://127.0.0.1:$PORT
for _ in $(seq 100); do
    curl -s -o /dev/null "$EP/moto-api/" && break
    sleep 0.1
done
read -r KEY SECRET < <("$PY311" "$INTEROP/s3_moto.py" "$EP" "$BUCKET") || true
[ -n "${SECRET:-}" ] || { echo "FAIL moto_server setup"; tail -20 "$WORK/moto.log"; exit 1; }
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=us-east-1
export FIRN_S3_ENDPOINT=$EP FIRN_S3_RAW_RESERVED_CHARS=1 FIRN_S3_BACKOFF_MS=10
S3IO=$TOOLS/s3_io

# ------------------------------------------------------------------ FileIO
check "FileIO contract on S3 (s3_io suite)" "$S3IO" suite "s3://$BUCKET/io"
pending_uploads() { "$PY311" -c 'import boto3,sys
c=boto3.client("s3",endpoint_url=sys.argv[1],region_name="us-east-1")
print(len(c.list_multipart_uploads(Bucket=sys.argv[2]).get("Uploads",[])))' "$EP" "$BUCKET"; }
abort_leaves_nothing() {
    "$S3IO" abort-multipart "s3://$BUCKET/io/aborted-big.bin" 12 || return 1
    [ "$(pending_uploads)" = 0 ] || { echo "uploads left: $(pending_uploads)"; return 1; }
    ! "$S3IO" get "s3://$BUCKET/io/aborted-big.bin" "$WORK/x" 2>/dev/null
}
check "aborted multipart upload: no upload, no object left" abort_leaves_nothing
check "no multipart upload left by the suite (the conflicting one was aborted)" \
    test "$(pending_uploads)" = 0
# concurrent parts: 40 parts of 64 KiB, 8 in flight
head -c $((40 * 65536 + 4321)) /dev/urandom >"$WORK/parts.bin"
sha() { sha256sum "$1" | cut -d' ' -f1; }
# s3_etag LOCATION: the object's ETag (a multipart object's is "md5-of-part-md5s-N")
s3_etag() { "$PY311" -c 'import boto3,sys
c=boto3.client("s3",endpoint_url=sys.argv[1],region_name="us-east-1")
print(c.head_object(Bucket=sys.argv[2],Key=sys.argv[3])["ETag"].strip(chr(34)))' "$EP" "$BUCKET" "$1"; }
# the ETag S3 gives a multipart upload of FILE in 64 KiB parts
want_etag() { "$PY311" -c 'import hashlib,sys
d=open(sys.argv[1],"rb").read(); p=65536
m=[hashlib.md5(d[i:i+p]).digest() for i in range(0,len(d),p)]
print(hashlib.md5(b"".join(m)).hexdigest()+"-"+str(len(m)))' "$1"; }
PARTS=(env FIRN_S3_PART_SIZE=64k FIRN_S3_MULTIPART_THRESHOLD=64k FIRN_S3_UPLOAD_CONCURRENCY=8)
parts_roundtrip() {
    local out
    out=$("${PARTS[@]}" "$S3IO" put "s3://$BUCKET/parts/a.bin" "$WORK/parts.bin" -v) || return 1
    # HEAD, initiate, 41 parts, complete; more than one part on the wire at once
    grep -Eq '^requests=44 retries=0 parts=41 max-in-flight=[2-8] ' <<<"$out" ||
        { echo "$out"; return 1; }
    "$S3IO" get "s3://$BUCKET/parts/a.bin" "$WORK/parts.back" || return 1
    [ "$(sha "$WORK/parts.bin")" = "$(sha "$WORK/parts.back")" ] || { echo "sha256 differs"; return 1; }
    local got want
    got=$(s3_etag parts/a.bin) && want=$(want_etag "$WORK/parts.bin")
    [ "$got" = "$want" ] || { echo "ETag $got, want $want (41 parts in order)"; return 1; }
}
check "41 parts sent up to 8 at a time read back byte-identical (sha256), ETag of 41 parts in order" \
    parts_roundtrip
# a 503 on the 5th S3 request (an early part) is retried after a 300 ms backoff while the
# other parts go on: that part completes after later ones, the object is still in order
parts_out_of_order() {
    local out
    out=$(FIRN_IO_FAIL_OP=s3 FIRN_IO_FAIL_AT=5 FIRN_S3_BACKOFF_MS=300 "${PARTS[@]}" \
        "$S3IO" put "s3://$BUCKET/parts/b.bin" "$WORK/parts.bin" -v) || return 1
    grep -Eq '^requests=45 retries=1 parts=41 .* out-of-order=[1-9]' <<<"$out" ||
        { echo "expected a retry and a part done out of order: $out"; return 1; }
    "$S3IO" get "s3://$BUCKET/parts/b.bin" "$WORK/parts.back" || return 1
    [ "$(sha "$WORK/parts.bin")" = "$(sha "$WORK/parts.back")" ] &&
    [ "$(s3_etag parts/b.bin)" = "$(want_etag "$WORK/parts.bin")" ]
}
check "a part retried after a 503 completes after later parts; the object is in order" \
    parts_out_of_order
# a part that fails for good (one attempt) aborts the upload: nothing left behind
parts_fail() {
    local n
    for n in 3 9 20 44; do # the first part, parts in the middle, the complete request
        if FIRN_S3_MAX_ATTEMPTS=1 FIRN_IO_FAIL_OP=s3 FIRN_IO_FAIL_AT=$n "${PARTS[@]}" \
            "$S3IO" put "s3://$BUCKET/parts/fail$n.bin" "$WORK/parts.bin" 2>"$WORK/fail.err"; then
            echo "upload with request $n failing succeeded"; return 1
        fi
        grep -q 'injected fault' "$WORK/fail.err" || { cat "$WORK/fail.err"; return 1; }
        [ "$(pending_uploads)" = 0 ] || { echo "request $n: uploads left: $(pending_uploads)"; return 1; }
        ! "$S3IO" get "s3://$BUCKET/parts/fail$n.bin" "$WORK/x" 2>/dev/null ||
            { echo "request $n: an object was left"; return 1; }
    done
}
check "a part failing mid-upload (request 3, 9, 20 or the complete) aborts: no upload, no object" \
    parts_fail
many() { # FIRN_TEST_LONG=1: beyond 1,000 keys (two pages of the server's maximum)
    local n=${MANY_KEYS:-120}
    "$PY311" - "$EP" "$BUCKET" "$n" <<'PY' || return 1
import boto3, sys
from concurrent.futures import ThreadPoolExecutor
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
with ThreadPoolExecutor(8) as ex:
    list(ex.map(lambda i: c.put_object(Bucket=sys.argv[2], Key=f"many/k{i:05d}", Body=b"x"),
                range(int(sys.argv[3]))))
PY
    local got
    got=$("$S3IO" ls "s3://$BUCKET/many" | wc -l)
    [ "$got" = "$n" ] || { echo "listed $got of $n"; return 1; }
    got=$(FIRN_S3_LIST_PAGE_SIZE=7 "$S3IO" ls "s3://$BUCKET/many" | sort -u | wc -l)
    [ "$got" = "$n" ] || { echo "listed $got distinct of $n with pages of 7"; return 1; }
}
MANY_KEYS=120
[ -n "${FIRN_TEST_LONG:-}" ] && MANY_KEYS=1010
check "list $MANY_KEYS keys in pages of 1,000 and of 7" many
wrong_secret() {
    local out
    if out=$(AWS_SECRET_ACCESS_KEY=wrong "$S3IO" ls "s3://$BUCKET/many" 2>&1); then
        echo "listed with a wrong secret"; return 1
    fi
    grep -q 'S3 answered 403 SignatureDoesNotMatch' <<<"$out" || { echo "$out"; return 1; }
}
check "a wrong secret from the environment is refused (403 SignatureDoesNotMatch)" wrong_secret
creds_file() {
    mkdir -p "$WORK/home/.aws"
    printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY" "$SECRET" \
        >"$WORK/home/.aws/credentials"
    printf '[profile t]\nregion = us-east-1\nendpoint_url = %s\n' "$EP" >"$WORK/home/.aws/config"
    printf '[t]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY" "$SECRET" \
        >>"$WORK/home/.aws/credentials"
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u FIRN_S3_ENDPOINT HOME="$WORK/home" \
        AWS_PROFILE=t "$S3IO" ls "s3://$BUCKET/many" | wc -l | grep -qx "$MANY_KEYS"
}
check "credentials and endpoint from ~/.aws files (profile t)" creds_file

# ------------------------------------------------------------------ tables
cat >"$WORK/events.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"eventId","required":true,"type":"uuid"},
 {"id":2,"name":"ts","required":true,"type":"timestamptz"},
 {"id":3,"name":"carId","required":true,"type":"string"},
 {"id":4,"name":"slot","required":false,"type":"int"},
 {"id":5,"name":"price","required":false,"type":"decimal(9, 2)"}
]}
JSON
cat >"$WORK/rows.csv" <<'CSV'
eventId,ts,carId,slot,price
0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00.123456Z,12GA3456,7,14.20
1b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T11:00:00+02:00,"34,NA",,
2b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-27T00:00:00Z,"say ""hi""",-3,0.5
CSV
WH=s3://$BUCKET/wh
fs3() { "$FIRN" --catalog "sqlite:$WORK/s3cat.db" --warehouse "$WH" "$@"; }
flocal() { "$FIRN" --warehouse "$WORK/localwh" "$@"; }
tables() {
    local f
    for f in fs3 flocal; do
        $f namespace create db >/dev/null &&
        $f table create db.events --schema "$WORK/events.json" --partition-by 'day(ts)' >/dev/null &&
        $f append db.events "$WORK/rows.csv" >/dev/null &&
        $f append db.events "$WORK/rows.csv" >/dev/null || return 1
    done
}
check "namespace create, table create (partitioned), two appends on s3://" tables
same_scan() {
    fs3 scan db.events | sort >"$WORK/s3.scan" && flocal scan db.events | sort >"$WORK/local.scan" &&
    cmp "$WORK/s3.scan" "$WORK/local.scan" && [ "$(wc -l <"$WORK/s3.scan")" = 6 ]
}
check "scan on S3 reads the rows a local warehouse reads" same_scan
check "table files live under the table's S3 prefix" \
    bash -c "'$S3IO' ls '$WH/db/events' | grep -c '\\.parquet\$' | grep -qx 4"
md_of() { "$PY" -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT metadata_location FROM iceberg_tables WHERE table_namespace=? AND table_name=?",(sys.argv[2],sys.argv[3])).fetchone()[0])' "$1" "$2" "$3"; }
# mirror PREFIX: download every object under PREFIX to $WORK/mirror/BUCKET/KEY through
# firn's GET (boto3 cannot: moto's signature check refuses its requests for keys with
# '=', as in partition directories), after checking that boto3's listing of the bucket
# holds exactly the objects firn lists under PREFIX
mirror() {
    "$S3IO" ls "$1" | awk '{print $2}' | sort >"$WORK/ls.txt" || return 1
    "$PY311" - "$EP" "$1" "$WORK/ls.txt" <<'PY' || return 1
import boto3, sys
ep, prefix, listed = sys.argv[1:4]
bucket, _, key = prefix[len("s3://"):].partition("/")
c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1")
# no Prefix: moto's signature check fails boto3's own "/" in query values
keys = [o["Key"] for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", []) if o["Key"].startswith(key + "/")]
mine = sorted(l.strip() for l in open(listed))
if sorted(f"s3://{bucket}/{k}" for k in keys) != mine:
    sys.exit(f"firn lists {len(mine)} objects, boto3 {len(keys)}")
PY
    local loc
    while read -r loc; do mkdir -p "$(dirname "$WORK/mirror/${loc#s3://}")"; done <"$WORK/ls.txt"
    # shellcheck disable=SC2016
    xargs -P 4 -I{} sh -c 'l={}; exec "$0" get "$l" "$1/${l#s3://}"' "$S3IO" "$WORK/mirror" \
        <"$WORK/ls.txt"
}
duck_s3() { # CATALOG NS TABLE QUERY: DuckDB through the manifests of the downloaded files
    local md
    md=$(md_of "$1" "$2" "$3") || return 1
    S3_MIRROR=$WORK/mirror node "$INTEROP/cli_rows.mjs" "$md" main "$4"
}
duck_rows() {
    mirror "$WH/db/events" || return 1
    local got
    got=$(duck_s3 "$WORK/s3cat.db" db events "SELECT count(*) AS n, count(DISTINCT carId) AS cars, sum(slot) AS slots FROM t")
    [ "$got" = '{"n":"6","cars":"3","slots":"8"}' ] || { echo "DuckDB: $got"; return 1; }
}
check "DuckDB reads the downloaded table files through the manifests" duck_rows
orphans() {
    printf 'junk' >"$WORK/junk"
    "$S3IO" put "$WH/db/events/data/orphan.parquet" "$WORK/junk" || return 1
    fs3 maintain remove-orphans db.events --older-than 0s | grep -q 'orphans-deleted=1' || return 1
    ! "$S3IO" ls "$WH/db/events" | grep -q orphan.parquet &&
    [ "$(fs3 scan db.events | wc -l)" = 6 ]
}
check "maintain remove-orphans lists and deletes an orphan object" orphans
expire() {
    fs3 maintain expire-snapshots db.events --retain-last 1 --older-than 0s |
        grep -q 'snapshots-expired=1' && [ "$(fs3 scan db.events | wc -l)" = 6 ]
}
check "maintain expire-snapshots on S3 deletes the old snapshot's files, keeps the rows" expire
purge() {
    fs3 table drop db.events --purge | grep -q 'purged' || return 1
    [ "$("$S3IO" ls "$WH/db/events" | wc -l)" = 0 ]
}
check "table drop --purge deletes every object of the table" purge
check "an s3 warehouse without --catalog is refused with a hint" \
    bash -c "'$FIRN' --warehouse '$WH' namespace list 2>&1 | grep -q -- '--catalog'"

# ------------------------------------------------------------------ pipeline
N=300
START=2026-11-26T08:00:00Z
SIM=(--set sim.image-width=96 --set sim.image-height=72 --sim-start "$START" --seed 7
     --bad-ratio 0.05 --set pipeline.commit-interval=200ms)
PWH=s3://$BUCKET/pipe
prun() {
    "$FIRN" --catalog "sqlite:$WORK/pipecat.db" --warehouse "$PWH" run \
        --set stream.uri="spool:$WORK/spool" "${SIM[@]}" --sim-events "$N" --until-drained \
        >"$WORK/run.log" 2>&1 || { tail -20 "$WORK/run.log"; return 1; }
}
check "firn run drains $N simulated events into an S3 warehouse" prun
pverify() {
    "$FIRN" sim --count "$N" --seed 7 --bad-ratio 0.05 --start "$START" --size 96x72 \
        --truth "$WORK/truth.jsonl" --ndjson --quiet >"$WORK/events.ndjson" || return 1
    pipe_verify "$WORK/scan" "$WORK/truth.jsonl" "$WORK/events.ndjson" --catalog "sqlite:$WORK/pipecat.db"
}
check "every event lands exactly once in the S3 tables (pipe_check against the truth)" pverify
pduck() {
    mirror "$PWH" || return 1
    local t got want
    for t in parking_entry parking_exit; do
        got=$(duck_s3 "$WORK/pipecat.db" production "$t" "SELECT count(*) AS n, count(DISTINCT eventId) AS ids FROM t") || return 1
        want=$(wc -l <"$WORK/scan/production.$t.jsonl")
        [ "$got" = "{\"n\":\"$want\",\"ids\":\"$want\"}" ] || { echo "$t: DuckDB $got, firn scan $want rows"; return 1; }
        [ "$want" -gt 0 ] || { echo "$t is empty"; return 1; }
    done
}
check "DuckDB reads the production tables from the downloaded files as firn scans them" pduck
check "no local directory named after the s3 warehouse" bash -c "[ ! -e s3: ] && [ ! -e '$WORK/s3:' ]"

finish
