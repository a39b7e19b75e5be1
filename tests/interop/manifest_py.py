"""manifest_py.py - Apache Avro's Python library (Debian's python3-avro) against
firn's manifests and manifest lists, and manifests written the way Java writes
them for firn to read. Run with /usr/bin/python3.

  manifest_py.py check-manifest FILE        firn's v2 manifest (tests/tools/manifest_fixture):
                                            header keys, every Iceberg id in the schema,
                                            optional fields as ["null", T] with default null,
                                            and the decoded records
  manifest_py.py check-list FILE MANIFEST   firn's v2 manifest list (MANIFEST: the manifest
                                            it lists, for path and length)
  manifest_py.py check-v1 MANIFEST LIST     firn's v1 manifest and manifest list
  manifest_py.py ids FILE                   "path attribute=value" lines of the schema's ids
  manifest_py.py write-java DIR             DIR/java-manifest.avro and DIR/java-snap.avro with
                                            Java's v2 schemas, header keys and values, and
                                            DIR/java-expected.jsonl: what a reader must see
                                            after inheritance (firn's dump format)
  manifest_py.py compare EXPECTED ACTUAL    two JSON-lines files hold equal objects

The expected values below are written down by hand from the fixture's
description, not computed by firn.
"""
import datetime
import decimal
import json
import math
import os
import sys
import warnings

import avro.datafile
import avro.io
import avro.schema

warnings.simplefilter("ignore")  # logicalType map / uuid on fixed: Iceberg's, unknown to python-avro
EPOCH_DAY = datetime.date(1970, 1, 1)


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def open_avro(path):
    f = open(path, "rb")
    return f, avro.datafile.DataFileReader(f, avro.io.DatumReader())


def plain(v):
    """A decoded datum as plain JSON-able values: bytes as hex, dates as days,
    decimals as their text, NaN as "NaN"."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.date):
        return (v - EPOCH_DAY).days
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    fail("unexpected datum %r" % (v,))


def walk_ids(schema, path, out, seen):
    t = schema.type
    if t == "record":
        if schema.fullname in seen:
            return
        seen.add(schema.fullname)
        for f in schema.fields:
            p = path + "." + f.name if path else f.name
            for k, v in f.other_props.items():
                out.append("%s %s=%s" % (p, k, json.dumps(v)))
            walk_ids(f.type, p, out, seen)
    elif t == "array":
        for k in ("element-id", "logicalType"):
            if k in schema.other_props:
                out.append("%s %s=%s" % (path, k, json.dumps(schema.other_props[k])))
        walk_ids(schema.items, path, out, seen)
    elif t == "map":
        for k in ("key-id", "value-id"):
            if k in schema.other_props:
                out.append("%s %s=%s" % (path, k, json.dumps(schema.other_props[k])))
        walk_ids(schema.values, path, out, seen)
    elif t == "union":
        for s in schema.schemas:
            walk_ids(s, path, out, seen)
    else:
        for k, v in sorted(getattr(schema, "other_props", {}).items()):
            out.append("%s %s=%s" % (path, k, json.dumps(v)))
        if t == "fixed":
            out.append("%s fixed=%s/%d" % (path, schema.fullname, schema.size))


def schema_ids(path):
    f, r = open_avro(path)
    with f, r:
        out = []
        walk_ids(r.datum_reader.writers_schema, "", out, set())
        return out


def has_lines(lines, want):
    missing = [w for w in want if w not in lines]
    check(not missing, "missing in the schema: %s\n--- seen:\n%s" % (missing, "\n".join(lines)))


def optional_fields(schema, path, out, seen):
    """(path, is ["null", T] with default null) for every field."""
    if schema.type == "record":
        if schema.fullname in seen:
            return
        seen.add(schema.fullname)
        for f in schema.fields:
            p = path + "." + f.name if path else f.name
            t = f.type
            is_opt = (t.type == "union" and len(t.schemas) == 2 and t.schemas[0].type == "null"
                      and f.has_default and f.default is None)
            out[p] = is_opt
            inner = t.schemas[1] if is_opt else t
            if inner.type == "array":
                inner = inner.items
            optional_fields(inner, p, out, seen)


# ------------------------------------------------------------ firn's files

MANIFEST_IDS = [
    "status field-id=0", "snapshot_id field-id=1", "sequence_number field-id=3",
    "file_sequence_number field-id=4", "data_file field-id=2",
    "data_file.content field-id=134", "data_file.file_path field-id=100",
    "data_file.file_format field-id=101", "data_file.partition field-id=102",
    "data_file.partition.category field-id=1000", "data_file.partition.ts_day field-id=1001",
    "data_file.partition.ts_day logicalType=\"date\"",
    "data_file.partition.id_bucket field-id=1002",
    "data_file.partition.category_trunc field-id=1003",
    "data_file.partition.price field-id=1004",
    "data_file.partition.price fixed=decimal_9_2/4",
    "data_file.partition.price logicalType=\"decimal\"",
    "data_file.partition.uid field-id=1005", "data_file.partition.uid fixed=uuid_fixed/16",
    "data_file.partition.ratio field-id=1006",
    "data_file.record_count field-id=103", "data_file.file_size_in_bytes field-id=104",
    "data_file.column_sizes field-id=108", "data_file.column_sizes logicalType=\"map\"",
    "data_file.column_sizes.key field-id=117", "data_file.column_sizes.value field-id=118",
    "data_file.value_counts field-id=109", "data_file.value_counts logicalType=\"map\"",
    "data_file.value_counts.key field-id=119", "data_file.value_counts.value field-id=120",
    "data_file.null_value_counts field-id=110", "data_file.null_value_counts logicalType=\"map\"",
    "data_file.null_value_counts.key field-id=121",
    "data_file.null_value_counts.value field-id=122",
    "data_file.nan_value_counts field-id=137", "data_file.nan_value_counts logicalType=\"map\"",
    "data_file.nan_value_counts.key field-id=138",
    "data_file.nan_value_counts.value field-id=139",
    "data_file.lower_bounds field-id=125", "data_file.lower_bounds logicalType=\"map\"",
    "data_file.lower_bounds.key field-id=126", "data_file.lower_bounds.value field-id=127",
    "data_file.upper_bounds field-id=128", "data_file.upper_bounds logicalType=\"map\"",
    "data_file.upper_bounds.key field-id=129", "data_file.upper_bounds.value field-id=130",
    "data_file.key_metadata field-id=131",
    "data_file.split_offsets field-id=132", "data_file.split_offsets element-id=133",
    "data_file.equality_ids field-id=135", "data_file.equality_ids element-id=136",
    "data_file.sort_order_id field-id=140", "data_file.referenced_data_file field-id=143",
]

MANIFEST_OPTIONAL = {
    "status": False, "snapshot_id": True, "sequence_number": True, "file_sequence_number": True,
    "data_file": False, "data_file.content": False, "data_file.file_path": False,
    "data_file.file_format": False, "data_file.partition": False,
    "data_file.record_count": False, "data_file.file_size_in_bytes": False,
    "data_file.column_sizes": True, "data_file.value_counts": True,
    "data_file.null_value_counts": True, "data_file.nan_value_counts": True,
    "data_file.lower_bounds": True, "data_file.upper_bounds": True,
    "data_file.key_metadata": True, "data_file.split_offsets": True,
    "data_file.equality_ids": True, "data_file.sort_order_id": True,
    "data_file.referenced_data_file": True,
    "data_file.partition.category": True, "data_file.partition.ts_day": True,
    "data_file.partition.price": True, "data_file.partition.uid": True,
}

SNAPSHOT_ID = 3051729675574597004
PARENT_ID = 1234567890123456789


def kv(pairs):
    return [{"key": k, "value": v} for k, v in pairs]


EMPTY_STATS = {"column_sizes": None, "value_counts": None, "null_value_counts": None,
               "nan_value_counts": None, "lower_bounds": None, "upper_bounds": None}


def expected_entries():
    e0 = {
        "status": 1, "snapshot_id": None, "sequence_number": None, "file_sequence_number": None,
        "data_file": dict({
            "content": 0,
            "file_path": "s3://bucket/db/t/data/category=books/ts_day=2022-01-01/00000-0-a.parquet",
            "file_format": "PARQUET",
            "partition": {"category": "books", "ts_day": 18993, "id_bucket": 3,
                          "category_trunc": "book", "price": "19.99",
                          "uid": "00112233445566778899aabbccddeeff", "ratio": 0.5},
            "record_count": 1000, "file_size_in_bytes": 52342,
            "key_metadata": None, "split_offsets": [4], "equality_ids": None,
            "sort_order_id": 0, "referenced_data_file": None,
        }, column_sizes=kv([(1, 4000), (2, 1200)]), value_counts=kv([(1, 1000), (2, 1000)]),
            null_value_counts=kv([(1, 0), (2, 17)]), nan_value_counts=kv([(5, 3)]),
            lower_bounds=kv([(1, "0100000000000000"), (2, b"aardvark".hex())]),
            upper_bounds=kv([(1, (1000).to_bytes(8, "little").hex()), (2, b"zebra".hex())])),
    }
    e1 = {
        "status": 0, "snapshot_id": 1111, "sequence_number": 2, "file_sequence_number": 3,
        "data_file": dict({
            "content": 0,
            "file_path": "s3://bucket/db/t/data/category=null/ts_day=null/00001-0-b.parquet",
            "file_format": "PARQUET",
            "partition": {"category": None, "ts_day": None, "id_bucket": 15,
                          "category_trunc": None, "price": "-5.00", "uid": None, "ratio": "NaN"},
            "record_count": 10, "file_size_in_bytes": 999, "key_metadata": "cafe",
            "split_offsets": None, "equality_ids": None, "sort_order_id": None,
            "referenced_data_file": None,
        }, **EMPTY_STATS),
    }
    e2 = {
        "status": 2, "snapshot_id": SNAPSHOT_ID, "sequence_number": 4, "file_sequence_number": 4,
        "data_file": dict({
            "content": 0,
            "file_path": "s3://bucket/db/t/data/category=toys/ts_day=2022-01-02/00002-0-c.parquet",
            "file_format": "PARQUET",
            "partition": {"category": "toys", "ts_day": 18994, "id_bucket": 0,
                          "category_trunc": "toys", "price": "0.00", "uid": "ff" * 16,
                          "ratio": -0.0},
            "record_count": 5, "file_size_in_bytes": 500, "key_metadata": None,
            "split_offsets": None, "equality_ids": None, "sort_order_id": None,
            "referenced_data_file": None,
        }, **EMPTY_STATS),
    }
    return [e0, e1, e2]


def same(a, b):
    """Deep equality that tells -0.0 from 0.0."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) == type(b) and a == b


def cmd_check_manifest(path):
    f, r = open_avro(path)
    with f, r:
        meta = {k: r.get_meta(k) for k in ("schema", "schema-id", "partition-spec",
                                           "partition-spec-id", "format-version", "content",
                                           "avro.codec")}
        recs = [plain(x) for x in r]
        writer_schema = r.datum_reader.writers_schema
    check(meta["format-version"] == b"2", "format-version %r" % meta["format-version"])
    check(meta["content"] == b"data", "content %r" % meta["content"])
    check(meta["partition-spec-id"] == b"2", "partition-spec-id %r" % meta["partition-spec-id"])
    check(meta["schema-id"] == b"1", "schema-id %r" % meta["schema-id"])
    check(meta["avro.codec"] in (b"deflate", b"null"), "codec %r" % meta["avro.codec"])
    schema = json.loads(meta["schema"])
    check(schema["type"] == "struct" and schema["schema-id"] == 1
          and [x["id"] for x in schema["fields"]] == [1, 2, 3, 4, 5, 6], "schema %r" % schema)
    spec = json.loads(meta["partition-spec"])
    check(spec == [
        {"name": "category", "transform": "identity", "source-id": 2, "field-id": 1000},
        {"name": "ts_day", "transform": "day", "source-id": 3, "field-id": 1001},
        {"name": "id_bucket", "transform": "bucket[16]", "source-id": 1, "field-id": 1002},
        {"name": "category_trunc", "transform": "truncate[4]", "source-id": 2, "field-id": 1003},
        {"name": "price", "transform": "identity", "source-id": 4, "field-id": 1004},
        {"name": "uid", "transform": "identity", "source-id": 6, "field-id": 1005},
        {"name": "ratio", "transform": "identity", "source-id": 5, "field-id": 1006},
    ], "partition-spec %r" % spec)
    check(writer_schema.name == "manifest_entry", "root record %s" % writer_schema.name)
    ids = schema_ids(path)
    has_lines(ids, MANIFEST_IDS)
    for bad in (105, 106, 107):
        check(not any(l.endswith(" field-id=%d" % bad) for l in ids), "field-id %d written" % bad)
    opt = {}
    optional_fields(writer_schema, "", opt, set())
    for p, want in MANIFEST_OPTIONAL.items():
        check(p in opt, "no field %s" % p)
        check(opt[p] == want, "%s: optional=%s, want %s" % (p, opt[p], want))
    names = [x.name for x in writer_schema.fields_dict["data_file"].type.fields]
    check(names == ["content", "file_path", "file_format", "partition", "record_count",
                    "file_size_in_bytes", "column_sizes", "value_counts", "null_value_counts",
                    "nan_value_counts", "lower_bounds", "upper_bounds", "key_metadata",
                    "split_offsets", "equality_ids", "sort_order_id", "referenced_data_file"],
          "data_file fields %s" % names)
    check(writer_schema.fields_dict["data_file"].type.name == "r2", "data_file record name")
    want = expected_entries()
    check(len(recs) == len(want), "%d records" % len(recs))
    for i, (got, exp) in enumerate(zip(recs, want)):
        check(same(got, exp), "record %d:\n got  %s\n want %s" % (i, got, exp))
    print("ok: %d entries, %d ids" % (len(recs), len(ids)))


LIST_IDS = [
    "manifest_path field-id=500", "manifest_length field-id=501",
    "partition_spec_id field-id=502", "content field-id=517", "sequence_number field-id=515",
    "min_sequence_number field-id=516", "added_snapshot_id field-id=503",
    "added_files_count field-id=504", "existing_files_count field-id=505",
    "deleted_files_count field-id=506", "added_rows_count field-id=512",
    "existing_rows_count field-id=513", "deleted_rows_count field-id=514",
    "partitions field-id=507", "partitions element-id=508",
    "partitions.contains_null field-id=509", "partitions.contains_nan field-id=518",
    "partitions.lower_bound field-id=510", "partitions.upper_bound field-id=511",
    "key_metadata field-id=519",
]


def cmd_check_list(path, manifest):
    f, r = open_avro(path)
    with f, r:
        meta = {k: r.get_meta(k) for k in ("snapshot-id", "parent-snapshot-id", "sequence-number",
                                           "format-version")}
        recs = [plain(x) for x in r]
        ws = r.datum_reader.writers_schema
    check(meta == {"snapshot-id": str(SNAPSHOT_ID).encode(), "parent-snapshot-id": str(PARENT_ID).encode(),
                   "sequence-number": b"5", "format-version": b"2"}, "header %r" % meta)
    check(ws.name == "manifest_file", "root record %s" % ws.name)
    ids = schema_ids(path)
    has_lines(ids, LIST_IDS)
    opt = {}
    optional_fields(ws, "", opt, set())
    for p, o in opt.items():
        want = p in ("partitions", "key_metadata", "partitions.contains_nan",
                     "partitions.lower_bound", "partitions.upper_bound")
        check(o == want, "%s: optional=%s" % (p, o))
    check(ws.fields_dict["partitions"].type.schemas[1].items.name == "r508", "r508")
    mpath = "file:" + os.path.abspath(manifest)
    want = [
        {"manifest_path": "s3://bucket/db/t/metadata/old-m0.avro", "manifest_length": 4242,
         "partition_spec_id": 0, "content": 0, "sequence_number": 1, "min_sequence_number": 1,
         "added_snapshot_id": PARENT_ID, "added_files_count": 1, "existing_files_count": 0,
         "deleted_files_count": 0, "added_rows_count": 100, "existing_rows_count": 0,
         "deleted_rows_count": 0,
         "partitions": [{"contains_null": False, "contains_nan": False,
                         "lower_bound": "01000000", "upper_bound": "09000000"}],
         "key_metadata": None},
        {"manifest_path": mpath, "manifest_length": os.path.getsize(manifest),
         "partition_spec_id": 2, "content": 0, "sequence_number": 5, "min_sequence_number": 2,
         "added_snapshot_id": SNAPSHOT_ID, "added_files_count": 1, "existing_files_count": 1,
         "deleted_files_count": 1, "added_rows_count": 1000, "existing_rows_count": 10,
         "deleted_rows_count": 5,
         "partitions": [
             {"contains_null": True, "contains_nan": False, "lower_bound": b"books".hex(),
              "upper_bound": b"toys".hex()},
             {"contains_null": True, "contains_nan": False,
              "lower_bound": (18993).to_bytes(4, "little").hex(),
              "upper_bound": (18994).to_bytes(4, "little").hex()},
             {"contains_null": False, "contains_nan": False, "lower_bound": "00000000",
              "upper_bound": "0f000000"},
             {"contains_null": True, "contains_nan": False, "lower_bound": b"book".hex(),
              "upper_bound": b"toys".hex()},
             {"contains_null": False, "contains_nan": False,
              "lower_bound": (-500).to_bytes(2, "big", signed=True).hex(),
              "upper_bound": (1999).to_bytes(2, "big", signed=True).hex()},
             {"contains_null": True, "contains_nan": False,
              "lower_bound": "00112233445566778899aabbccddeeff", "upper_bound": "ff" * 16},
             {"contains_null": False, "contains_nan": True,
              "lower_bound": "0000000000000080", "upper_bound": "000000000000e03f"},
         ],
         "key_metadata": None},
    ]
    check(len(recs) == 2, "%d records" % len(recs))
    for i, (got, exp) in enumerate(zip(recs, want)):
        check(same(got, exp), "record %d:\n got  %s\n want %s" % (i, got, exp))
    print("ok: %d manifests, %d ids" % (len(recs), len(ids)))


def cmd_check_v1(manifest, listing):
    f, r = open_avro(manifest)
    with f, r:
        fv, content = r.get_meta("format-version"), r.get_meta("content")
        recs = [plain(x) for x in r]
    check(fv == b"1" and content is None, "v1 header %r %r" % (fv, content))
    ids = schema_ids(manifest)
    has_lines(ids, ["data_file.block_size_in_bytes field-id=105", "status field-id=0",
                    "snapshot_id field-id=1", "data_file.partition.category field-id=1000"])
    for bad in (3, 4, 134, 135, 143):
        check(not any(l.endswith(" field-id=%d" % bad) for l in ids), "v1 has field-id %d" % bad)
    check([x["snapshot_id"] for x in recs] == [SNAPSHOT_ID, 1111, SNAPSHOT_ID], "v1 snapshot ids")
    check(all(x["data_file"]["block_size_in_bytes"] == 67108864 for x in recs), "block size")
    f, r = open_avro(listing)
    with f, r:
        meta = (r.get_meta("format-version"), r.get_meta("sequence-number"))
        lrecs = [plain(x) for x in r]
    check(meta == (b"1", None), "v1 list header %r" % (meta,))
    check("sequence_number" not in lrecs[1] and lrecs[1]["added_files_count"] == 1
          and lrecs[1]["deleted_rows_count"] == 5, "v1 list record %r" % lrecs[1])
    print("ok: v1")


# ------------------------------------------------------------ Java's files

def field(name, typ, fid, doc=None, optional=False):
    f = {"name": name, "type": ["null", typ] if optional else typ}
    if doc is not None:
        f["doc"] = doc
    if optional:
        f["default"] = None
    f["field-id"] = fid
    return f


def stats_map(name, fid, kid, vid, vtype, doc):
    return field(name, {"type": "array", "items": {
        "type": "record", "name": "k%d_v%d" % (kid, vid),
        "fields": [field("key", "int", kid), field("value", vtype, vid)]},
        "logicalType": "map"}, fid, doc, True)


def java_entry_schema(partition_fields):
    """V2Metadata.entrySchema, field by field (DataFile.java / ManifestEntry.java)."""
    data_file = [
        field("content", "int", 134, "Contents of the file: 0=data, 1=position deletes, 2=equality deletes"),
        field("file_path", "string", 100, "Location URI with FS scheme"),
        field("file_format", "string", 101, "File format name: avro, orc, or parquet"),
        field("partition", {"type": "record", "name": "r102", "fields": partition_fields}, 102,
              "Partition data tuple, schema based on the partition spec"),
        field("record_count", "long", 103, "Number of records in the file"),
        field("file_size_in_bytes", "long", 104, "Total file size in bytes"),
        stats_map("column_sizes", 108, 117, 118, "long", "Map of column id to total size on disk"),
        stats_map("value_counts", 109, 119, 120, "long", "Map of column id to total count, including null and NaN"),
        stats_map("null_value_counts", 110, 121, 122, "long", "Map of column id to null value count"),
        stats_map("nan_value_counts", 137, 138, 139, "long", "Map of column id to number of NaN values in the column"),
        stats_map("lower_bounds", 125, 126, 127, "bytes", "Map of column id to lower bound"),
        stats_map("upper_bounds", 128, 129, 130, "bytes", "Map of column id to upper bound"),
        field("key_metadata", "bytes", 131, "Encryption key metadata blob", True),
        field("split_offsets", {"type": "array", "items": "long", "element-id": 133}, 132, "Splittable offsets", True),
        field("equality_ids", {"type": "array", "items": "int", "element-id": 136}, 135, "Equality comparison field IDs", True),
        field("sort_order_id", "int", 140, "Sort order ID", True),
        field("referenced_data_file", "string", 143,
              "Fully qualified location (URI with FS scheme) of a data file that all deletes reference", True),
    ]
    return {"type": "record", "name": "manifest_entry", "fields": [
        field("status", "int", 0),
        field("snapshot_id", "long", 1, optional=True),
        field("sequence_number", "long", 3, optional=True),
        field("file_sequence_number", "long", 4, optional=True),
        field("data_file", {"type": "record", "name": "r2", "fields": data_file}, 2),
    ]}


def java_list_schema():
    summary = {"type": "record", "name": "r508", "fields": [
        field("contains_null", "boolean", 509, "True if any file has a null partition value"),
        field("contains_nan", "boolean", 518, "True if any file has a nan partition value", True),
        field("lower_bound", "bytes", 510, "Partition lower bound for all files", True),
        field("upper_bound", "bytes", 511, "Partition upper bound for all files", True)]}
    return {"type": "record", "name": "manifest_file", "fields": [
        field("manifest_path", "string", 500, "Location URI with FS scheme"),
        field("manifest_length", "long", 501, "Total file size in bytes"),
        field("partition_spec_id", "int", 502, "Spec ID used to write"),
        field("content", "int", 517, "Contents of the manifest: 0=data, 1=deletes"),
        field("sequence_number", "long", 515, "Sequence number when the manifest was added"),
        field("min_sequence_number", "long", 516, "Lowest sequence number in the manifest"),
        field("added_snapshot_id", "long", 503, "Snapshot ID that added the manifest"),
        field("added_files_count", "int", 504, "Added entry count"),
        field("existing_files_count", "int", 505, "Existing entry count"),
        field("deleted_files_count", "int", 506, "Deleted entry count"),
        field("added_rows_count", "long", 512, "Added rows count"),
        field("existing_rows_count", "long", 513, "Existing rows count"),
        field("deleted_rows_count", "long", 514, "Deleted rows count"),
        field("partitions", {"type": "array", "items": summary, "element-id": 508}, 507,
              "Summary for each partition", True),
        field("key_metadata", "bytes", 519, "Encryption key metadata blob", True),
    ]}


JAVA_SNAPSHOT = 6543210987654321098
JAVA_TABLE_SCHEMA = ('{"type":"struct","schema-id":0,"fields":['
                     '{"id":1,"name":"id","required":true,"type":"long"},'
                     '{"id":2,"name":"ts","required":false,"type":"timestamp"},'
                     '{"id":3,"name":"amount","required":false,"type":"decimal(38, 10)"},'
                     '{"id":4,"name":"flag","required":false,"type":"boolean"}]}')
JAVA_SPEC = ('[{"name":"ts_day","transform":"day","source-id":2,"field-id":1000},'
             '{"name":"id_bucket","transform":"bucket[8]","source-id":1,"field-id":1001},'
             '{"name":"amount","transform":"identity","source-id":3,"field-id":1002},'
             '{"name":"flag","transform":"identity","source-id":4,"field-id":1003}]')


def java_data_file(path, part, rows, **extra):
    d = {"content": 0, "file_path": path, "file_format": "PARQUET", "partition": part,
         "record_count": rows, "file_size_in_bytes": rows * 10, "column_sizes": None,
         "value_counts": None, "null_value_counts": None, "nan_value_counts": None,
         "lower_bounds": None, "upper_bounds": None, "key_metadata": None,
         "split_offsets": None, "equality_ids": None, "sort_order_id": None,
         "referenced_data_file": None}
    d.update(extra)
    return d


def cmd_write_java(d):
    part_fields = [
        field("ts_day", {"type": "int", "logicalType": "date"}, 1000, optional=True),
        field("id_bucket", "int", 1001, optional=True),
        field("amount", {"type": "fixed", "name": "decimal_38_10", "size": 16,
                         "logicalType": "decimal", "precision": 38, "scale": 10}, 1002, optional=True),
        field("flag", "boolean", 1003, optional=True),
    ]
    schema = avro.schema.parse(json.dumps(java_entry_schema(part_fields)))
    big = decimal.Decimal("-1234567890123456789012345678.0123456789")
    entries = [
        # ADDED by this snapshot: Java's ManifestWriter writes its snapshot id, no sequence numbers
        {"status": 1, "snapshot_id": JAVA_SNAPSHOT, "sequence_number": None, "file_sequence_number": None,
         "data_file": java_data_file("s3://w/t/data/ts_day=2024-02-29/id_bucket=7/a.parquet",
                                     {"ts_day": datetime.date(2024, 2, 29), "id_bucket": 7,
                                      "amount": big, "flag": True}, 300,
                                     column_sizes=[{"key": 1, "value": 2400}],
                                     lower_bounds=[{"key": 2, "value": (1709164800000000).to_bytes(8, "little")}],
                                     upper_bounds=[{"key": 2, "value": (1709251199000000).to_bytes(8, "little")}],
                                     split_offsets=[4, 1048576], sort_order_id=1)},
        # ADDED with snapshot-id inheritance (fast append of a foreign manifest): null snapshot id
        {"status": 1, "snapshot_id": None, "sequence_number": None, "file_sequence_number": None,
         "data_file": java_data_file("s3://w/t/data/ts_day=null/id_bucket=0/b.parquet",
                                     {"ts_day": None, "id_bucket": 0, "amount": None, "flag": None}, 1)},
        # EXISTING, carried with its own numbers
        {"status": 0, "snapshot_id": 17, "sequence_number": 3, "file_sequence_number": 4,
         "data_file": java_data_file("s3://w/t/data/ts_day=1969-12-31/id_bucket=1/c.parquet",
                                     {"ts_day": datetime.date(1969, 12, 31), "id_bucket": 1,
                                      "amount": decimal.Decimal("0E-10"), "flag": False}, 20,
                                     key_metadata=b"")},
        # DELETED by this snapshot
        {"status": 2, "snapshot_id": JAVA_SNAPSHOT, "sequence_number": 2, "file_sequence_number": 2,
         "data_file": java_data_file("s3://w/t/data/ts_day=2020-01-01/id_bucket=2/d.parquet",
                                     {"ts_day": datetime.date(2020, 1, 1), "id_bucket": 2,
                                      "amount": decimal.Decimal("1.0000000001"), "flag": None}, 5)},
    ]
    mpath = os.path.join(d, "java-manifest.avro")
    with open(mpath, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec="deflate")
        # ManifestWriter.V2Writer's keys, in its order; no schema-id
        w.set_meta("schema", JAVA_TABLE_SCHEMA.encode())
        w.set_meta("partition-spec", JAVA_SPEC.encode())
        w.set_meta("partition-spec-id", b"0")
        w.set_meta("format-version", b"2")
        w.set_meta("content", b"data")
        for e in entries:
            w.append(e)
        w.close()
    lschema = avro.schema.parse(json.dumps(java_list_schema()))
    mfile = "file:" + os.path.abspath(mpath)
    with open(os.path.join(d, "java-snap.avro"), "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), lschema, codec="deflate")
        w.set_meta("snapshot-id", str(JAVA_SNAPSHOT).encode())
        w.set_meta("parent-snapshot-id", b"null")
        w.set_meta("sequence-number", b"8")
        w.set_meta("format-version", b"2")
        w.append({"manifest_path": mfile, "manifest_length": os.path.getsize(mpath),
                  "partition_spec_id": 0, "content": 0, "sequence_number": 8,
                  "min_sequence_number": 3, "added_snapshot_id": JAVA_SNAPSHOT,
                  "added_files_count": 2, "existing_files_count": 1, "deleted_files_count": 1,
                  "added_rows_count": 301, "existing_rows_count": 20, "deleted_rows_count": 5,
                  "partitions": [
                      {"contains_null": True, "contains_nan": False,
                       "lower_bound": (-1).to_bytes(4, "little", signed=True),
                       "upper_bound": (19782).to_bytes(4, "little")},
                      {"contains_null": False, "contains_nan": False,
                       "lower_bound": (0).to_bytes(4, "little"), "upper_bound": (7).to_bytes(4, "little")},
                      {"contains_null": True, "contains_nan": False, "lower_bound": None, "upper_bound": None},
                      {"contains_null": True, "contains_nan": None, "lower_bound": b"\x00", "upper_bound": b"\x01"}],
                  "key_metadata": None})
        w.close()

    # what a reader sees after inheritance from the list entry (sequence number 8)
    def dump(e, snap, seq, fseq, part, **extra):
        df = {"content": 0, "file_path": e["data_file"]["file_path"], "file_format": "PARQUET",
              "spec_id": 0, "partition": part, "record_count": e["data_file"]["record_count"],
              "file_size_in_bytes": e["data_file"]["record_count"] * 10, "column_sizes": {},
              "value_counts": {}, "null_value_counts": {}, "nan_value_counts": {},
              "lower_bounds": {}, "upper_bounds": {}, "key_metadata": None, "split_offsets": [],
              "equality_ids": [], "sort_order_id": None, "referenced_data_file": None}
        df.update(extra)
        return {"status": e["status"], "snapshot_id": snap, "sequence_number": seq,
                "file_sequence_number": fseq, "data_file": df}
    want = [
        dump(entries[0], JAVA_SNAPSHOT, 8, 8,
             {"ts_day": "2024-02-29", "id_bucket": 7, "amount": str(big), "flag": True},
             column_sizes={"1": 2400}, lower_bounds={"2": (1709164800000000).to_bytes(8, "little").hex()},
             upper_bounds={"2": (1709251199000000).to_bytes(8, "little").hex()},
             split_offsets=[4, 1048576], sort_order_id=1),
        dump(entries[1], JAVA_SNAPSHOT, 8, 8,
             {"ts_day": None, "id_bucket": 0, "amount": None, "flag": None}),
        dump(entries[2], 17, 3, 4,
             {"ts_day": "1969-12-31", "id_bucket": 1, "amount": "0.0000000000", "flag": False},
             key_metadata=""),
        dump(entries[3], JAVA_SNAPSHOT, 2, 2,
             {"ts_day": "2020-01-01", "id_bucket": 2, "amount": "1.0000000001", "flag": None}),
    ]
    with open(os.path.join(d, "java-expected.jsonl"), "w") as f:
        for x in want:
            f.write(json.dumps(x) + "\n")
    listing = {"manifest_path": mfile, "manifest_length": os.path.getsize(mpath), "partition_spec_id": 0,
               "content": 0, "sequence_number": 8, "min_sequence_number": 3,
               "added_snapshot_id": JAVA_SNAPSHOT, "added_files_count": 2, "existing_files_count": 1,
               "deleted_files_count": 1, "added_rows_count": 301, "existing_rows_count": 20,
               "deleted_rows_count": 5, "key_metadata": None, "partitions": [
                   {"contains_null": True, "contains_nan": False, "lower_bound": "ffffffff",
                    "upper_bound": (19782).to_bytes(4, "little").hex()},
                   {"contains_null": False, "contains_nan": False, "lower_bound": "00000000",
                    "upper_bound": "07000000"},
                   {"contains_null": True, "contains_nan": False, "lower_bound": None, "upper_bound": None},
                   {"contains_null": True, "contains_nan": None, "lower_bound": "00", "upper_bound": "01"}]}
    header = {"format_version": 2, "snapshot_id": JAVA_SNAPSHOT, "parent_snapshot_id": -1,
              "sequence_number": 8}
    with open(os.path.join(d, "java-expected-list.jsonl"), "w") as f:
        f.write(json.dumps(header) + "\n" + json.dumps(listing) + "\n")


def cmd_compare(expected, actual):
    exp = [json.loads(l) for l in open(expected) if l.strip()]
    got = [json.loads(l) for l in open(actual) if l.strip()]
    check(len(exp) == len(got), "%d lines, expected %d" % (len(got), len(exp)))
    for i, (e, g) in enumerate(zip(exp, got)):
        check(same(g, e), "line %d:\n got  %s\n want %s" % (i + 1, json.dumps(g, sort_keys=True),
                                                           json.dumps(e, sort_keys=True)))
    print("ok: %d lines equal" % len(exp))


def main(argv):
    cmds = {"check-manifest": (cmd_check_manifest, 1), "check-list": (cmd_check_list, 2),
            "check-v1": (cmd_check_v1, 2), "write-java": (cmd_write_java, 1),
            "compare": (cmd_compare, 2), "ids": (lambda p: print("\n".join(schema_ids(p))), 1)}
    if argv and argv[0] in cmds and len(argv) == cmds[argv[0]][1] + 1:
        return cmds[argv[0]][0](*argv[1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
