#!/usr/bin/env bash
# foreign.test.sh - tables written by other engines scan correctly. No Spark or PyIceberg
# here: foreign_tables.mjs (DuckDB) writes data and delete files the way they lay them out
# (data files without Parquet field ids, identity partition columns left out of the files,
# position and equality deletes), foreign_tables.py (Python's avro, Java's schemas) writes
# their manifests, manifest lists and metadata JSON (Spark's and PyIceberg's file names, a
# format v1 table whose first snapshot embeds its manifests). Each table is adopted with
# `firn table register`; `firn scan` (filters, projection, time travel) must return exactly
# the rows DuckDB's SQL computes over the same files with the deletes applied.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export FIRN

WH=$WORK/wh
D=$WORK/tables
mkdir -p "$D"
# same TABLE SNAP COLUMNS WHERE [SCAN ARGS...]: firn scan's rows = DuckDB's for that snapshot
same() {
    local t=$1 n=$2 cols=$3 where=$4; shift 4
    (cd "$INTEROP" && node foreign_tables.mjs expect "$D" "$t" "$n" "$cols" "$where") >"$WORK/want.jsonl" || return 1
    local args=(scan "db.$t" --format jsonl --columns "$(tr -d ' ' <<<"$cols")")
    [ -n "$where" ] && args+=(--where "$where")
    fc "${args[@]}" "$@" >"$WORK/got.jsonl" || return 1
    "$PY" "$INTEROP/foreign_tables.py" same "$WORK/want.jsonl" "$WORK/got.jsonl"
}

check "setup: DuckDB writes the data and delete files" bash -c "cd '$INTEROP' && node foreign_tables.mjs write '$D'"
check "setup: Python's avro writes manifests, lists and metadata" \
    bash -c "'$PY' '$INTEROP/foreign_tables.py' build '$D' >'$WORK/built.txt'"
md() { awk -v t="$1" '$1 == t { print $2 }' "$WORK/built.txt"; }
snap() { awk -v t="$1" -v n="$2" '$1 == "snapshot" && $2 == t && $3 == n { print $'"${3:-4}"' }' "$WORK/built.txt"; }

check "file names: Spark's and PyIceberg's (<n>-<uuid>.metadata.json, snap-<id>-<attempt>-<uuid>.avro, <uuid>-m0.avro)" \
    bash -c "basename '$(md spark)' | grep -qE '^00002-[0-9a-f-]{36}\.metadata\.json$' &&
             ls '$D/spark/metadata' | grep -qE '^snap-[0-9]+-1-[0-9a-f-]{36}\.avro$' &&
             ls '$D/pyice/metadata' | grep -qE '^snap-[0-9]+-0-[0-9a-f-]{36}\.avro$' &&
             ls '$D/spark/metadata' | grep -qE '^[0-9a-f-]{36}-m0\.avro$'"
ids_of() { "$FIRN" parquet schema "$1" | awk '$1 ~ /^[0-9]+$/ { print $3 }' | sort -u | tr '\n' ' '; }
ids_check() {
    local d p
    d=$(ls "$D"/spark/data/region=eu/00000-0-*.parquet)
    p=$(ls "$D"/spark/data/region=eu/*-deletes.parquet | grep -v eq-)
    [ "$(ids_of "$d")" = "- " ] || { "$FIRN" parquet schema "$d"; return 1; }
    ids_of "$p" | grep -q 2147483546 || { "$FIRN" parquet schema "$p"; return 1; }
}
check "data files have no Parquet field ids (DuckDB), delete files do" ids_check
check "spark data files lack the identity partition column region" bash -c "
    ! '$FIRN' parquet schema '$D/spark/data/region=eu/'00000-0-*.parquet | grep -q region"

check "setup: namespace" fc namespace create db
for t in spark pyice v1 badsize; do
    check "register $t ($(basename "$(md $t)"))" fc table register "db.$t" "$(md $t)"
done

# ---- spark: v2, region only in the manifests, name mapping, position + equality deletes
check "spark: all rows, deletes applied (positions, eu-scoped equality by seq)" \
    same spark 2 'id, region, v, name' ''
check "spark: filter on the manifest-only partition column" same spark 2 'id, region, v, name' "region = 'us'"
check "spark: filter on a data column and the partition column" \
    same spark 2 'id, name' "region = 'eu' and id >= 3"
check "spark: is null / or / not" same spark 2 'region, name' "name is null or not (v < 30)"
check "spark: projection of the partition column alone" same spark 2 'region' ''
check "spark: time travel to snapshot 1 (before the deletes)" \
    same spark 1 'id, region, v, name' '' --snapshot "$(snap spark 1)"
check "spark: --as-of snapshot 1's time" \
    same spark 1 'id, region' '' --as-of "$(( $(snap spark 1 5) + 1000 ))"
# the equality delete (ids 3 and 4, partition eu, seq 2) must keep us's 3 and 4 and the eu
# file of seq 2 that re-adds id 3: check those rows explicitly, not only via DuckDB
check "spark: equality delete is partition-scoped and sequence-bound" bash -c "
    out=\$('$FIRN' --warehouse '$WH' scan db.spark --format csv --columns region,id --where 'id in (3, 4)' | sort)
    [ \"\$out\" = \"\$(printf 'eu,3\nregion,id\nus,3\nus,4' | sort)\" ] || { echo \"\$out\"; exit 1; }"

# ---- pyice: PyIceberg layout, aliased column names via the mapping, global equality delete
check "pyice: all rows (global equality delete on id+category)" same pyice 2 'id, category, ts, amount' ''
check "pyice: filter by timestamp and category" \
    same pyice 2 'id, category, amount' "ts >= '2024-03-01T04:00:00Z' and category != 'b'"
check "pyice: amount is null" same pyice 2 'id, category' 'amount is null'
check "pyice: snapshot 1 by id" same pyice 1 'id, category, ts, amount' '' --snapshot "$(snap pyice 1)"
check "pyice: without the name mapping the unmapped files are refused" bash -c "
    sed 's/\"schema.name-mapping.default\"/\"x-unused\"/' '$(md pyice)' >'$D/pyice/metadata/00003-nomap.metadata.json' &&
    '$FIRN' --warehouse '$WH' table register db.pyice_nomap '$D/pyice/metadata/00003-nomap.metadata.json' >/dev/null &&
    out=\$('$FIRN' --warehouse '$WH' scan db.pyice_nomap 2>&1) && { echo \"\$out\"; exit 1; }
    grep -q 'no Parquet field ids' <<<\"\$out\" || { echo \"\$out\"; exit 1; }"

# ---- v1: schema/partition-spec, no sequence numbers; snapshot 1 embeds its manifests
check "v1: current snapshot (manifest list, overwrite)" same v1 2 'id, part, s' ''
check "v1: time travel to the snapshot that embeds its manifests" \
    same v1 1 'id, part, s' '' --snapshot "$(snap v1 1)"
check "v1: --as-of the embedded snapshot, filtered" \
    same v1 1 'id, s' 'part = 2 and id > 201' --as-of "$(( $(snap v1 1 5) + 1 ))"
check "v1: filter on the current snapshot" same v1 2 'id' "s = 'late' or id < 102"
check "register v1old (v1.metadata.json: the current snapshot embeds its manifests)" \
    fc table register db.v1old "$(md v1old)"
# same's DuckDB side reads table v1 as of snapshot 1: the files of v1old's current snapshot
# v1old_same [WHERE]: its rows = DuckDB's over table v1 as of snapshot 1 (the same files)
v1old_same() {
    local w=${1:-} args=(scan db.v1old --format jsonl --columns id,part,s)
    [ -n "$w" ] && args+=(--where "$w")
    fc "${args[@]}" >"$WORK/got.jsonl" &&
    (cd "$INTEROP" && node foreign_tables.mjs expect "$D" v1 1 'id, part, s' "$w") >"$WORK/want.jsonl" &&
    "$PY" "$INTEROP/foreign_tables.py" same "$WORK/want.jsonl" "$WORK/got.jsonl"
}
check "v1old: scan of the current snapshot that embeds its manifests" v1old_same
check "v1old: with a filter on the partition column" v1old_same "part = 1 and id != 102"
check "v1old: inspect files lists the embedded manifest's 2 data files" bash -c "
    '$FIRN' --warehouse '$WH' inspect db.v1old files --format csv >'$WORK/files.csv' &&
    [ \$(grep -c '\.parquet' '$WORK/files.csv') = 2 ] || { cat '$WORK/files.csv'; exit 1; }"
check "v1old: inspect manifests (unknown counts empty)" bash -c "
    '$FIRN' --warehouse '$WH' inspect db.v1old manifests --format csv >'$WORK/m.csv' &&
    [ \$(grep -c 'm0\.avro,[0-9]*,0,$(snap v1 1),,,,,,,' '$WORK/m.csv') = 1 ] || { cat '$WORK/m.csv'; exit 1; }"

# ---- a file whose size differs from file_size_in_bytes
check "size mismatch: an error naming both sizes" \
    expect_fail "file_size_in_bytes = " fc scan db.badsize
check "size mismatch: --allow-size-mismatch reads the file and warns" bash -c "
    '$FIRN' --warehouse '$WH' scan db.badsize --allow-size-mismatch --format jsonl >'$WORK/bs.jsonl' 2>'$WORK/bs.err' &&
    grep -q 'warning: data file .* file_size_in_bytes = [0-9]* but the file has [0-9]* bytes' '$WORK/bs.err' &&
    [ \$(wc -l <'$WORK/bs.jsonl') = 3 ] || { cat '$WORK/bs.err' '$WORK/bs.jsonl'; exit 1; }"

# ---- firn help CMD prints the command's page
check "help scan prints docs/cli/scan.md" bash -c "diff <('$FIRN' help scan) docs/cli/scan.md"
check "help table prints docs/cli/table.md" bash -c "diff <('$FIRN' help table) docs/cli/table.md"
check "help of an unknown command fails" expect_fail "no such command" fc help nosuch
finish
