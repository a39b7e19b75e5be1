#!/usr/bin/env bash
# iceberg_writer.test.sh - tables written by firn's Iceberg data writer and
# fast append (tests/tools/ice_write_fixture), read by independent readers:
# ice_check.mjs walks metadata JSON -> manifest list -> manifests with avsc
# and reads every data file with DuckDB, checking rows, partition values,
# record counts, field ids, the iceberg.schema footer key and codecs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIX=$TOOLS/ice_write_fixture

# write NAME ARGS...: a table under $WORK/NAME, expected rows in $WORK/NAME.jsonl
write() {
    local name=$1; shift
    "$FIX" "$WORK/$name" "$WORK/$name.jsonl" "$@"
}

check "ice_write_fixture writes a partitioned table" write small --rows 600
check "duckdb and avsc read the table firn wrote" node "$INTEROP/ice_check.mjs" "$WORK/small.jsonl"

# a small target size: several files per partition value
check "ice_write_fixture writes rolled files" write rolled --rows 3000 --target 4096
check "rolled table has more files than partitions" \
    bash -c "[ \$(head -1 '$WORK/rolled.jsonl' | grep -o '\.parquet' | wc -l) -gt \$(find '$WORK/small/db/events/data' -name '*.parquet' | wc -l) ]"
check "duckdb and avsc read the rolled table" node "$INTEROP/ice_check.mjs" "$WORK/rolled.jsonl"

# version-hint.text names the current metadata file (DuckDB's <hint>.metadata.json)
check "version-hint.text names the current metadata" bash -c '
    dir="'"$WORK"'/small/db/events/metadata"
    hint=$(cat "$dir/version-hint.text")
    cur=$(head -1 "'"$WORK"'/small.jsonl" | sed -E "s/.*\"metadata\":\"file:([^\"]*)\".*/\1/")
    [ "$dir/$hint.metadata.json" = "$cur" ] && [ -f "$cur" ]'

finish
