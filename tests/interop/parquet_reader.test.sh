#!/usr/bin/env bash
# parquet_reader.test.sh - firn's Parquet reader on files written by others.
# pq_gen.mjs writes files with DuckDB (every type it has, NULLs, every codec,
# PARQUET_VERSION V1 and V2, several row groups, nested columns, empty and
# all-null files) and with arrow-rs through parquet-wasm (every codec, data
# page v1 and v2, dictionary and plain, DELTA_* / BYTE_STREAM_SPLIT / RLE
# encodings, tiny pages); pq_compare.mjs checks `firn parquet cat` against
# what DuckDB reads from the same file, every row and every column.
# Then: projection, `meta` against DuckDB's parquet_metadata(), unsupported
# codecs and corrupt files give clean errors, and round trips through firn's
# own writer (tests/tools/pq_fixture) read back exactly.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GEN=$WORK/gen
mkdir -p "$GEN"
COMPARE="node $INTEROP/pq_compare.mjs $FIRN"

check "DuckDB and parquet-wasm write the test files" node "$INTEROP/pq_gen.mjs" "$GEN"

# a file's cat must fail with a message containing TEXT
cat_fails_with() { # "FILE [ARGS]" TEXT
    local out
    # shellcheck disable=SC2086
    if out=$("$FIRN" parquet cat $1 2>&1 >/dev/null); then
        echo "firn parquet cat succeeded on $1"
        return 1
    fi
    grep -qF -- "$2" <<<"$out" || { echo "message: $out"; return 1; }
}

# two files that hold the same rows print the same lines
same_rows() { # A B
    cmp <("$FIRN" parquet cat "$1") <("$FIRN" parquet cat "$2")
}

for f in "$GEN"/*.parquet; do
    name=$(basename "$f" .parquet)
    case $name in
    arrowrs_brotli)
        check "$name: clean error for a codec firn lacks" \
            cat_fails_with "$f" "compression codec BROTLI (4) is not supported" ;;
    arrowrs_v2_bss_ints)
        # DuckDB cannot read BYTE_STREAM_SPLIT integers: compare with the
        # same table written PLAIN, which is checked against DuckDB above
        check "$name: BYTE_STREAM_SPLIT ints/decimals/fixed equal the PLAIN file" \
            same_rows "$f" "$GEN/arrowrs_v2_plain.parquet" ;;
    arrowrs_lz4_hadoop)
        # deprecated LZ4 (Hadoop framing): DuckDB cannot read it either
        check "$name: deprecated LZ4 codec reads the same rows as the PLAIN file" \
            same_rows "$f" "$GEN/arrowrs_v1_plain.parquet" ;;
    *)
        check "$name: every row equals DuckDB's" $COMPARE "$f" ;;
    esac
done

# the files really use what they claim (chunk-level encodings in the footer)
covers() { # WHAT WORD...: every WORD appears in the footers of the files
    local what=$1; shift
    local seen
    seen=$(for f in "$GEN"/*.parquet; do "$FIRN" parquet meta "$f" 2>/dev/null; done |
        grep -oE '[A-Z][A-Z0-9_]+' | sort -u | tr '\n' ' ')
    for w in "$@"; do
        grep -qw "$w" <<<"$seen" || { echo "no file uses $what $w"; return 1; }
    done
}
check "the files cover every encoding firn reads" covers encoding PLAIN PLAIN_DICTIONARY \
    RLE_DICTIONARY RLE DELTA_BINARY_PACKED DELTA_LENGTH_BYTE_ARRAY DELTA_BYTE_ARRAY BYTE_STREAM_SPLIT
check "the files cover every codec firn reads" covers codec UNCOMPRESSED SNAPPY GZIP ZSTD LZ4_RAW

# projection: the named columns only, in the order asked
check "--columns reads the named columns in order" \
    $COMPARE "$GEN/duckdb_v1_zstd.parquet" --columns c_varchar,id,c_dec38,c_tstz
check "--columns on arrow-rs data page v2" \
    $COMPARE "$GEN/arrowrs_small_pages_v2.parquet" --columns c_utf8_distinct,c_u64
check "--columns naming a nested column fails, saying why" \
    cat_fails_with "$GEN/duckdb_nested.parquet --columns c_struct.a" "nested column"
check "--columns naming no column fails" \
    bash -c "! '$FIRN' parquet cat '$GEN/duckdb_v1_zstd.parquet' --columns nope 2>/dev/null"

# the comparison is not vacuous: one changed value is caught
cat >"$WORK/firn-lies" <<EOF
#!/usr/bin/env bash
"$FIRN" "\$@" | sed '3s/"id":2,/"id":3,/'
EOF
chmod +x "$WORK/firn-lies"
check "the comparison catches a changed value" \
    bash -c "! node '$INTEROP/pq_compare.mjs' '$WORK/firn-lies' '$GEN/duckdb_v1_snappy.parquet' >/dev/null"

# meta against DuckDB's parquet_metadata()
for name in duckdb_v1_zstd duckdb_v2_snappy arrowrs_small_pages arrowrs_v2_encodings duckdb_nested; do
    check "meta of $name agrees with DuckDB's parquet_metadata" \
        node "$INTEROP/pq_meta_compare.mjs" "$FIRN" "$GEN/$name.parquet"
done
check "schema names nested columns and why they cannot be read" \
    bash -c "'$FIRN' parquet schema '$GEN/duckdb_nested.parquet' | grep 'c_struct.a' | grep -q 'nested column'"
check "schema --json is JSON with every leaf" \
    bash -c "'$FIRN' parquet schema --json '$GEN/duckdb_nested.parquet' |
             node -e 'const s=JSON.parse(require(\"fs\").readFileSync(0));process.exit(s.columns.length===7&&s.columns.filter(c=>!c.supported).length===5?0:1)'"

# corrupt input: clean errors naming what is wrong
head -c 3000 "$GEN/duckdb_v1_snappy.parquet" >"$WORK/truncated.parquet"
check "truncated file: clean error" cat_fails_with "$WORK/truncated.parquet" "truncated or not Parquet"
printf 'not parquet at all, not at all' >"$WORK/garbage.parquet"
check "not a Parquet file: clean error" cat_fails_with "$WORK/garbage.parquet" "no PAR1 magic at the start"
check "missing file: clean error" cat_fails_with "$WORK/nope.parquet" "cannot open"
# chop the data out from under an intact footer: the chunks now lie
python3 - "$GEN/duckdb_v1_snappy.parquet" "$WORK/chopped.parquet" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
flen = struct.unpack('<I', d[-8:-4])[0]
open(sys.argv[2], 'wb').write(d[:len(d) // 3] + d[-8 - flen:])
EOF
check "data chopped before the footer: corrupt, with column and row group" \
    cat_fails_with "$WORK/chopped.parquet" "row group 0"

# round trips through firn's own writer: what pq_fixture wrote is what cat reads
FIX=$TOOLS/pq_fixture
if [ -x "$FIX" ]; then
    i=0
    for args in "" "--v2" "--codec snappy" "--codec gzip --no-dict" "--codec none --v2 --no-dict" \
        "--codec lz4 --v2" "--rows 6000 --page-bytes 2000 --row-group-bytes 60000 --dict-bytes 300 --batch 777" \
        "--rows 1" "--rows 0" "--big --rows 12"; do
        i=$((i + 1))
        check "firn writer -> firn reader: pq_fixture ${args:-(defaults)}" bash -c "
            '$FIX' '$WORK/fx$i.parquet' '$WORK/fx$i.json' $args &&
            node '$INTEROP/pq_fixture_compare.mjs' '$FIRN' '$WORK/fx$i.parquet' '$WORK/fx$i.json'"
    done
else
    check "tests/tools/pq_fixture is built" false
fi

finish
