#!/usr/bin/env bash
# avro.test.sh - firn's Avro files against independent readers and writers:
# Apache Avro's Python library (Debian's python3-avro) and avsc (node). Each
# side reads the other's files (codecs null and deflate) and must produce the
# same records, compared value by value (tests/interop/avro_compare.py).
source "$(dirname "$0")/lib.sh"

FIXTURE=$TOOLS/avro_fixture
COMPARE="$PY $INTEROP/avro_compare.py"
AVRO_PY="$PY $INTEROP/avro_py.py"
AVSC="node $INTEROP/avro_avsc.mjs"

# has_lines FILE LINE...: every LINE appears as a whole line in FILE
has_lines() {
    local file=$1; shift
    local missing=0
    for line in "$@"; do grep -qxF -- "$line" "$file" || missing=1; done
    [ "$missing" -eq 0 ] && return 0
    echo "--- $file:"; head -n 60 "$file"
    for line in "$@"; do grep -qxF -- "$line" "$file" || echo "missing: $line"; done
    return 1
}

# The ids every reader must see in the fixture's schema.
IDS=(
    "status field-id=0" "snapshot_id field-id=1" "data_file field-id=2"
    "data_file.file_path field-id=100" "data_file.partition field-id=102"
    "data_file.partition.event_date field-id=1000"
    "data_file.column_sizes field-id=108" "data_file.column_sizes.key field-id=117"
    "data_file.column_sizes.value field-id=118" "data_file.lower_bounds.value field-id=127"
    "data_file.split_offsets field-id=132" "data_file.split_offsets element-id=133"
    "data_file.equality_ids element-id=136" "data_file.referenced_data_file field-id=143"
    "extras.props field-id=5000" "extras.props key-id=5001" "extras.props value-id=5002"
    "extras.either field-id=5011"
)

for codec in null deflate; do
    f=$WORK/firn-$codec.avro
    check "fixture: firn writes a $codec file" \
        "$FIXTURE" "$codec" "$f" "$WORK/firn-$codec.expected" "$WORK/firn-$codec.schema"

    check "firn avro cat: own $codec file gives the records written" \
        bash -c "'$FIRN' avro cat '$f' > '$WORK/firn-$codec.firn' && $COMPARE '$WORK/firn-$codec.expected' '$WORK/firn-$codec.firn'"
    check "firn avro schema: the schema text byte for byte ($codec)" \
        bash -c "'$FIRN' avro schema '$f' | head -c -1 | cmp - '$WORK/firn-$codec.schema'"

    # python3-avro reads firn's file
    check "python3-avro reads firn's $codec file: same records" \
        bash -c "$AVRO_PY read '$f' > '$WORK/py-$codec.jsonl' && $COMPARE '$WORK/firn-$codec.expected' '$WORK/py-$codec.jsonl'"
    check "python3-avro sees field-id/element-id/key-id/value-id ($codec)" \
        bash -c "$AVRO_PY ids '$f' > '$WORK/py-ids-$codec.txt' && has_lines() { $(declare -f has_lines | tail -n +2); }; has_lines '$WORK/py-ids-$codec.txt' $(printf "'%s' " "${IDS[@]}") 'data_file.column_sizes logicalType=map' 'data_file.partition.event_ts_hour adjust-to-utc=true'"
    check "python3-avro reads firn's metadata ($codec)" \
        bash -c "[ \"\$($AVRO_PY meta '$f' format-version)\" = 2 ] && [ \"\$($AVRO_PY meta '$f' content)\" = data ] && $AVRO_PY meta '$f' partition-spec | grep -q '\"field-id\":1000'"

    # avsc reads firn's file
    check "avsc reads firn's $codec file: same records" \
        bash -c "$AVSC read '$f' > '$WORK/js-$codec.jsonl' && $COMPARE '$WORK/firn-$codec.expected' '$WORK/js-$codec.jsonl'"
    check "avsc sees field-id/element-id/key-id/value-id ($codec)" \
        bash -c "$AVSC schema-ids '$f' > '$WORK/js-ids-$codec.txt' && has_lines() { $(declare -f has_lines | tail -n +2); }; has_lines '$WORK/js-ids-$codec.txt' $(printf "'%s' " "${IDS[@]}")"

    # firn reads python3-avro's file
    p=$WORK/py-written-$codec.avro
    check "python3-avro writes a $codec file" $AVRO_PY write "$codec" "$p" "$WORK/py-written-$codec.expected"
    check "firn reads python3-avro's $codec file: same records" \
        bash -c "'$FIRN' avro cat '$p' > '$WORK/py-written-$codec.firn' && $COMPARE '$WORK/py-written-$codec.expected' '$WORK/py-written-$codec.firn'"
    check "firn avro meta reads python3-avro's metadata ($codec)" \
        bash -c "'$FIRN' avro meta '$p' | $PY -c 'import json,sys; m=json.load(sys.stdin); assert m[\"firn-test\"] == \"caf\u00e9\", m; assert m[\"avro.codec\"] == \"$codec\", m; assert json.loads(m[\"avro.schema\"])[\"fields\"][0][\"field-id\"] == 500'"

    # firn reads avsc's file
    j=$WORK/js-written-$codec.avro
    check "avsc writes a $codec file" $AVSC write "$codec" "$j" "$WORK/js-written-$codec.expected"
    check "firn reads avsc's $codec file: same records" \
        bash -c "'$FIRN' avro cat '$j' > '$WORK/js-written-$codec.firn' && $COMPARE '$WORK/js-written-$codec.expected' '$WORK/js-written-$codec.firn'"
done

# projection by field id: only file_path (100) and record_count (103), under data_file
f=$WORK/firn-deflate.avro
check "firn avro cat --fields 100,103 reads only those fields" \
    bash -c "'$FIRN' avro cat --fields 100,103 '$f' > '$WORK/proj.firn' && $PY -c '
import json, sys
exp = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
want = [{\"data_file\": {\"file_path\": e[\"data_file\"][\"file_path\"], \"record_count\": e[\"data_file\"][\"record_count\"]}} for e in exp]
assert len(want) == 40 and got == want, (got[:2], want[:2])
' '$WORK/firn-deflate.expected' '$WORK/proj.firn'"

# corrupt input: a clean error, not a crash
check "firn avro cat: a truncated file is a clean error" \
    bash -c "head -c -100 '$f' > '$WORK/cut.avro'; '$FIRN' avro cat '$WORK/cut.avro' > /dev/null 2> '$WORK/cut.err'; rc=\$?; cat '$WORK/cut.err'; [ \$rc -eq 1 ] && grep -q 'firn: avro cat .*cut.avro: avro: block at offset' '$WORK/cut.err'"
check "firn avro schema: not an Avro file is a clean error" \
    bash -c "'$FIRN' avro schema '$INTEROP/avro_py.py' 2>&1 >/dev/null | grep -q 'bad magic'; [ \${PIPESTATUS[0]} -eq 1 ]"

finish
