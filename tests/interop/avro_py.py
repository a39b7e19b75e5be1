"""avro_py.py - Apache Avro's Python library (Debian's python3-avro) against firn's
Avro files. Run with /usr/bin/python3.

  avro_py.py read FILE                  records as plain JSON lines (firn's plain mode:
                                        unions as their value, bytes/fixed as hex,
                                        NaN/Infinity as strings, dates as days, timestamps
                                        as microseconds)
  avro_py.py ids FILE                   the Iceberg ids the parsed writer schema carries,
                                        one "path attribute=value" line each
  avro_py.py meta FILE KEY              one metadata value
  avro_py.py write CODEC OUT EXPECTED   a file written by python-avro, and its records as
                                        plain JSON lines
"""
import datetime
import json
import math
import sys
import warnings

import avro.datafile
import avro.io
import avro.schema

warnings.simplefilter("ignore")  # "Unknown map, using array": Iceberg's logicalType map
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(v):
    """A decoded datum as the plain JSON value firn prints."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(v, datetime.date):
        return (v - datetime.date(1970, 1, 1)).days
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    raise TypeError("unexpected datum %r" % (v,))


def dump(v):
    return json.dumps(plain(v), ensure_ascii=False, allow_nan=False)


def cmd_read(path):
    with open(path, "rb") as f, avro.datafile.DataFileReader(f, avro.io.DatumReader()) as r:
        for rec in r:
            print(dump(rec))


def walk_ids(schema, path, out, seen):
    """Collect field-id/element-id/key-id/value-id from the parsed schema objects."""
    t = schema.type
    if t == "record" or t == "error":
        if schema.fullname in seen:
            return
        seen.add(schema.fullname)
        for f in schema.fields:
            p = path + "." + f.name if path else f.name
            fid = f.other_props.get("field-id")
            if fid is not None:
                out.append("%s field-id=%s" % (p, fid))
            walk_ids(f.type, p, out, seen)
    elif t == "array":
        eid = schema.other_props.get("element-id")
        if eid is not None:
            out.append("%s element-id=%s" % (path, eid))
        lt = schema.other_props.get("logicalType")
        if lt is not None:
            out.append("%s logicalType=%s" % (path, lt))
        walk_ids(schema.items, path, out, seen)
    elif t == "map":
        for k in ("key-id", "value-id"):
            v = schema.other_props.get(k)
            if v is not None:
                out.append("%s %s=%s" % (path, k, v))
        walk_ids(schema.values, path, out, seen)
    elif t == "union":
        for s in schema.schemas:
            walk_ids(s, path, out, seen)
    else:
        props = schema.other_props if hasattr(schema, "other_props") else {}
        if "adjust-to-utc" in props:
            out.append("%s adjust-to-utc=%s" % (path, json.dumps(props["adjust-to-utc"])))


def cmd_ids(path):
    with open(path, "rb") as f, avro.datafile.DataFileReader(f, avro.io.DatumReader()) as r:
        schema = r.datum_reader.writers_schema
        out = []
        walk_ids(schema, "", out, set())
        print("\n".join(out))


def cmd_meta(path, key):
    with open(path, "rb") as f, avro.datafile.DataFileReader(f, avro.io.DatumReader()) as r:
        print(r.get_meta(key).decode("utf-8"))


# A manifest-like schema for files python writes (firn reads them).
PY_SCHEMA = {
    "type": "record", "name": "manifest_file", "namespace": "py.test",
    "fields": [
        {"name": "manifest_path", "type": "string", "field-id": 500},
        {"name": "manifest_length", "type": "long", "field-id": 501},
        {"name": "added_snapshot_id", "type": ["null", "long"], "default": None, "field-id": 503},
        {"name": "partitions", "type": ["null", {"type": "array", "element-id": 508, "items": {
            "type": "record", "name": "r508", "fields": [
                {"name": "contains_null", "type": "boolean", "field-id": 509},
                {"name": "contains_nan", "type": ["null", "boolean"], "default": None, "field-id": 518},
                {"name": "lower_bound", "type": ["null", "bytes"], "default": None, "field-id": 510},
                {"name": "upper_bound", "type": ["null", "bytes"], "default": None, "field-id": 511}]}}],
         "default": None, "field-id": 507},
        {"name": "counts", "type": {"type": "array", "logicalType": "map", "items": {
            "type": "record", "name": "k1_v2", "fields": [
                {"name": "key", "type": "int", "field-id": 1},
                {"name": "value", "type": "long", "field-id": 2}]}}, "field-id": 600},
        {"name": "props", "type": {"type": "map", "values": ["null", "string"], "key-id": 601,
                                   "value-id": 602}, "field-id": 603},
        {"name": "ratio", "type": "float", "field-id": 604},
        {"name": "score", "type": "double", "field-id": 605},
        {"name": "kind", "type": {"type": "enum", "name": "kind", "symbols": ["DATA", "DELETES"]},
         "field-id": 606},
        {"name": "id", "type": {"type": "fixed", "name": "id8", "size": 8}, "field-id": 607},
        {"name": "either", "type": ["null", "string", "long", "py.test.id8"], "default": None,
         "field-id": 608},
    ],
}


def py_records(n):
    floats = [1.5, -0.0, 0.0, 1024.125, -2.25, 16777216.0]
    doubles = [0.1, -0.0, 1e300, float("nan"), float("inf"), -2.5e-300, 3.141592653589793]
    longs = [-(2 ** 63), 2 ** 63 - 1, 0, -1, 9007199254740993]
    for i in range(n):
        either = [None, "str %d" % i, -i * 1000003, bytes([i % 256] * 8)][i % 4]
        yield {
            "manifest_path": "s3://warehouse/db/t/metadata/snap-%d-\u00e9\U0001F697.avro" % i,
            "manifest_length": longs[i % 5],
            "added_snapshot_id": None if i % 3 == 0 else 1000 + i,
            "partitions": None if i % 4 == 1 else [
                {"contains_null": bool(k % 2), "contains_nan": None if k == 0 else False,
                 "lower_bound": bytes(range(k)), "upper_bound": None if k % 2 else b"\xff\x00"}
                for k in range(i % 3)],
            "counts": [{"key": k, "value": k * -(10 ** 12)} for k in range(i % 4)],
            "props": {"": None, "k\u00e9": "v\n\"%d\"" % i} if i % 2 else {},
            "ratio": floats[i % 6],
            "score": doubles[i % 7],
            "kind": ["DATA", "DELETES"][i % 2],
            "id": bytes([(i * 7 + k) % 256 for k in range(8)]),
            "either": either,
        }


def cmd_write(codec, out, expected):
    schema = avro.schema.parse(json.dumps(PY_SCHEMA))
    with open(out, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        w.set_meta("format-version", b"2")
        w.set_meta("firn-test", "caf\u00e9".encode("utf-8"))
        with open(expected, "w", encoding="utf-8") as e:
            for i, rec in enumerate(py_records(60)):
                w.append(rec)
                e.write(dump(rec) + "\n")
                if i % 25 == 24:
                    w.sync()  # several blocks
        w.close()


def main(argv):
    if len(argv) >= 2 and argv[0] == "read":
        return cmd_read(argv[1])
    if len(argv) >= 2 and argv[0] == "ids":
        return cmd_ids(argv[1])
    if len(argv) >= 3 and argv[0] == "meta":
        return cmd_meta(argv[1], argv[2])
    if len(argv) >= 4 and argv[0] == "write":
        return cmd_write(argv[1], argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
