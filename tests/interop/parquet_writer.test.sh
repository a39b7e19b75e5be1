#!/usr/bin/env bash
# parquet_writer.test.sh - files written by firn's Parquet writer, read back by
# DuckDB and hyparquet: every type (required and optional, nulls, extremes),
# every codec, data page v1 and v2, dictionary on and off, many pages and
# row groups, dictionary fallback, large binaries. pq_check.mjs compares every
# value of every row, the schema (field ids, logical and converted types) and
# DuckDB's view of the column chunks (codec, null counts, min/max).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIX=$TOOLS/pq_fixture
CHECK="node $INTEROP/pq_check.mjs"

# write NAME ARGS...: pq_fixture into $WORK/NAME.{parquet,json}
write() {
    local name=$1; shift
    "$FIX" "$WORK/$name.parquet" "$WORK/$name.json" "$@"
}

readers() { # NAME
    check "duckdb reads $1" $CHECK duckdb "$WORK/$1.parquet" "$WORK/$1.json"
    check "hyparquet reads $1" $CHECK hyparquet "$WORK/$1.parquet" "$WORK/$1.json"
}

for codec in none snappy gzip zstd lz4; do
    for page in v1 v2; do
        for dict in dict nodict; do
            name=$codec-$page-$dict
            args=(--codec "$codec" --rows 700)
            [ "$page" = v2 ] && args+=(--v2)
            [ "$dict" = nodict ] && args+=(--no-dict)
            check "pq_fixture writes $name" write "$name" "${args[@]}"
            readers "$name"
        done
    done
done

# many pages and row groups, batches that do not line up with them, and a
# dictionary that overflows (fallback to PLAIN) in most chunks
check "pq_fixture writes small pages and row groups" \
    write paged --rows 6000 --page-bytes 2000 --row-group-bytes 60000 --dict-bytes 300 --batch 777
check "small row groups make several row groups" \
    bash -c "head -1 '$WORK/paged.json' | grep -Eq '\"row_groups\":([2-9]|[1-9][0-9]+),'"
readers paged
check "pq_fixture writes small v2 pages with snappy" \
    write paged-v2 --rows 6000 --page-bytes 1500 --row-group-bytes 50000 --v2 --codec snappy --batch 1000
readers paged-v2

# tiny pages (a few values each), uncompressed v2; a file of one row; an empty file
check "pq_fixture writes tiny v2 pages" write tiny --rows 1500 --codec none --v2 --page-bytes 100
readers tiny
check "pq_fixture writes one row" write one --rows 1 --codec gzip
readers one
check "pq_fixture writes no rows" write empty --rows 0
readers empty

# 100 KiB, 1 MiB and 16 MiB binaries
check "pq_fixture writes large binaries" write big --big --rows 12
readers big

# same arguments, same bytes
check "pq_fixture is deterministic" bash -c "
    '$FIX' '$WORK/d1.parquet' '$WORK/d1.json' --rows 3000 --page-bytes 4000 --batch 500 &&
    '$FIX' '$WORK/d2.parquet' '$WORK/d2.json' --rows 3000 --page-bytes 4000 --batch 500 &&
    cmp '$WORK/d1.parquet' '$WORK/d2.parquet'"

# the checker itself notices a wrong value
check "pq_check notices a wrong value" bash -c "
    sed '3s/^\\[false,false,2147483647/[false,false,2147483646/; 3s/^\\[true,true,2147483647/[true,true,2147483646/' \
        '$WORK/zstd-v1-dict.json' > '$WORK/wrong.json' &&
    ! cmp -s '$WORK/zstd-v1-dict.json' '$WORK/wrong.json' &&
    ! $CHECK duckdb '$WORK/zstd-v1-dict.parquet' '$WORK/wrong.json' >/dev/null &&
    ! $CHECK hyparquet '$WORK/zstd-v1-dict.parquet' '$WORK/wrong.json' >/dev/null"

finish
