"""foreign_tables.py - the metadata half of foreign.test.sh: manifests, manifest lists and
table metadata JSON as Spark (Java) and PyIceberg write them, with Python's avro and Java's
Avro schemas (manifest_py.py's V2 schemas; V1's below), over the files that
foreign_tables.mjs wrote and described in DIR/files.json. Run with /usr/bin/python3.

  foreign_tables.py build DIR     writes each table's metadata; prints "TABLE METADATA_FILE"
                                  lines (the newest metadata file of each table) and
                                  "snapshot TABLE N ID TIMESTAMP_MS" lines
  foreign_tables.py same A B      two JSON-lines files hold the same rows (a multiset; numbers
                                  compared as numbers, timestamps as instants)

Layouts: spark - metadata/00000-<uuid>.metadata.json ..., manifest lists
snap-<id>-1-<uuid>.avro, manifests <uuid>-m0.avro, data under data/region=<v>/; pyice -
PyIceberg's metadata/00000-<uuid>.metadata.json, snap-<id>-0-<uuid>.avro, <uuid>-m0.avro;
v1 - format 1 metadata (schema, partition-spec, no sequence numbers), snapshot 1 embeds
"manifests", snapshot 2 has a v1 manifest list.
"""
import datetime
import json
import os
import sys
import uuid
import warnings

import avro.datafile
import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_py import field, java_entry_schema, java_list_schema, stats_map  # noqa: E402

warnings.simplefilter("ignore")

T0 = 1709251200000  # 2024-03-01T00:00:00Z
SNAP_IDS = {"spark": [4418264717133110001, 4418264717133110002],
            "pyice": [6129011823456770001, 6129011823456770002],
            "v1": [1234000000000000001, 1234000000000000002],
            "badsize": [7700000000000000001]}

SCHEMAS = {
    "spark": [(1, "id", True, "long"), (2, "region", False, "string"), (3, "v", False, "double"),
              (4, "name", False, "string")],
    "pyice": [(1, "id", True, "long"), (2, "category", False, "string"),
              (3, "ts", False, "timestamptz"), (4, "amount", False, "double")],
    "v1": [(1, "id", True, "int"), (2, "part", False, "int"), (3, "s", False, "string")],
    "badsize": [(1, "id", True, "long"), (2, "name", False, "string")],
}
# spec 0 of each table: (source id, field id, name); identity only. pyice has spec 1 = unpartitioned.
SPECS = {"spark": [(2, 1000, "region")], "pyice": [(2, 1000, "category")], "v1": [(2, 1000, "part")],
         "badsize": []}
# the data files' column names: the mapping's aliases
ALIASES = {"pyice": {2: ["category", "cat"], 4: ["amount", "amt"]}}


def schema_json(t, sid=0):
    return {"type": "struct", "schema-id": sid, "fields": [
        {"id": i, "name": n, "required": r, "type": ty} for i, n, r, ty in SCHEMAS[t]]}


def name_mapping(t):
    return json.dumps([{"field-id": i, "names": ALIASES.get(t, {}).get(i, [n])} for i, n, _, _ in SCHEMAS[t]])


def spec_fields(t, spec_id):
    if spec_id != 0:
        return []
    return [{"name": n, "transform": "identity", "source-id": s, "field-id": f} for s, f, n in SPECS[t]]


def avro_part_type(t, source_id):
    ty = [x[3] for x in SCHEMAS[t] if x[0] == source_id][0]
    return {"long": "long", "int": "int", "string": "string"}[ty]


def part_fields(t, spec_id):
    return [field(n, avro_part_type(t, s), f, optional=True) for s, f, n in SPECS[t]] if spec_id == 0 else []


def v1_entry_schema(pfields):
    """V1Metadata.entrySchema (Java): snapshot_id required, block_size_in_bytes, no content."""
    data_file = [
        field("file_path", "string", 100, "Location URI with FS scheme"),
        field("file_format", "string", 101, "File format name: avro, orc, or parquet"),
        field("partition", {"type": "record", "name": "r102", "fields": pfields}, 102,
              "Partition data tuple, schema based on the partition spec"),
        field("record_count", "long", 103, "Number of records in the file"),
        field("file_size_in_bytes", "long", 104, "Total file size in bytes"),
        field("block_size_in_bytes", "long", 105, "Deprecated. Always write a default in v1."),
        stats_map("column_sizes", 108, 117, 118, "long", "Map of column id to total size on disk"),
        stats_map("value_counts", 109, 119, 120, "long", "Map of column id to total count"),
        stats_map("null_value_counts", 110, 121, 122, "long", "Map of column id to null value count"),
        stats_map("nan_value_counts", 137, 138, 139, "long", "Map of column id to number of NaN values"),
        stats_map("lower_bounds", 125, 126, 127, "bytes", "Map of column id to lower bound"),
        stats_map("upper_bounds", 128, 129, 130, "bytes", "Map of column id to upper bound"),
        field("key_metadata", "bytes", 131, "Encryption key metadata blob", True),
        field("split_offsets", {"type": "array", "items": "long", "element-id": 133}, 132,
              "Splittable offsets", True),
        field("sort_order_id", "int", 140, "Sort order ID", True),
    ]
    return {"type": "record", "name": "manifest_entry", "fields": [
        field("status", "int", 0), field("snapshot_id", "long", 1),
        field("data_file", {"type": "record", "name": "r2", "fields": data_file}, 2)]}


def v1_list_schema():
    summary = {"type": "record", "name": "r508", "fields": [
        field("contains_null", "boolean", 509), field("contains_nan", "boolean", 518, optional=True),
        field("lower_bound", "bytes", 510, optional=True), field("upper_bound", "bytes", 511, optional=True)]}
    return {"type": "record", "name": "manifest_file", "fields": [
        field("manifest_path", "string", 500), field("manifest_length", "long", 501),
        field("partition_spec_id", "int", 502), field("added_snapshot_id", "long", 503, optional=True),
        field("added_data_files_count", "int", 504, optional=True),
        field("existing_data_files_count", "int", 505, optional=True),
        field("deleted_data_files_count", "int", 506, optional=True),
        field("partitions", {"type": "array", "items": summary, "element-id": 508}, 507, optional=True),
        field("added_rows_count", "long", 512, optional=True),
        field("existing_rows_count", "long", 513, optional=True),
        field("deleted_rows_count", "long", 514, optional=True),
        field("key_metadata", "bytes", 519, optional=True)]}


def uri(p):
    return "file:" + p


def data_file(t, f, v1):
    d = {"file_path": uri(f["path"]), "file_format": "PARQUET",
         "partition": dict(f["partition"]), "record_count": f["rows"],
         "file_size_in_bytes": os.path.getsize(f["path"]) + f.get("size_delta", 0),
         "column_sizes": None, "value_counts": None, "null_value_counts": None,
         "nan_value_counts": None, "lower_bounds": None, "upper_bounds": None,
         "key_metadata": None, "split_offsets": [4], "sort_order_id": None if f["content"] else 0}
    if v1:
        d["block_size_in_bytes"] = 67108864
    else:
        d.update(content=f["content"], equality_ids=f["equality_ids"], referenced_data_file=None)
    return d


def write_manifest(t, loc, spec_id, content, entries, v1):
    """entries: (status, snapshot_id, seq or None, file). Returns the manifest's path."""
    path = os.path.join(loc, "metadata", "%s-m0.avro" % uuid.uuid4())
    pf = part_fields(t, spec_id)
    schema = avro.schema.parse(json.dumps(v1_entry_schema(pf) if v1 else java_entry_schema(pf)))
    with open(path, "wb") as fh:
        w = avro.datafile.DataFileWriter(fh, avro.io.DatumWriter(), schema, codec="deflate")
        w.set_meta("schema", json.dumps(schema_json(t)).encode())
        w.set_meta("partition-spec", json.dumps(spec_fields(t, spec_id)).encode())
        w.set_meta("partition-spec-id", str(spec_id).encode())
        w.set_meta("format-version", b"1" if v1 else b"2")
        if not v1:
            w.set_meta("content", b"deletes" if content else b"data")
        for status, snap, seq, f in entries:
            e = {"status": status, "snapshot_id": snap, "data_file": data_file(t, f, v1)}
            if not v1:
                e["sequence_number"] = seq
                e["file_sequence_number"] = seq
            w.append(e)
        w.close()
    return path


def summaries(t, spec_id, files):
    out = []
    for s, fid, n in (SPECS[t] if spec_id == 0 else []):
        vals = sorted(f["partition"][n] for f in files)
        enc = (lambda v: v.encode()) if isinstance(vals[0], str) else (lambda v: v.to_bytes(4, "little", signed=True))
        out.append({"contains_null": False, "contains_nan": None, "lower_bound": enc(vals[0]),
                    "upper_bound": enc(vals[-1])})
    return out


def manifest_file(t, path, spec_id, content, snap, seq, entries, v1):
    def cnt(st):
        return sum(1 for e in entries if e[0] == st), sum(e[3]["rows"] for e in entries if e[0] == st)
    (ea, ra), (ee, re_), (ed, rd) = cnt(1), cnt(0), cnt(2)
    m = {"manifest_path": uri(path), "manifest_length": os.path.getsize(path), "partition_spec_id": spec_id,
         "added_snapshot_id": snap, "partitions": summaries(t, spec_id, [e[3] for e in entries]),
         "added_rows_count": ra, "existing_rows_count": re_, "deleted_rows_count": rd, "key_metadata": None}
    if v1:
        m.update(added_data_files_count=ea, existing_data_files_count=ee, deleted_data_files_count=ed)
    else:
        m.update(content=content, sequence_number=seq,
                 min_sequence_number=min(e[2] if e[2] is not None else seq for e in entries),
                 added_files_count=ea, existing_files_count=ee, deleted_files_count=ed)
    return m


def write_list(t, loc, name, snap, parent, seq, mfs, v1):
    path = os.path.join(loc, "metadata", name)
    schema = avro.schema.parse(json.dumps(v1_list_schema() if v1 else java_list_schema()))
    with open(path, "wb") as fh:
        w = avro.datafile.DataFileWriter(fh, avro.io.DatumWriter(), schema, codec="deflate")
        w.set_meta("snapshot-id", str(snap).encode())
        w.set_meta("parent-snapshot-id", str(parent).encode() if parent else b"null")
        if not v1:
            w.set_meta("sequence-number", str(seq).encode())
        w.set_meta("format-version", b"1" if v1 else b"2")
        for m in mfs:
            w.append(m)
        w.close()
    return path


def summary(op, files):
    data = [f for f in files if f["content"] == 0]
    return {"operation": op, "added-data-files": str(len(data)),
            "added-records": str(sum(f["rows"] for f in data)),
            "added-files-size": str(sum(os.path.getsize(f["path"]) for f in files))}


def write_metadata(t, loc, version, md):
    path = os.path.join(loc, "metadata", "%05d-%s.metadata.json" % (version, uuid.uuid4()))
    with open(path, "w") as fh:
        json.dump(md, fh, indent=2)
    return path


def v2_metadata(t, loc, snaps, specs):
    cur = snaps[-1]["snapshot-id"] if snaps else -1
    md = {"format-version": 2, "table-uuid": str(uuid.uuid4()), "location": uri(loc),
          "last-sequence-number": max([s["sequence-number"] for s in snaps] or [0]),
          "last-updated-ms": snaps[-1]["timestamp-ms"] if snaps else T0, "last-column-id": len(SCHEMAS[t]),
          "current-schema-id": 0, "schemas": [schema_json(t)], "default-spec-id": specs[-1],
          "partition-specs": [{"spec-id": i, "fields": spec_fields(t, i)} for i in specs],
          "last-partition-id": 1000 if SPECS[t] else 999, "default-sort-order-id": 0,
          "sort-orders": [{"order-id": 0, "fields": []}],
          "properties": {"schema.name-mapping.default": name_mapping(t), "write.format.default": "parquet"},
          "current-snapshot-id": cur, "snapshots": snaps,
          "snapshot-log": [{"timestamp-ms": s["timestamp-ms"], "snapshot-id": s["snapshot-id"]} for s in snaps],
          "metadata-log": [], "statistics": [], "partition-statistics": []}
    if snaps:
        md["refs"] = {"main": {"snapshot-id": cur, "type": "branch"}}
    return md


def build_v2(t, loc, files, layout, out):
    """Two snapshots at most: 1 appends, 2 adds data and delete files (merge on read)."""
    ids = SNAP_IDS[t]
    snaps, mfs, specs = [], [], sorted({f["spec"] for f in files})
    for n in (1, 2):
        mine = [f for f in files if f["snapshot"] == n]
        if not mine:
            break
        snap, parent, ts = ids[n - 1], ids[n - 2] if n > 1 else None, T0 + n * 60000
        new = []
        for content in (0, 1):
            for spec in specs:
                grp = [f for f in mine if (f["content"] > 0) == bool(content) and f["spec"] == spec]
                if not grp:
                    continue
                ents = [(1, snap, None, f) for f in grp]  # ADDED: sequence numbers inherited
                p = write_manifest(t, loc, spec, content, ents, False)
                new.append(manifest_file(t, p, spec, content, snap, n, ents, False))
        mfs = new + mfs
        lname = ("snap-%d-1-%s.avro" if layout == "spark" else "snap-%d-0-%s.avro") % (snap, uuid.uuid4())
        lpath = write_list(t, loc, lname, snap, parent, n, mfs, False)
        s = {"snapshot-id": snap, "sequence-number": n, "timestamp-ms": ts, "manifest-list": uri(lpath),
             "summary": summary("append" if n == 1 else "overwrite", mine), "schema-id": 0}
        if parent:
            s["parent-snapshot-id"] = parent
        snaps.append(s)
        out.append("snapshot %s %d %d %d" % (t, n, snap, ts))
    # PyIceberg and Java write a metadata file per commit; the first has no snapshot
    for v in range(len(snaps) + 1):
        last = write_metadata(t, loc, v, v2_metadata(t, loc, snaps[:v], specs))
    out.append("%s %s" % (t, last))


def build_v1(loc, files, out):
    t = "v1"
    s1, s2 = SNAP_IDS[t]
    f1 = [f for f in files if f["snapshot"] == 1]
    m1 = write_manifest(t, loc, 0, 0, [(1, s1, None, f) for f in f1], True)
    # snapshot 2: overwrite - the part=2 file deleted, part=1's kept (EXISTING), one added
    ents = [(2 if f.get("removed_in") == 2 else 0, s2 if f.get("removed_in") == 2 else s1, None, f) for f in f1]
    m1b = write_manifest(t, loc, 0, 0, ents, True)
    add = [(1, s2, None, f) for f in files if f["snapshot"] == 2]
    m2 = write_manifest(t, loc, 0, 0, add, True)
    lpath = write_list(t, loc, "snap-%d-1-%s.avro" % (s2, uuid.uuid4()), s2, s1, 0,
                       [manifest_file(t, m2, 0, 0, s2, 0, add, True),
                        manifest_file(t, m1b, 0, 0, s2, 0, ents, True)], True)
    snaps = [{"snapshot-id": s1, "timestamp-ms": T0 + 60000, "manifests": [uri(m1)],
              "summary": {"operation": "append"}},
             {"snapshot-id": s2, "parent-snapshot-id": s1, "timestamp-ms": T0 + 120000,
              "manifest-list": uri(lpath), "summary": {"operation": "overwrite"}}]
    for n, s in enumerate(snaps, 1):
        out.append("snapshot v1 %d %d %d" % (n, s["snapshot-id"], s["timestamp-ms"]))
    # early Java v1 metadata: the single schema and partition-spec, no sequence numbers
    md = {"format-version": 1, "table-uuid": str(uuid.uuid4()), "location": uri(loc),
          "last-updated-ms": T0 + 120000, "last-column-id": 3, "schema": schema_json(t),
          "partition-spec": spec_fields(t, 0), "properties": {},
          "current-snapshot-id": s2, "snapshots": snaps,
          "snapshot-log": [{"timestamp-ms": s["timestamp-ms"], "snapshot-id": s["snapshot-id"]} for s in snaps]}
    path = os.path.join(loc, "metadata", "v2.metadata.json")
    with open(path, "w") as fh:
        json.dump(md, fh, indent=2)
    out.append("v1 %s" % path)
    # the version before: its current snapshot embeds its manifests
    md.update({"current-snapshot-id": s1, "snapshots": snaps[:1], "snapshot-log": md["snapshot-log"][:1],
               "last-updated-ms": T0 + 60000})
    path = os.path.join(loc, "metadata", "v1.metadata.json")
    with open(path, "w") as fh:
        json.dump(md, fh, indent=2)
    out.append("v1old %s" % path)


def cmd_build(d):
    files = json.load(open(os.path.join(d, "files.json")))
    out = []
    for t in ("spark", "pyice", "v1", "badsize"):
        loc = os.path.join(d, t)
        os.makedirs(os.path.join(loc, "metadata"), exist_ok=True)
        mine = [f for f in files if f["table"] == t]
        if t == "v1":
            build_v1(loc, mine, out)
        else:
            build_v2(t, loc, mine, "spark" if t in ("spark", "badsize") else "pyice", out)
    print("\n".join(out))


def norm(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in "T ":
        s = v.replace("Z", "+00:00")
        if s[-3] in "+-":
            s += ":00"
        return datetime.datetime.fromisoformat(s).timestamp()
    return v


def cmd_same(a, b):
    def load(p):
        return sorted(json.dumps({k: norm(v) for k, v in json.loads(line).items()}, sort_keys=True)
                      for line in open(p) if line.strip())
    x, y = load(a), load(b)
    if x != y:
        print("want %d rows, got %d\n--- only wanted:\n%s\n--- only got:\n%s" % (
            len(x), len(y), "\n".join(sorted(set(x) - set(y))), "\n".join(sorted(set(y) - set(x)))))
        return 1
    if not x:
        print("no rows on either side")
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "build":
        cmd_build(sys.argv[2])
    elif sys.argv[1] == "same":
        sys.exit(cmd_same(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
