#!/usr/bin/env bash
# icebird.test.sh - independent readers read the tables firn's CLI writes.
#  - icebird (npm, JavaScript Iceberg reader on hyparquet) reads each table from disk through
#    a fetch that serves file: URLs (ib_check.mjs): latest and older metadata versions
#    (metadataFileName), and must return exactly the appended CSV rows (normalisations are
#    documented in ib_check.mjs).
#  - icebird cannot choose a ref or a snapshot, so branches and time travel are checked with
#    ice_walk.py (Debian's python3 + avro: metadata -> manifest list -> manifests, which it
#    also validates: header keys, field ids, sizes) and DuckDB reading exactly the listed files
#    (duck_rows.mjs).
# Reader features that are missing are printed as "lack" lines: the check expects the
# failure, and FAILs once the reader does it (then make it an ordinary check).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WH=$WORK/wh
# ib TABLE MDFILE|- CSV...: icebird returns exactly these rows (key column id)
ib() { local t=$1 m=$2; shift 2; node "$INTEROP/ib_check.mjs" "$WH/ns/$t" "$m" id "$@"; }
# walk ARGS...: live data files of a metadata file's ref/snapshot, validating what it reads
walk() { "$PY" "$INTEROP/ice_walk.py" "$@" --check; }
# duck METADATA WALKARGS... -- SQL: rows DuckDB reads from exactly the walked files
duck() {
    local args=() files
    while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
    files=$(walk "${args[@]}") || return 1
    mapfile -t f <<<"$files"
    node "$INTEROP/duck_rows.mjs" "$1" "${f[@]}"
}
body() { local f; for f; do tail -n +2 "$f"; done; }
# lacks NAME WHY CMD...: a known reader limitation; CMD must (still) fail
_lacks=()
lacks() {
    local name=$1 why=$2; shift 2
    if "$@" >/dev/null 2>&1; then
        echo "FAIL $name: expected to fail ($why) but works now: make it a check"; _fail=$((_fail + 1))
    else
        echo "lack $name: $why"; _lacks+=("$name"); _pass=$((_pass + 1))
    fi
}
# the metadata file name of the table's version N (0 = created, 1 = first commit, ...)
mdname() { basename "$(ls "$WH/ns/$1/metadata/" | grep -E "^0*$2-.*\.metadata\.json$" | head -1)"; }
snaps() { "$PY" -c 'import json,sys; print("\n".join(str(s["snapshot-id"]) for s in json.load(open(sys.argv[1]))["snapshots"]))' "$1"; }

check "namespace create" fc namespace create ns

# ------------------------------------------------ every primitive type, unpartitioned
cat >"$WORK/all.json" <<'JSON'
{"type":"struct","fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"b","required":false,"type":"boolean"},
 {"id":3,"name":"i","required":false,"type":"int"},
 {"id":4,"name":"f","required":false,"type":"float"},
 {"id":5,"name":"d","required":false,"type":"double"},
 {"id":6,"name":"dec","required":false,"type":"decimal(9, 2)"},
 {"id":7,"name":"bigdec","required":false,"type":"decimal(30, 3)"},
 {"id":8,"name":"dt","required":false,"type":"date"},
 {"id":9,"name":"tm","required":false,"type":"time"},
 {"id":10,"name":"ts","required":false,"type":"timestamp"},
 {"id":11,"name":"tstz","required":false,"type":"timestamptz"},
 {"id":12,"name":"s","required":false,"type":"string"},
 {"id":13,"name":"u","required":false,"type":"uuid"},
 {"id":14,"name":"fx","required":false,"type":"fixed[4]"},
 {"id":15,"name":"bin","required":false,"type":"binary"},
 {"id":16,"name":"l","required":false,"type":"long"}
]}
JSON
cat >"$WORK/all1.csv" <<'CSV'
id,b,i,f,d,dec,bigdec,dt,tm,ts,tstz,s,u,fx,bin,l
1,true,-2147483648,1.5,-0.25,14.20,-12345678901234567890.123,1969-12-31,23:59:59.999999,1969-12-31T23:59:59.999999,2025-11-26T10:00:00.123456+02:00,héllo,0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,cafebabe,00ff,-9223372036854775808
2,,,,,,,,,,,,,,,
3,false,2147483647,-3.4028234663852886e+38,1e-300,-9999999.99,99999999999999999999999999.999,2262-04-11,00:00:00,2025-01-01T00:00:00.001,1900-01-01T00:00:00Z,"a,""q""",ffffffff-ffff-ffff-ffff-ffffffffffff,00000000,68692e,9223372036854775807
CSV
cat >"$WORK/all2.csv" <<'CSV'
id,b,i,f,d,dec,bigdec,dt,tm,ts,tstz,s,u,fx,bin,l
4,true,0,0,-0,0.01,0.000,1970-01-01,12:34:56.5,1970-01-01T00:00:00,1970-01-01T00:00:00-01:00,,00000000-0000-0000-0000-000000000000,01020304,,0
CSV
check "table create (all types)" fc table create ns.all --schema "$WORK/all.json"
check "append 1 (all types)" fc append ns.all "$WORK/all1.csv"
check "append 2 (all types)" fc append ns.all "$WORK/all2.csv"
check "icebird: all types, latest metadata" ib all "$(mdname all 2)" "$WORK/all1.csv" "$WORK/all2.csv"
check "icebird: all types, older version (metadataFileName)" ib all "$(mdname all 1)" "$WORK/all1.csv"
lacks "icebird: latest metadata through version-hint.text" \
    "firn writes '$(cat "$WH/ns/all/metadata/version-hint.text" 2>/dev/null)' in version-hint.text; icebird parses it with parseInt and fetches v<N>.metadata.json" \
    ib all - "$WORK/all1.csv" "$WORK/all2.csv"
printf 'id\n' >"$WORK/empty.csv"
lacks "icebird: a table without snapshots reads as 0 rows" \
    "icebird throws 'No current snapshot id found in table metadata' (firn writes current-snapshot-id -1 and no refs, as the spec allows)" \
    ib all "$(mdname all 0)" "$WORK/empty.csv"
# what icebird cannot return exactly (ib_check.mjs normalises it; DuckDB checks the exact values)
lacks "icebird: exact decimal(30,3)" "icebird returns decimals as JS Numbers (unscaled * 10^-scale): 30 digits do not fit" \
    env IB_STRICT=decimal node "$INTEROP/ib_check.mjs" "$WH/ns/all" "$(mdname all 2)" id "$WORK/all1.csv" "$WORK/all2.csv"
lacks "icebird: microsecond timestamps" "icebird returns timestamp/timestamptz as JS Dates: microseconds truncated to ms" \
    env IB_STRICT=timestamp node "$INTEROP/ib_check.mjs" "$WH/ns/all" "$(mdname all 2)" id "$WORK/all1.csv" "$WORK/all2.csv"
lacks "icebird: binary as bytes" "icebird returns binary as UTF-8-decoded text (hyparquet's utf8 default): 00ff reads as \\u0000\\ufffd" \
    env IB_STRICT=binary node "$INTEROP/ib_check.mjs" "$WH/ns/all" "$(mdname all 2)" id "$WORK/all1.csv" "$WORK/all2.csv"
M=$(md_path ns all)
check "python+avro: manifests and manifest list of every snapshot are valid" bash -c \
    "for s in \$('$PY' -c 'import json,sys; print(\" \".join(str(s[\"snapshot-id\"]) for s in json.load(open(sys.argv[1]))[\"snapshots\"]))' '$M'); do '$PY' '$INTEROP/ice_walk.py' '$M' --snapshot \$s --check >/dev/null || exit 1; done"
check "DuckDB: exact values of every type, through python's manifest walk" eq "$(duck "$M" -- 'SELECT * FROM t ORDER BY id')" \
'1,true,-2147483648,1.5,-0.25,14.20,-12345678901234567890.123,1969-12-31,23:59:59.999999,1969-12-31 23:59:59.999999,2025-11-26 08:00:00.123456+00,héllo,0b7e8c1e-5a2f-4c1d-9a3b-1c2d3e4f5a6b,\xCA\xFE\xBA\xBE,\x00\xFF,-9223372036854775808
2,,,,,,,,,,,,,,,
3,false,2147483647,-3.4028234663852886e+38,1e-300,-9999999.99,99999999999999999999999999.999,2262-04-11,00:00:00,2025-01-01 00:00:00.001,1900-01-01 00:00:00+00,a,"q",ffffffff-ffff-ffff-ffff-ffffffffffff,\x00\x00\x00\x00,hi.,9223372036854775807
4,true,0,0,0,0.01,0.000,1970-01-01,12:34:56.5,1970-01-01 00:00:00,1970-01-01 01:00:00+00,,00000000-0000-0000-0000-000000000000,\x01\x02\x03\x04,,0'
check "DuckDB: -0.0 keeps its sign (the row above prints it as 0)" eq "$(duck "$M" -- 'SELECT signbit(d) FROM t WHERE id = 4')" true
check "ib_check.mjs notices a missing row (self-test)" bash -c "! node '$INTEROP/ib_check.mjs' '$WH/ns/all' '$(mdname all 2)' id '$WORK/all1.csv' 2>/dev/null"
sed 's/^1,true,-2147483648,1.5/1,true,-2147483647,1.5/' "$WORK/all1.csv" >"$WORK/all1x.csv"
check "ib_check.mjs notices a wrong value (self-test)" bash -c "! node '$INTEROP/ib_check.mjs' '$WH/ns/all' '$(mdname all 1)' id '$WORK/all1x.csv' 2>/dev/null"

# ---------------------- partitioned: day(ts), identity(string), bucket(N,id); schema evolution
cat >"$WORK/part.json" <<'JSON'
{"type":"struct","fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"ts","required":true,"type":"timestamptz"},
 {"id":3,"name":"s","required":false,"type":"string"},
 {"id":4,"name":"v","required":false,"type":"double"}
]}
JSON
printf 'id,ts,s,v\n1,2025-11-26T10:00:00Z,a,1.5\n2,2025-11-26T23:59:59.999Z,b,\n3,1969-12-31T23:59:59Z,a,-2\n' >"$WORK/p1.csv"
printf 'id,ts,s,v\n4,2025-11-27T00:00:00Z,,4\n5,2025-11-27T00:00:00.5Z,c d/e=f,5\n' >"$WORK/p2.csv"
printf 'id,ts,s,v\n6,2024-02-29T12:00:00+05:30,a,6\n' >"$WORK/p3.csv"
printf 'id,ts,s,v,extra\n7,2025-11-28T00:00:00Z,a,7,new\n8,2025-11-28T01:00:00Z,,,\n' >"$WORK/p4.csv"
check "table create partitioned by day(ts), s, bucket(8,id)" \
    fc table create ns.part --schema "$WORK/part.json" --partition-by 'day(ts), s, bucket(8,id)'
check "append 1 (partitioned)" fc append ns.part "$WORK/p1.csv"
check "append 2 (partitioned)" fc append ns.part "$WORK/p2.csv"
check "append 3 (partitioned)" fc append ns.part "$WORK/p3.csv"
check "data files are in partition directories" bash -c "ls -R '$WH/ns/part/data' | grep -q 'ts_day=2025-11-26'"
check "icebird: partitioned, 3 snapshots" ib part "$(mdname part 3)" "$WORK/p1.csv" "$WORK/p2.csv" "$WORK/p3.csv"
check "icebird: partitioned, version 1" ib part "$(mdname part 1)" "$WORK/p1.csv"
check "icebird: partitioned, version 2" ib part "$(mdname part 2)" "$WORK/p1.csv" "$WORK/p2.csv"
check "schema add-column" fc schema add-column ns.part extra string
check "icebird: after add-column, before any new append (extra is null)" ib part "$(mdname part 4)" "$WORK/p1.csv" "$WORK/p2.csv" "$WORK/p3.csv"
check "append 4 (with the new column)" fc append ns.part "$WORK/p4.csv"
check "icebird: after schema evolution, old rows have extra = null" \
    ib part "$(mdname part 5)" "$WORK/p1.csv" "$WORK/p2.csv" "$WORK/p3.csv" "$WORK/p4.csv"
check "icebird: version before the evolution still reads the old schema" ib part "$(mdname part 3)" "$WORK/p1.csv" "$WORK/p2.csv" "$WORK/p3.csv"
M=$(md_path ns part)
check "python+avro: every snapshot's manifests are valid (partitioned)" bash -c \
    "for s in \$('$PY' -c 'import json,sys; print(\" \".join(str(s[\"snapshot-id\"]) for s in json.load(open(sys.argv[1]))[\"snapshots\"]))' '$M'); do '$PY' '$INTEROP/ice_walk.py' '$M' --snapshot \$s --check >/dev/null || exit 1; done"
Q="SELECT id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), s, v, extra FROM t ORDER BY id"
check "DuckDB: partitioned table after evolution, exact rows" eq "$(duck "$M" -- "$Q")" \
'1,2025-11-26T10:00:00.000000Z,a,1.5,
2,2025-11-26T23:59:59.999000Z,b,,
3,1969-12-31T23:59:59.000000Z,a,-2,
4,2025-11-27T00:00:00.000000Z,,4,
5,2025-11-27T00:00:00.500000Z,c d/e=f,5,
6,2024-02-29T06:30:00.000000Z,a,6,
7,2025-11-28T00:00:00.000000Z,a,7,new
8,2025-11-28T01:00:00.000000Z,,,'
"$PY" "$INTEROP/ice_walk.py" "$M" --partitions >"$WORK/part.parts"
cut -d'"' -f4 "$WORK/part.parts" | DUCK_JSON=1 xargs -d '\n' node "$INTEROP/duck_rows.mjs" \
    "SELECT filename AS path, id, epoch_us(ts) AS ts, s FROM t" >"$WORK/part.rows"
check "partition tuples in the manifests match day(ts), s, bucket(8,id) of every row" \
    "$PY" "$INTEROP/part_check.py" "$WORK/part.parts" "$WORK/part.rows"
"$PY" -c 'import json,sys
for i, l in enumerate(open(sys.argv[1])):
    e = json.loads(l)
    if i == 0: e["partition"]["id_bucket"] = (e["partition"]["id_bucket"] + 1) % 8
    print(json.dumps(e))' "$WORK/part.parts" >"$WORK/part.bad"
check "part_check.py notices a wrong bucket (self-test)" bash -c "! '$PY' '$INTEROP/part_check.py' '$WORK/part.bad' '$WORK/part.rows' 2>/dev/null"
# time travel: each snapshot id of the latest metadata, read with python + DuckDB
mapfile -t S < <(snaps "$M")
check "partitioned table has 4 snapshots" eq "${#S[@]}" 4
tt() { duck "$M" --snapshot "$1" -- 'SELECT id FROM t ORDER BY id' | paste -sd' '; }
check "time travel: snapshot 1 = append 1" eq "$(tt "${S[0]}")" "1 2 3"
check "time travel: snapshot 2 = appends 1-2" eq "$(tt "${S[1]}")" "1 2 3 4 5"
check "time travel: snapshot 3 = appends 1-3" eq "$(tt "${S[2]}")" "1 2 3 4 5 6"
check "time travel: snapshot 4 = appends 1-4" eq "$(tt "${S[3]}")" "1 2 3 4 5 6 7 8"

# ------------------------------------------------------ branches and fast-forward
cat >"$WORK/br.json" <<'JSON'
{"type":"struct","fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"s","required":false,"type":"string"}
]}
JSON
printf 'id,s\n1,main-1\n2,main-2\n' >"$WORK/b1.csv"
printf 'id,s\n3,dev-1\n' >"$WORK/b2.csv"
printf 'id,s\n4,dev-2\n5,dev-3\n' >"$WORK/b3.csv"
check "table create (branches)" fc table create ns.br --schema "$WORK/br.json"
check "append to main" fc append ns.br "$WORK/b1.csv"
check "branch create dev" fc branch create ns.br dev
check "append to dev" fc append ns.br "$WORK/b2.csv" --branch dev
check "append to dev again" fc append ns.br "$WORK/b3.csv" --branch dev
M=$(md_path ns br)
br() { duck "$M" --ref "$1" -- 'SELECT id, s FROM t ORDER BY id'; }
check "python+DuckDB: main has only main's rows" eq "$(br main)" "$(body "$WORK/b1.csv")"
check "python+DuckDB: dev has main's and dev's rows" eq "$(br dev)" "$(body "$WORK/b1.csv" "$WORK/b2.csv" "$WORK/b3.csv")"
check "icebird (current snapshot = main) does not see dev's rows" ib br "$(basename "$M")" "$WORK/b1.csv"
check "branch ff main dev" fc branch ff ns.br main dev
M=$(md_path ns br)
check "python+DuckDB: main after fast-forward" eq "$(br main)" "$(body "$WORK/b1.csv" "$WORK/b2.csv" "$WORK/b3.csv")"
check "python+DuckDB: dev unchanged" eq "$(br dev)" "$(body "$WORK/b1.csv" "$WORK/b2.csv" "$WORK/b3.csv")"
check "icebird: after the fast-forward main has dev's rows" ib br "$(basename "$M")" "$WORK/b1.csv" "$WORK/b2.csv" "$WORK/b3.csv"
check "icebird: version before the fast-forward" ib br "$(mdname br 3)" "$WORK/b1.csv"
check "python+avro: every snapshot's manifests are valid (branches)" bash -c \
    "for s in \$('$PY' -c 'import json,sys; print(\" \".join(str(s[\"snapshot-id\"]) for s in json.load(open(sys.argv[1]))[\"snapshots\"]))' '$M'); do '$PY' '$INTEROP/ice_walk.py' '$M' --snapshot \$s --check >/dev/null || exit 1; done"

# self-test: the walker's --check notices a manifest list whose header disagrees with metadata
"$PY" -c 'import json,sys
md=json.load(open(sys.argv[1])); md["snapshots"][0]["sequence-number"]=99
json.dump(md, open(sys.argv[2], "w"))' "$M" "$WORK/bad-seq.metadata.json"
check "ice_walk.py --check notices a wrong sequence-number header (self-test)" bash -c \
    "! '$PY' '$INTEROP/ice_walk.py' '$WORK/bad-seq.metadata.json' --snapshot $(snaps "$M" | sed -n 1p) --check 2>'$WORK/walk.err' >/dev/null && grep -q 'header sequence-number' '$WORK/walk.err'"

# -------------------------------------------------- every data file, every reader
check "DuckDB reads every data file firn wrote" bash -c \
    "find '$WH' -name '*.parquet' -print0 | xargs -0 node '$INTEROP/duck_rows.mjs' 'SELECT count(*) FROM t' >/dev/null"
check "every data file on disk is listed by some snapshot" bash -c "
    for t in all part br; do m=\$(ls '$WH'/ns/\$t/metadata/*.metadata.json | sort | tail -1)
      for s in \$('$PY' -c 'import json,sys; print(\" \".join(str(s[\"snapshot-id\"]) for s in json.load(open(sys.argv[1]))[\"snapshots\"]))' \$m); do
        '$PY' '$INTEROP/ice_walk.py' \$m --snapshot \$s; done; done | sort -u >'$WORK/listed'
    find '$WH' -name '*.parquet' | sort >'$WORK/ondisk'; diff '$WORK/listed' '$WORK/ondisk'"
[ ${#_lacks[@]} -gt 0 ] && printf 'reader lacks: %s\n' "${_lacks[@]}"
finish
