#!/usr/bin/env bash
# cli.test.sh - the table commands of `firn` end to end: namespace, table, append,
# branch/tag, schema. What appends commit is read back by independent readers:
# cli_rows.mjs walks metadata -> manifest list -> manifests with avsc and reads the
# listed data files with DuckDB; the catalog rows are read with Python's sqlite3.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WH=$WORK/wh
nmeta() { ls "$WH/$1/$2/metadata/"*.metadata.json | wc -l; }
ndata() { find "$WH/$1/$2/data" -name '*.parquet' 2>/dev/null | wc -l; }

cat >"$WORK/events.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":11,"name":"eventId","required":true,"type":"uuid"},
 {"id":12,"name":"ts","required":true,"type":"timestamptz"},
 {"id":13,"name":"carId","required":true,"type":"string"},
 {"id":14,"name":"slot","required":false,"type":"int"},
 {"id":15,"name":"price","required":false,"type":"decimal(9, 2)"},
 {"id":16,"name":"day","required":false,"type":"date"},
 {"id":17,"name":"raw","required":false,"type":"binary"},
 {"id":18,"name":"ok","required":false,"type":"boolean"},
 {"id":19,"name":"x","required":false,"type":"double"},
 {"id":20,"name":"big","required":false,"type":"decimal(30, 3)"},
 {"id":21,"name":"local","required":false,"type":"timestamp"}
]}
JSON

# ------------------------------------------------------------------ namespaces
check "namespace create" fc namespace create db --property owner=ops
check "namespace create creates the warehouse and catalog" test -f "$WH/catalog.db"
check "namespace property is a catalog row" \
    eq "$(sql "SELECT property_value FROM iceberg_namespace_properties WHERE namespace='db' AND property_key='owner'")" ops
check "namespace create nested" fc namespace create db.sub
check "namespace list" eq "$(fc namespace list)" db
check "namespace list PARENT" eq "$(fc namespace list db)" db.sub
check "namespace show lists properties" bash -c "'$FIRN' --warehouse '$WH' namespace show db | grep -qx '  owner=ops'"
check "namespace create twice fails" expect_fail "firn: namespace create:" fc namespace create db
check "namespace drop" fc namespace drop db.sub
check "namespace drop of a missing one fails" expect_fail "firn: namespace drop:" fc namespace drop nope
check "namespace list after drop" eq "$(fc namespace list db)" ""

# ---------------------------------------------------------------------- tables
check "table create" fc table create db.events --schema "$WORK/events.json" \
    --partition-by 'day(ts), bucket(16,carId)' --property owner=ops
check "table create reassigns ids from 1" bash -c \
    "'$FIRN' --warehouse '$WH' table show db.events | grep -Eq '^ +1  eventId +uuid +required'"
check "table show shows the partition spec" bash -c \
    "'$FIRN' --warehouse '$WH' table show db.events | grep -Eq '1001  carId_bucket +bucket\[16\]\(carId\)'"
check "table show shows properties" bash -c "'$FIRN' --warehouse '$WH' table show db.events | grep -qx '  owner=ops'"
check "table show: no snapshot yet" bash -c "'$FIRN' --warehouse '$WH' table show db.events | grep -qx 'current snapshot: none'"
check "table list" eq "$(fc table list db)" db.events
check "table create of a taken name fails" expect_fail "firn: table create:" \
    fc table create db.events --schema "$WORK/events.json"
echo '{"type":"struct","fields":[{"id":1,"name":"a","required":true,"type":"strin"}]}' >"$WORK/bad.json"
check "table create names a bad schema file" expect_fail "bad.json" fc table create db.bad --schema "$WORK/bad.json"
check "table create rejects an unknown partition column" expect_fail "--partition-by" \
    fc table create db.bad --schema "$WORK/events.json" --partition-by 'day(nope)'
check "table create rejects a bad transform" expect_fail "--partition-by" \
    fc table create db.bad --schema "$WORK/events.json" --partition-by 'bucket(x,carId)'
check "failed creates leave no table" eq "$(fc table list db)" db.events
check "table create in a missing namespace fails" expect_fail "firn: table create:" \
    fc table create nope.t --schema "$WORK/events.json"

# ---------------------------------------------------------------------- append
cat >"$WORK/rows.csv" <<'CSV'
eventId,ts,carId,slot,price,day,raw,ok,x,big,local
0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00.123456Z,12GA3456,7,14.20,2025-11-26,cafe,true,1.5,-12345678901234567890.123,2025-11-26T10:00:00
1b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T11:00:00+02:00,"34,NA",,,,,,,,
2b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-27T00:00:00Z,"say ""hi""",-3,0.5,1999-12-31,,false,-0.25,1,
CSV
check "append CSV" bash -c "'$FIRN' --warehouse '$WH' append db.events '$WORK/rows.csv' >'$WORK/append1.out'"
check "append prints rows and snapshot" grep -Eq '^appended 3 rows in [0-9]+ data files? to db.events \(branch main\): snapshot [0-9]+$' "$WORK/append1.out"
snap1=$(sed -nE 's/.*snapshot ([0-9]+)$/\1/p' "$WORK/append1.out" | head -1)
check "table show shows the snapshot" bash -c \
    "'$FIRN' --warehouse '$WH' table show db.events | grep -q 'current snapshot: $snap1 (append'"
check "table show shows total-records" bash -c "'$FIRN' --warehouse '$WH' table show db.events | grep -qx '  total-records=3'"
check "DuckDB reads exactly the CSV rows" eq "$(ref_rows db events main 'SELECT * FROM t ORDER BY eventId')" \
'{"eventId":"0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-26 10:00:00.123456+00","carId":"12GA3456","slot":7,"price":"14.20","day":"2025-11-26","raw":"\\xCA\\xFE","ok":true,"x":1.5,"big":"-12345678901234567890.123","local":"2025-11-26 10:00:00"}
{"eventId":"1b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-26 09:00:00+00","carId":"34,NA","slot":null,"price":null,"day":null,"raw":null,"ok":null,"x":null,"big":null,"local":null}
{"eventId":"2b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-27 00:00:00+00","carId":"say \"hi\"","slot":-3,"price":"0.50","day":"1999-12-31","raw":null,"ok":false,"x":-0.25,"big":"1.000","local":null}'
check "data files are partitioned by day and bucket" bash -c \
    "node '$INTEROP/cli_rows.mjs' \"\$(echo '$(md_of db events)')\" main --files | grep -q '/data/ts_day=2025-11-27/carId_bucket='"

# bad input: error names file:line:column, nothing committed, nothing left behind
printf 'eventId,ts,carId,slot\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,A,1\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,B,abc\n' >"$WORK/bad.csv"
m0=$(md_of db events); n0=$(nmeta db events); d0=$(ndata db events)
check "bad CSV value: file, line and column" expect_fail "firn: append: $WORK/bad.csv:3: column 'slot': 'abc' is not an int" \
    fc append db.events "$WORK/bad.csv"
check "bad CSV: catalog unchanged" eq "$(md_of db events)" "$m0"
check "bad CSV: no new metadata file" eq "$(nmeta db events)" "$n0"
check "bad CSV: no data file left behind" eq "$(ndata db events)" "$d0"
printf 'eventId,ts,slot\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,1\n' >"$WORK/noreq.csv"
check "missing required column" expect_fail "noreq.csv:1: required column 'carId' is missing" fc append db.events "$WORK/noreq.csv"
printf 'eventId,ts,carId,color\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,A,red\n' >"$WORK/extra.csv"
check "unknown column" expect_fail "extra.csv:1: column 'color' is not in table db.events" fc append db.events "$WORK/extra.csv"
printf 'eventId,ts,carId\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,\n' >"$WORK/emptyreq.csv"
check "empty required value" expect_fail "emptyreq.csv:2: column 'carId': required" fc append db.events "$WORK/emptyreq.csv"
printf 'eventId,ts,carId\nnot-a-uuid,2025-11-26T10:00:00Z,A\n' >"$WORK/baduuid.csv"
check "bad uuid" expect_fail "baduuid.csv:2: column 'eventId': 'not-a-uuid' is not a uuid" fc append db.events "$WORK/baduuid.csv"
printf 'eventId,ts,carId,day\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,A,2025-13-01\n' >"$WORK/baddate.csv"
check "bad date" expect_fail "baddate.csv:2: column 'day': '2025-13-01' is not a date" fc append db.events "$WORK/baddate.csv"
printf 'eventId,ts,carId\n0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z\n' >"$WORK/short.csv"
check "short CSV row" expect_fail "short.csv:2: 2 fields, but the header has 3" fc append db.events "$WORK/short.csv"
check "errors committed nothing" eq "$(md_of db events)" "$m0"
check "unknown format" expect_fail "--format" fc append db.events "$WORK/events.json"

# many rows: several batches of 8192, one commit
check "table create for a large append" fc table create db.big --schema "$WORK/events.json" --partition-by 'bucket(4,slot)'
awk 'BEGIN { print "eventId,ts,carId,slot,x"; for (i = 0; i < 20000; i++) printf "%08x-0000-4000-8000-%012x,2025-11-26T10:00:00Z,c%d,%d,%d.5\r\n", i, i, i, i, i }' >"$WORK/big.txt"
check "append 20000 CRLF rows with --format csv" fc append db.big "$WORK/big.txt" --format csv
check "DuckDB reads all 20000 rows" eq "$(ref_rows db big main 'SELECT count(*) AS n, count(DISTINCT eventId) AS d, sum(slot) AS s, sum(x) AS sx FROM t')" \
    '{"n":"20000","d":"20000","s":"199990000","sx":200000000}'
check "one snapshot for the large append" eq "$(fc table show db.big | grep -c '^snapshots: 1$')" 1
{ head -n 15000 "$WORK/big.txt"; echo '00000000-0000-4000-8000-000000000000,2025-11-26T10:00:00Z,c,12x,1'; } >"$WORK/bigbad.csv"
nb=$(ndata db big); mb=$(md_of db big)
check "a bad row after two flushed batches" expect_fail "bigbad.csv:15001: column 'slot': '12x' is not an int" fc append db.big "$WORK/bigbad.csv"
check "the flushed batches' files are deleted" eq "$(ndata db big)" "$nb"
check "and nothing is committed" eq "$(md_of db big)" "$mb"
check "drop --purge the large table" fc table drop db.big --purge

# value forms: NaN, a timestamptz without a zone (UTC), JSON numbers into decimals
check "table create for value forms" fc table create db.vals --schema "$WORK/events.json"
printf '{"eventId":"7b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-26T10:00:00","carId":"V","x":"NaN","price":0.1,"big":-2,"ok":true}\n' >"$WORK/vals.jsonl"
check "append value forms" fc append db.vals "$WORK/vals.jsonl"
check "DuckDB reads the value forms" eq "$(ref_rows db vals main 'SELECT ts, isnan(x) AS nan, price, big, ok FROM t')" \
    '{"ts":"2025-11-26 10:00:00+00","nan":true,"price":"0.10","big":"-2.000","ok":true}'
printf '{"eventId":"7b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-26T10:00:00Z","carId":"V","ok":1}\n' >"$WORK/badbool.jsonl"
check "a number is not a boolean" expect_fail "badbool.jsonl:1: column 'ok': 1 is not a boolean" fc append db.vals "$WORK/badbool.jsonl"
printf 'eventId,ts,carId,local\n7b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-26T10:00:00Z,V,2025-11-26T10:00:00Z\n' >"$WORK/badlocal.csv"
check "an offset on a timestamp without zone" expect_fail "badlocal.csv:2: column 'local': '2025-11-26T10:00:00Z' is not a timestamp" fc append db.vals "$WORK/badlocal.csv"
check "drop the value-forms table" fc table drop db.vals --purge

# JSON Lines on a branch: main unchanged until fast-forward
cat >"$WORK/rows.jsonl" <<'JSONL'
{"eventId":"3b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-28T08:30:00Z","carId":"J1","slot":3,"x":2,"ok":false,"price":"9.99"}

{"eventId":"4b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-28T09:00:00.5+00:00","carId":"J2","price":1.5,"big":12.5,"raw":"00ff","slot":null}
JSONL
check "append JSONL to a new branch" fc append db.events "$WORK/rows.jsonl" --branch dev
check "main unchanged by the branch append" eq "$(ref_rows db events main 'SELECT count(*) AS n FROM t')" '{"n":"3"}'
check "dev has main's rows and the new ones" eq "$(ref_rows db events dev 'SELECT count(*) AS n FROM t')" '{"n":"5"}'
check "DuckDB reads the JSONL rows on dev" eq "$(ref_rows db events dev "SELECT carId, slot, price, big, raw, ok, x, ts FROM t WHERE carId LIKE 'J%' ORDER BY carId")" \
'{"carId":"J1","slot":3,"price":"9.99","big":null,"raw":null,"ok":false,"x":2,"ts":"2025-11-28 08:30:00+00"}
{"carId":"J2","slot":null,"price":"1.50","big":"12.500","raw":"\\x00\\xFF","ok":null,"x":null,"ts":"2025-11-28 09:00:00.5+00"}'
printf '{"eventId":"3b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-28T08:30:00Z","carId":"J1"}\n{"eventId":"3b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b","ts":"2025-11-28T08:30:00Z","carId":"J1","slot":"x"}\n' >"$WORK/bad.jsonl"
check "bad JSONL value: file, line and column" expect_fail "bad.jsonl:2: column 'slot': 'x' is not an int" fc append db.events "$WORK/bad.jsonl" --branch dev
printf '{"eventId":"3b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b",\n' >"$WORK/broken.jsonl"
check "broken JSON line" expect_fail "broken.jsonl:1:" fc append db.events "$WORK/broken.jsonl"

# ---------------------------------------------------------------- branches, tags
check "branch list" bash -c "'$FIRN' --warehouse '$WH' branch list db.events | grep -Eq '^dev +branch'"
check "branch ff main dev" fc branch ff db.events main dev
check "main has the branch rows after fast-forward" eq "$(ref_rows db events main 'SELECT count(*) AS n FROM t')" '{"n":"5"}'
check "tag create at a snapshot" fc tag create db.events v1 --snapshot "$snap1"
check "tag sees the first append only" eq "$(ref_rows db events v1 'SELECT count(*) AS n FROM t')" '{"n":"3"}'
check "branch create at the current snapshot" fc branch create db.events audit
check "branch create of an existing name fails" expect_fail "firn: branch create:" fc branch create db.events audit
check "branch create at an unknown snapshot fails" expect_fail "firn: branch create:" fc branch create db.events x --snapshot 12345
check "append to audit" fc append db.events "$WORK/rows.csv" --branch audit
check "ff of a branch that is not an ancestor fails" expect_fail "firn: branch ff:" fc branch ff db.events v1 main
check "branch drop" fc branch drop db.events audit
check "branch drop main fails" expect_fail "firn: branch drop:" fc branch drop db.events main
check "tag drop" fc tag drop db.events v1
check "refs after drops" eq "$(fc branch list db.events | awk '{print $1}' | sort | tr '\n' ' ')" "dev main "

# ---------------------------------------------------------------------- schema
check "schema add-column" fc schema add-column db.events note string --doc "free text"
check "table show shows the new column" bash -c \
    "'$FIRN' --warehouse '$WH' table show db.events | grep -Eq '^ +12  note +string +optional  -- free text'"
printf 'eventId,ts,carId,note\n5b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-29T00:00:00Z,N1,hello\n' >"$WORK/note.csv"
check "append with the new column" fc append db.events "$WORK/note.csv"
check "DuckDB reads the new column" eq "$(ref_rows db events main "SELECT carId, note FROM t WHERE note IS NOT NULL")" '{"carId":"N1","note":"hello"}'
check "schema widen int to long" fc schema widen db.events slot long
check "schema rename-column" fc schema rename-column db.events note remark
check "schema drop-column" fc schema drop-column db.events raw
check "schema after evolution" bash -c "'$FIRN' --warehouse '$WH' table show db.events | grep -Eq '^ +4  slot +long' && \
    '$FIRN' --warehouse '$WH' table show db.events | grep -Eq '^ +12  remark' && \
    ! '$FIRN' --warehouse '$WH' table show db.events | grep -q ' raw '"
m1=$(md_of db events)
check "schema widen string to long fails" expect_fail "firn: schema widen:" fc schema widen db.events carId long
check "schema drop of a missing column fails" expect_fail "firn: schema drop-column:" fc schema drop-column db.events nope
check "schema add of an unknown type fails" expect_fail "firn: schema add-column:" fc schema add-column db.events y strin
check "failed schema changes commit nothing" eq "$(md_of db events)" "$m1"
printf 'eventId,ts,carId,slot,remark\n6b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,2025-11-29T00:00:00Z,N2,9000000000,again\n' >"$WORK/wide.csv"
check "append a long into the widened column" fc append db.events "$WORK/wide.csv"
check "DuckDB reads the widened and renamed columns" eq "$(ref_rows db events main "SELECT slot, remark FROM t WHERE carId = 'N2'")" '{"slot":"9000000000","remark":"again"}'

# --------------------------------------------------------------------- parquet
"$FIRN" sample "$WORK/sample.parquet" --rows 50 >/dev/null
cat >"$WORK/sample.json" <<'JSON'
{"type":"struct","fields":[
 {"id":1,"name":"eventId","required":true,"type":"uuid"},
 {"id":2,"name":"eventType","required":true,"type":"string"},
 {"id":3,"name":"timeStamp","required":true,"type":"timestamptz"},
 {"id":4,"name":"carId","required":true,"type":"string"},
 {"id":5,"name":"slotId","required":true,"type":"long"},
 {"id":6,"name":"x","required":true,"type":"double"},
 {"id":7,"name":"y","required":true,"type":"double"},
 {"id":8,"name":"cameraId","required":false,"type":"string"},
 {"id":9,"name":"extra","required":false,"type":"string"}
]}
JSON
check "table create for Parquet" fc table create db.parking --schema "$WORK/sample.json" --partition-by 'hour(timeStamp),identity(eventType)'
check "append Parquet (by field id, int promoted to long)" fc append db.parking "$WORK/sample.parquet"
duck() { node -e '
const { DuckDBInstance } = await import("@duckdb/node-api")
const con = await (await DuckDBInstance.create(":memory:")).connect()
await con.run("SET TimeZone = '"'"'UTC'"'"'")
for (const r of (await con.runAndReadAll(process.argv[1])).getRowObjectsJson()) console.log(JSON.stringify(r))' --input-type=module "$1"; }
want=$(cd "$INTEROP" && duck "SELECT eventId, eventType, timeStamp, carId, slotId::BIGINT AS slotId, x, y, cameraId, NULL::VARCHAR AS extra FROM '$WORK/sample.parquet' ORDER BY eventId")
check "DuckDB reads the sample file" eq "$(wc -l <<<"$want")" 50
check "DuckDB reads exactly the Parquet file's rows" eq "$(cd "$INTEROP" && ref_rows db parking main 'SELECT * FROM t ORDER BY eventId')" "$want"
(cd "$INTEROP" && duck "COPY (SELECT 'q' || i AS carId, i::INTEGER AS slotId, uuid() AS eventId, 'parking-entry' AS eventType, TIMESTAMPTZ '2025-11-26 00:00:00+00' + INTERVAL (i) MINUTE AS timeStamp, 1.0::DOUBLE AS x, 2.0::DOUBLE AS y FROM range(10) t(i)) TO '$WORK/noids.parquet' (FORMAT parquet)") >/dev/null
check "append Parquet without field ids (by name)" fc append db.parking "$WORK/noids.parquet"
check "by-name rows arrive" eq "$(ref_rows db parking main "SELECT count(*) AS n, min(slotId) AS lo, max(slotId) AS hi FROM t WHERE carId LIKE 'q%'")" '{"n":"10","lo":"0","hi":"9"}'
(cd "$INTEROP" && duck "COPY (SELECT 'z' AS carId) TO '$WORK/partial.parquet' (FORMAT parquet)") >/dev/null
check "Parquet missing a required column" expect_fail "required column 'eventId'" fc append db.parking "$WORK/partial.parquet"

# ------------------------------------------------- rename, register, drop
check "table rename across namespaces" bash -c "'$FIRN' --warehouse '$WH' namespace create arch >/dev/null && '$FIRN' --warehouse '$WH' table rename db.parking arch.parking2"
check "renamed table in the catalog" eq "$(sql "SELECT table_namespace || '.' || table_name FROM iceberg_tables ORDER BY 1" | tr '\n' ' ')" "arch.parking2 db.events "
check "renamed table keeps its rows" eq "$(ref_rows arch parking2 main 'SELECT count(*) AS n FROM t')" '{"n":"60"}'
check "rename of a missing table fails" expect_fail "firn: table rename:" fc table rename db.nope db.x
evmd=$(md_of db events)
check "table register another table's metadata file" fc table register arch.events_copy "${evmd#file:}"
check "registered table shows the same snapshot" eq \
    "$(fc table show arch.events_copy | grep '^current snapshot')" "$(fc table show db.events | grep '^current snapshot')"
check "registered table's rows" eq "$(ref_rows arch events_copy main 'SELECT count(*) AS n FROM t')" "$(ref_rows db events main 'SELECT count(*) AS n FROM t')"
check "register of a missing file fails" expect_fail "firn: table register:" fc table register arch.x "$WORK/nope.metadata.json"
check "namespace drop of a non-empty namespace fails" expect_fail "firn: namespace drop:" fc namespace drop arch
check "table drop keeps files" bash -c "'$FIRN' --warehouse '$WH' table drop arch.events_copy >/dev/null && [ \$(ls '$WH/db/events/metadata' | wc -l) -gt 0 ]"
check "table drop --purge deletes the files" bash -c "'$FIRN' --warehouse '$WH' table drop arch.parking2 --purge >/dev/null && [ -z \"\$(find '$WH/db/parking' -type f)\" ]"
check "catalog after drops" eq "$(sql "SELECT table_namespace || '.' || table_name FROM iceberg_tables" | tr '\n' ' ')" "db.events "
check "table show of a dropped table fails" expect_fail "firn: table show:" fc table show arch.parking2
check "explicit --catalog" bash -c "'$FIRN' --catalog 'sqlite:$WH/catalog.db' --warehouse '$WH' table list db | grep -qx db.events"
check "help lists the table commands" bash -c "'$FIRN' help | grep -q '^   append' && diff <('$FIRN' help branch) docs/cli/branch.md"

finish
