#!/usr/bin/env bash
# cli_scan.test.sh - `firn scan` and `firn inspect` end to end. Rows go in with
# `firn append` (JSON Lines in Iceberg's JSON value forms) and must come back out of
# `firn scan` exactly, every column; filters are checked against a brute-force filter
# of the input in Python (cli_scan_check.py); --format parquet output and the table's
# own data files are read by DuckDB; inspect is checked against the files on disk,
# the catalog and an avsc walk of the manifests (cli_rows.mjs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WH=$WORK/wh
chk() { "$PY" "$INTEROP/cli_scan_check.py" "$@"; }
# scan_same EXPECTED.jsonl [COLS] -- SCAN ARGS...: scan prints exactly the expected rows
scan_same() {
    local exp=$1 cols=; shift
    if [ "$1" != -- ]; then cols=$1; shift; fi
    shift
    fc scan "$@" >"$WORK/got.jsonl" || return 1
    chk same "$exp" "$WORK/got.jsonl" $cols
}
# where_same PYEXPR WHERE: scan --where WHERE equals the Python filter of all rows
where_same() {
    chk filter "$WORK/a1.jsonl" "$WORK/a2.jsonl" -- "$1" >"$WORK/want.jsonl" || return 1
    [ -s "$WORK/want.jsonl" ] || [ "${3:-}" = empty ] || { echo "filter selects nothing"; return 1; }
    scan_same "$WORK/want.jsonl" -- db.t --where "$2"
}

cat >"$WORK/schema.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"name","required":false,"type":"string"},
 {"id":3,"name":"amount","required":false,"type":"decimal(9, 2)"},
 {"id":4,"name":"ts","required":true,"type":"timestamptz"},
 {"id":5,"name":"day","required":false,"type":"date"},
 {"id":6,"name":"flag","required":false,"type":"boolean"},
 {"id":7,"name":"score","required":false,"type":"double"},
 {"id":8,"name":"raw","required":false,"type":"binary"}
]}
JSON
chk gen "$WORK/a1.jsonl" "$WORK/a2.jsonl" "$WORK/dev.jsonl"
cat "$WORK/a1.jsonl" "$WORK/a2.jsonl" >"$WORK/all.jsonl"

check "setup: namespace and table" bash -c "'$FIRN' --warehouse '$WH' namespace create db >/dev/null &&
    '$FIRN' --warehouse '$WH' table create db.t --schema '$WORK/schema.json' --partition-by 'day(ts)' >/dev/null"
check "scan of a table without snapshots is empty" eq "$(fc scan db.t)" ""
check "setup: first append" bash -c "'$FIRN' --warehouse '$WH' append db.t '$WORK/a1.jsonl' >'$WORK/ap1.out'"
snap1=$(sed -nE 's/.*: snapshot ([0-9]+)$/\1/p' "$WORK/ap1.out" | head -1)
sleep 0.05
t_between=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
ms_between=$(date -u +%s%3N)
sleep 0.05
check "setup: branch dev" fc branch create db.t dev
check "setup: append on dev" bash -c "'$FIRN' --warehouse '$WH' append db.t '$WORK/dev.jsonl' --branch dev >/dev/null"
check "setup: second append" bash -c "'$FIRN' --warehouse '$WH' append db.t '$WORK/a2.jsonl' >'$WORK/ap2.out'"
snap2=$(sed -nE 's/.*: snapshot ([0-9]+)$/\1/p' "$WORK/ap2.out" | head -1)

# ------------------------------------------------------------------------ scan
check "scan returns exactly the appended rows, every column" scan_same "$WORK/all.jsonl" -- db.t
check "scan jsonl value forms (timestamptz, decimal, binary hex, date)" bash -c \
    "'$FIRN' --warehouse '$WH' scan db.t --where 'id = 1' | grep -qF '\"amount\":\"-6.75\",\"ts\":\"2025-11-21T01:07:00.000001+00:00\",\"day\":\"2024-02-02\",\"flag\":false,\"score\":1.5,\"raw\":\"0100fe\"'"
check "scan agrees with DuckDB reading the data files" eq \
    "$(fc scan db.t --columns id,name | "$PY" -c 'import sys,json; print(sorted((r["id"], r["name"]) for r in map(json.loads, sys.stdin)))')" \
    "$(ref_rows db t main 'SELECT id, name FROM t' | "$PY" -c 'import sys,json; print(sorted((int(r["id"]), r["name"]) for r in map(json.loads, sys.stdin)))')"
check "--where id > 5" where_same 'r["id"] > 5' 'id > 5'
check "--where on a string, with or" where_same 'r["name"] == "bob1" or r["id"] <= 2' "name = 'bob1' or id <= 2"
check "--where is null" where_same 'r["name"] is None' 'name is null'
check "--where decimal and not" where_same 'not (D(r["amount"]) >= 5) if r["amount"] is not None else False' 'not (amount >= 5)'
check "--where in, on dates" where_same 'r["day"] in ("2024-02-02", "2024-02-08")' "day in ('2024-02-02', '2024-02-08')"
check "--where on the partition source (timestamptz)" where_same 'r["ts"] >= "2025-11-21"' "ts >= '2025-11-21T00:00:00Z'"
check "--where boolean and double" where_same 'r["flag"] is True and r["score"] is not None and r["score"] < 10' 'flag = true and score < 10'
check "--where that matches nothing" where_same 'False' 'id > 1000' empty
check "--columns projects, in the order given" scan_same "$WORK/all.jsonl" raw,id -- db.t --columns raw,id
check "--limit limits" eq "$(fc scan db.t --limit 3 | wc -l)" 3
check "--limit 0" eq "$(fc scan db.t --limit 0 | wc -l)" 0
check "--ref dev sees the branch append (and not main's second)" bash -c \
    "cat '$WORK/a1.jsonl' '$WORK/dev.jsonl' >'$WORK/devall.jsonl' && '$FIRN' --warehouse '$WH' scan db.t --ref dev >'$WORK/gotdev.jsonl' &&
     '$PY' '$INTEROP/cli_scan_check.py' same '$WORK/devall.jsonl' '$WORK/gotdev.jsonl'"
check "--ref main" scan_same "$WORK/all.jsonl" -- db.t --ref main
check "--snapshot of the first append" scan_same "$WORK/a1.jsonl" -- db.t --snapshot "$snap1"
check "--as-of ISO-8601 between the appends" scan_same "$WORK/a1.jsonl" -- db.t --as-of "$t_between"
check "--as-of without a zone is UTC" scan_same "$WORK/all.jsonl" -- db.t --as-of 2099-01-01T00:00:00
check "--as-of epoch millis between the appends" scan_same "$WORK/a1.jsonl" -- db.t --as-of "$ms_between"
check "--format csv" bash -c "'$FIRN' --warehouse '$WH' scan db.t --format csv >'$WORK/got.csv' &&
    '$PY' '$INTEROP/cli_scan_check.py' csv '$WORK/got.csv' '$WORK/all.jsonl'"
check "--format table has a header and one line per row" eq "$(fc scan db.t --format table | wc -l)" $(( $(wc -l <"$WORK/all.jsonl") + 2 ))
check "--format table header" bash -c "'$FIRN' --warehouse '$WH' scan db.t --format table | head -1 | grep -Eq '^id +name +amount +ts +day +flag +score +raw$'"
check "--format parquet --output" fc scan db.t --format parquet --output "$WORK/out.parquet"
q='SELECT id, name, CAST(amount AS VARCHAR) AS amount, CAST(ts AS VARCHAR) AS ts, CAST(day AS VARCHAR) AS day, flag, score, hex(raw) AS raw FROM t ORDER BY id'
check "DuckDB reads the parquet output: the table's rows" eq \
    "$(node "$INTEROP/cli_scan_pq.mjs" "$WORK/out.parquet" "$q")" "$(ref_rows db t main "$q")"
check "--format parquet keeps field ids and requiredness" bash -c "'$FIRN' parquet schema '$WORK/out.parquet' | grep -Eq '^0 +id +1 +long +required' &&
    '$FIRN' parquet schema '$WORK/out.parquet' | grep -Eq '^7 +raw +8 +binary +optional'"
check "--format parquet refuses to overwrite" expect_fail "out.parquet" fc scan db.t --format parquet --output "$WORK/out.parquet"
check "--changes-since the first append: only the second append's rows" \
    scan_same "$WORK/a2.jsonl" -- db.t --changes-since "$snap1"
check "--changes-since with --where" bash -c "'$PY' '$INTEROP/cli_scan_check.py' filter '$WORK/a2.jsonl' -- 'r[\"id\"] % 2 == 0' >'$WORK/w2.jsonl' &&
    '$FIRN' --warehouse '$WH' scan db.t --changes-since '$snap1' --where 'id in (8, 10, 12, 14)' >'$WORK/g2.jsonl' &&
    '$PY' '$INTEROP/cli_scan_check.py' same '$WORK/w2.jsonl' '$WORK/g2.jsonl'"
check "--changes-since on dev: only the branch append" scan_same "$WORK/dev.jsonl" -- db.t --ref dev --changes-since "$snap1"
check "--changes-since the current snapshot is empty" eq "$(fc scan db.t --changes-since "$snap2")" ""
check "--changes-since a snapshot that is not an ancestor" expect_fail "not an ancestor" \
    fc scan db.t --snapshot "$snap1" --changes-since "$snap2"
# a table whose second snapshot says "overwrite": the same files, registered under a new name
"$PY" -c 'import json,sys
md=json.load(open(sys.argv[1]))
for s in md["snapshots"]:
    if s["snapshot-id"] == int(sys.argv[2]): s["summary"]["operation"] = "overwrite"
json.dump(md, open(sys.argv[3], "w"))' "$(md_of db t | sed 's/^file://')" "$snap2" "$WORK/over.metadata.json"
check "setup: register a table with an overwrite snapshot" bash -c "'$FIRN' --warehouse '$WH' table register db.over '$WORK/over.metadata.json' >/dev/null"
check "--changes-since across an overwrite says it cannot be incremental" \
    expect_fail "snapshot $snap2 is a 'overwrite' operation, not an append; changes across it cannot be computed incrementally" \
    fc scan db.over --changes-since "$snap1"
check "--changes-since up to before the overwrite still works" \
    eq "$(fc scan db.over --snapshot "$snap1" --changes-since "$snap1")" ""

# every other primitive type: JSON single-value forms out exactly as they went in
cat >"$WORK/types.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"u","required":false,"type":"uuid"},
 {"id":2,"name":"fx","required":false,"type":"fixed[4]"},
 {"id":3,"name":"tm","required":false,"type":"time"},
 {"id":4,"name":"lt","required":false,"type":"timestamp"},
 {"id":5,"name":"big","required":false,"type":"decimal(30, 3)"},
 {"id":6,"name":"f","required":false,"type":"float"},
 {"id":7,"name":"i","required":false,"type":"int"},
 {"id":9,"name":"d","required":false,"type":"double"}
]}
JSON
cat >"$WORK/types.jsonl" <<'JSONL'
{"u": "0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b", "fx": "deadbeef", "tm": "22:31:08.000001", "lt": "2017-11-16T22:31:08.000001", "big": "-12345678901234567890.125", "f": 1.5, "i": -7, "d": "NaN"}
{"u": null, "fx": null, "tm": null, "lt": null, "big": null, "f": null, "i": null, "d": null}
{"u": "ffffffff-ffff-4fff-bfff-ffffffffffff", "fx": "00000000", "tm": "00:00:00.000000", "lt": "1969-12-31T23:59:59.999999", "big": "0.001", "f": -0.25, "i": 2147483647, "d": "-Infinity"}
JSONL
check "setup: a table of the other types" bash -c "'$FIRN' --warehouse '$WH' table create db.ty --schema '$WORK/types.json' >/dev/null &&
    '$FIRN' --warehouse '$WH' append db.ty '$WORK/types.jsonl' >/dev/null"
check "uuid, fixed, time, timestamp, decimal(30,3), float, int, NaN/-Infinity round trip" \
    scan_same "$WORK/types.jsonl" -- db.ty
check "--where on decimal(30,3)" eq "$(fc scan db.ty --where 'big < 0' --columns big)" '{"big":"-12345678901234567890.125"}'
qty='SELECT CAST(big AS VARCHAR) AS big, i, CAST(u AS VARCHAR) AS u, hex(fx) AS fx, CAST(tm AS VARCHAR) AS tm, CAST(lt AS VARCHAR) AS lt, f, CAST(d AS VARCHAR) AS d FROM t ORDER BY i NULLS LAST'
check "--format parquet of the other types" fc scan db.ty --format parquet --output "$WORK/ty.parquet"
check "DuckDB reads the other types' parquet output as the table's files" eq \
    "$(node "$INTEROP/cli_scan_pq.mjs" "$WORK/ty.parquet" "$qty")" "$(ref_rows db ty main "$qty")"

# ---------------------------------------------------------------- scan errors
check "unknown column in --where names it and its position" expect_fail "position 12: unknown column 'nope'" \
    fc scan db.t --where "id > 1 and nope = 3"
check "unknown column in --where names the column" expect_fail "nope" fc scan db.t --where "id > 1 and nope = 3"
check "--where syntax error" expect_fail "--where" fc scan db.t --where "id >"
check "unknown ref" expect_fail "nosuch" fc scan db.t --ref nosuch
check "--snapshot that does not exist" expect_fail "12345" fc scan db.t --snapshot 12345
check "--as-of that is not a time" expect_fail "--as-of 'yesterday'" fc scan db.t --as-of yesterday
check "--as-of before the first snapshot" expect_fail "firn: scan db.t:" fc scan db.t --as-of 1000
check "unknown column in --columns" expect_fail "nope" fc scan db.t --columns id,nope
check "--ref and --snapshot together" expect_fail "exclusive" fc scan db.t --ref dev --snapshot "$snap1"
check "unknown format" expect_fail "--format" fc scan db.t --format xml
check "parquet needs --output" expect_fail "--output" fc scan db.t --format parquet
check "unknown table" expect_fail "firn: scan db.nope:" fc scan db.nope

# --------------------------------------------------------------------- inspect
jcol() { "$PY" -c 'import sys,json; [print(json.loads(l)[sys.argv[1]]) for l in sys.stdin]' "$1"; }
ondisk() { find "$WH/db/t/data" -name '*.parquet' | sort; }
check "inspect snapshots: one per append" eq "$(fc inspect db.t snapshots --format jsonl | wc -l)" 3
check "inspect snapshots: operations" eq "$(fc inspect db.t snapshots --format jsonl | jcol operation | sort -u)" append
check "inspect snapshots: the appends' ids" bash -c "'$FIRN' --warehouse '$WH' inspect db.t snapshots --format jsonl | grep -q '\"snapshot_id\":$snap2,\"parent_id\":$snap1,'"
check "inspect snapshots: summary added-records" eq \
    "$(fc inspect db.t snapshots --format jsonl | "$PY" -c 'import sys,json; print(sum(int(json.loads(l)["summary"]["added-records"]) for l in sys.stdin))')" 17
check "inspect history: main's two snapshots, both current ancestors" eq \
    "$(fc inspect db.t history --format csv | cut -d, -f2,4 | tail -n +2)" "$snap1,true
$snap2,true"
check "inspect files: file_path list equals the data files on disk (main + dev)" bash -c \
    "'$FIRN' --warehouse '$WH' inspect db.t files --format jsonl | '$PY' -c 'import sys,json; [print(json.loads(l)[\"file_path\"].replace(\"file:\",\"\",1)) for l in sys.stdin]' | sort >'$WORK/f_main' &&
     node '$INTEROP/cli_rows.mjs' '$(md_of db t)' main --files | sort >'$WORK/f_avsc' && diff '$WORK/f_main' '$WORK/f_avsc' &&
     [ \$(wc -l <'$WORK/f_main') -gt 0 ] && [ \$( (cat '$WORK/f_main'; node '$INTEROP/cli_rows.mjs' '$(md_of db t)' dev --files) | sort -u | wc -l) -eq \$(find '$WH/db/t/data' -name '*.parquet' | wc -l) ]"
check "inspect files: record_count sums to the rows appended" eq \
    "$(fc inspect db.t files --format jsonl | "$PY" -c 'import sys,json; print(sum(json.loads(l)["record_count"] for l in sys.stdin))')" 14
check "inspect files: lower bound of id is a JSON value" bash -c \
    "'$FIRN' --warehouse '$WH' inspect db.t files --format jsonl | grep -q '\"lower_bounds\":{\"1\":[0-9]'"
check "inspect files: partition values" bash -c \
    "'$FIRN' --warehouse '$WH' inspect db.t files --format jsonl | grep -q '\"partition\":{\"ts_day\":\"2025-11-2[012]\"}'"
check "inspect manifests: one per append on main" eq "$(fc inspect db.t manifests --format jsonl | wc -l)" 2
check "inspect manifests: added rows sum" eq \
    "$(fc inspect db.t manifests --format jsonl | "$PY" -c 'import sys,json; print(sum(json.loads(l)["added_rows_count"] for l in sys.stdin))')" 14
check "inspect manifests: paths are the ones avsc sees" bash -c \
    "'$FIRN' --warehouse '$WH' inspect db.t manifests --format jsonl | '$PY' -c 'import sys,json; [print(json.loads(l)[\"path\"]) for l in sys.stdin]' | xargs -n1 sh -c 'test -f \"\${0#file:}\"'"
check "inspect partitions: one row per day, counts add up" eq \
    "$(fc inspect db.t partitions --format jsonl | "$PY" -c 'import sys,json; rs=[json.loads(l) for l in sys.stdin]; print(len(rs), sum(r["record_count"] for r in rs), sorted(r["partition"]["ts_day"] for r in rs))')" \
    "3 14 ['2025-11-20', '2025-11-21', '2025-11-22']"
check "inspect partitions: per-column min/max" bash -c \
    "'$FIRN' --warehouse '$WH' inspect db.t partitions --format jsonl | '$PY' -c 'import sys,json
rs=[json.loads(l) for l in sys.stdin]
assert min(r[\"data\"][\"id\"][\"min\"] for r in rs) == 1, rs
assert max(r[\"data\"][\"id\"][\"max\"] for r in rs) == 14, rs
assert sum(r[\"data\"][\"name\"][\"null_count\"] for r in rs) == 2, rs'"
check "inspect refs: main and dev" eq "$(fc inspect db.t refs --format csv | cut -d, -f1-3 | sort)" \
    "dev,BRANCH,$(fc inspect db.t snapshots --format jsonl | tail -n +1 | grep -v "\"snapshot_id\":$snap1," | grep -v "\"snapshot_id\":$snap2," | jcol snapshot_id)
main,BRANCH,$snap2
name,type,snapshot_id"
check "inspect metadata is the current metadata file" bash -c \
    "'$FIRN' --warehouse '$WH' inspect db.t metadata | cmp - <(cat '$(md_of db t | sed 's/^file://')'; echo)"
check "inspect table format" bash -c "'$FIRN' --warehouse '$WH' inspect db.t snapshots | head -2 | tail -1 | grep -Eq '^-+  -+'"
check "inspect: unknown metadata table" expect_fail "unknown metadata table 'nope'" fc inspect db.t nope
check "inspect: unknown table" expect_fail "firn: inspect db.nope snapshots:" fc inspect db.nope snapshots
check "help lists scan and inspect" bash -c "'$FIRN' help | grep -q '^   scan ' && '$FIRN' help | grep -q '^   inspect '"

finish
