#!/usr/bin/env bash
# manifest.test.sh - firn's manifests and manifest lists against independent
# Avro readers, and firn reading manifests shaped as Java writes them.
#  - Debian's python3-avro and avsc (node) read firn's v2 manifest (deflate and
#    null codecs) and manifest list: header keys, every field-id/element-id and
#    key/value field-id, optional fields as ["null", T] with default null, and
#    the records, compared with values written down by hand in
#    manifest_py.py / manifest_avsc.mjs.
#  - python3-avro writes a manifest and a manifest list with Java's v2 schemas
#    (V2Metadata field by field), Java's header keys (no schema-id) and the
#    values Java writes (explicit snapshot ids on ADDED entries, null sequence
#    numbers, one entry with a null snapshot id); firn reads them with
#    inheritance and must see what a Java reader would.
source "$(dirname "$0")/lib.sh"

FIXTURE=$TOOLS/manifest_fixture
MPY="$PY $INTEROP/manifest_py.py"
MJS="node $INTEROP/manifest_avsc.mjs"
D=$WORK/firn
mkdir -p "$D"

check "fixture: firn writes v2 and v1 manifests and manifest lists" "$FIXTURE" write "$D"

check "python3-avro reads firn's v2 manifest (deflate): header, ids, optionality, records" \
    $MPY check-manifest "$D/manifest.avro"
check "python3-avro reads firn's v2 manifest (codec null)" \
    $MPY check-manifest "$D/manifest-null.avro"
check "python3-avro reads firn's v2 manifest list: header, ids 500-519, records, sequence numbers" \
    $MPY check-list "$D/snap.avro" "$D/manifest.avro"
check "python3-avro reads firn's v1 manifest and manifest list (block_size_in_bytes, no v2 fields)" \
    $MPY check-v1 "$D/manifest-v1.avro" "$D/snap-v1.avro"
check "avsc reads firn's manifests and manifest list: ids, header, records (longs beyond 2^53)" \
    $MJS check "$D"

# firn reads its own files back through the same path a scan would take
check "firn reads its manifest back with inheritance from its manifest list" \
    bash -c "'$FIXTURE' dump-manifest '$D/manifest.avro' '$D/snap.avro' 1 > '$WORK/own.jsonl' && $PY -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r[\"status\"], r[\"snapshot_id\"], r[\"sequence_number\"], r[\"file_sequence_number\"]) for r in rows] == [
    (1, 3051729675574597004, 5, 5), (0, 1111, 2, 3), (2, 3051729675574597004, 4, 4)], rows
assert rows[0][\"data_file\"][\"partition\"] == {\"category\": \"books\", \"ts_day\": \"2022-01-01\", \"id_bucket\": 3,
    \"category_trunc\": \"book\", \"price\": \"19.99\", \"uid\": \"00112233-4455-6677-8899-aabbccddeeff\", \"ratio\": 0.5}, rows[0]
' '$WORK/own.jsonl'"

# Java-shaped files written by python3-avro, read by firn
J=$WORK/java
mkdir -p "$J"
check "python3-avro writes a manifest and manifest list with Java's v2 schemas and keys" $MPY write-java "$J"
check "python3-avro reads the Java-shaped manifest back (sanity of the writer side)" \
    bash -c "$MPY ids '$J/java-manifest.avro' | grep -qx 'data_file.partition.amount field-id=1002'"
check "firn reads the Java-shaped manifest list" \
    bash -c "'$FIXTURE' dump-list '$J/java-snap.avro' > '$WORK/java-list.jsonl' && $MPY compare '$J/java-expected-list.jsonl' '$WORK/java-list.jsonl'"
check "firn reads the Java-shaped manifest with inheritance (snapshot id, sequence numbers, decimal(38,10), dates before 1970)" \
    bash -c "'$FIXTURE' dump-manifest '$J/java-manifest.avro' '$J/java-snap.avro' 0 > '$WORK/java.jsonl' && $MPY compare '$J/java-expected.jsonl' '$WORK/java.jsonl'"

# corrupt input: a clean error, not a crash
check "firn: a truncated manifest is a clean error naming the file" \
    bash -c "head -c -40 '$D/manifest.avro' > '$WORK/cut.avro'; '$FIXTURE' dump-manifest '$WORK/cut.avro' > /dev/null 2> '$WORK/cut.err'; rc=\$?; cat '$WORK/cut.err'; [ \$rc -eq 1 ] && grep -q 'manifest' '$WORK/cut.err' && grep -q 'cut.avro' '$WORK/cut.err'"
check "firn: a manifest list is not a manifest (clean error)" \
    bash -c "'$FIXTURE' dump-manifest '$D/snap.avro' 2>&1 >/dev/null | grep -q 'no status field'"

finish
