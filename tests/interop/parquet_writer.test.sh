#!/usr/bin/env bash
# parquet_writer.test.sh - files written by firn's Parquet writer, read back by
# DuckDB and hyparquet: every type (required and optional, nulls, extremes),
# every codec, data page v1 and v2, dictionary on and off, many pages and
# row groups, dictionary fallback, large binaries, a streamed media column.
# pq_check.mjs compares every value of every row, the schema (field ids,
# logical and converted types) and DuckDB's view of the column chunks (codec,
# null counts, min/max, row group offsets).
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

# a streamed media column: last in the schema, its chunk first in each row
# group's bytes (pages written as they fill), the other chunks after it. Read
# by DuckDB, hyparquet, arrow-rs (parquet-wasm) and firn's own reader.
all_readers() { # NAME
    readers "$1"
    check "arrow-rs reads $1" $CHECK arrow "$WORK/$1.parquet" "$WORK/$1.json"
    check "firn reads $1" env FIRN="$FIRN" $CHECK firn "$WORK/$1.parquet" "$WORK/$1.json"
}
check "pq_fixture writes a streamed media column" \
    write media --rows 400 --media-column 20000 --page-bytes 100000 --row-group-bytes 1000000 --batch 37
all_readers media
check "the media file has several row groups" \
    bash -c "head -1 '$WORK/media.json' | grep -Eq '\"row_groups\":([3-9]|[1-9][0-9]+),'"
check "pq_fixture writes a streamed media column, v2 pages, snappy, one row per batch" \
    write media-v2 --rows 300 --media-column 30000 --page-bytes 65536 --row-group-bytes 700000 \
    --v2 --codec snappy --batch 1
all_readers media-v2
check "pq_fixture writes 50-150 KiB images, 1 MiB pages, no compression, no dictionary" \
    write media-big --rows 120 --media-column 102400 --row-group-bytes 4000000 --batch 64 \
    --codec none --no-dict
all_readers media-big
check "streamed media is batching-independent in a row group" bash -c "
    '$FIX' '$WORK/m1.parquet' '$WORK/m1.json' --rows 200 --media-column 20000 --page-bytes 50000 --batch 1 &&
    '$FIX' '$WORK/m2.parquet' '$WORK/m2.json' --rows 200 --media-column 20000 --page-bytes 50000 --batch 33 &&
    '$FIX' '$WORK/m3.parquet' '$WORK/m3.json' --rows 200 --media-column 20000 --page-bytes 50000 &&
    cmp '$WORK/m1.parquet' '$WORK/m2.parquet' && cmp '$WORK/m1.parquet' '$WORK/m3.parquet'"

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
    ! $CHECK hyparquet '$WORK/zstd-v1-dict.parquet' '$WORK/wrong.json' >/dev/null &&
    ! $CHECK arrow '$WORK/zstd-v1-dict.parquet' '$WORK/wrong.json' >/dev/null &&
    ! FIRN='$FIRN' $CHECK firn '$WORK/zstd-v1-dict.parquet' '$WORK/wrong.json' >/dev/null"
# ... and a wrong byte at the end of an image (the last value of row 1)
check "pq_check notices a wrong media byte" bash -c "
    sed '3s/0\"\]\$/1\"]/; t; 3s/[1-9a-f]\"\]\$/0\"]/' '$WORK/media.json' > '$WORK/wrong-media.json' &&
    ! cmp -s '$WORK/media.json' '$WORK/wrong-media.json' &&
    ! $CHECK duckdb '$WORK/media.parquet' '$WORK/wrong-media.json' >/dev/null &&
    ! $CHECK hyparquet '$WORK/media.parquet' '$WORK/wrong-media.json' >/dev/null &&
    ! $CHECK arrow '$WORK/media.parquet' '$WORK/wrong-media.json' >/dev/null &&
    ! FIRN='$FIRN' $CHECK firn '$WORK/media.parquet' '$WORK/wrong-media.json' >/dev/null"

finish
