"""ice_walk.py - an independent Iceberg v2 reader of firn tables, Python's avro only.

  /usr/bin/python3 ice_walk.py METADATA_FILE [--ref NAME | --snapshot ID] [--check] [--partitions]

Walks metadata JSON -> the ref's (default main) or snapshot's manifest list -> manifests,
skips DELETED entries and prints the live data file paths (local paths), one per line.
With --check it also validates every manifest list and manifest it reads: Avro header keys,
a field id on every record field (element-id on arrays, key-id/value-id on maps),
the spec's field ids, exact manifest_length and file_size_in_bytes, and no fields 105-107.
With --partitions it prints one JSON object per data file instead: {"path", "partition"
(field name -> value as stored; dates as day numbers), "transforms" (name -> [source column,
transform])}.
"""
import json, os, sys, warnings
warnings.simplefilter("ignore")  # avro warns about Iceberg's logicalType map
from avro.datafile import DataFileReader
from avro.io import DatumReader

def local(uri):
    if uri.startswith("file://"):
        return uri[7:]
    if uri.startswith("file:"):
        return uri[5:]
    raise SystemExit(f"not a file URI (paths must be full URIs): {uri}")

errors = []
def err(msg):
    errors.append(msg)

def read(path):
    with open(path, "rb") as f:
        r = DataFileReader(f, DatumReader())
        meta = {k: v.decode() for k, v in r.meta.items()}
        recs = list(r)
        r.close()
    return meta, json.loads(meta["avro.schema"]), recs

def walk_ids(node, where, out):
    """Every record field needs field-id; arrays element-id; maps key-id/value-id."""
    if isinstance(node, list):
        for b in node:
            walk_ids(b, where, out)
        return
    if not isinstance(node, dict):
        return
    t = node.get("type")
    if t == "record":
        for f in node["fields"]:
            name = f"{where}.{f['name']}"
            if "field-id" not in f:
                err(f"{name}: no field-id")
            else:
                out[name] = f["field-id"]
            walk_ids(f["type"], name, out)
    elif t == "array":
        if node.get("logicalType") == "map":
            walk_ids(node["items"], where, out)
        elif "element-id" not in node:
            err(f"{where}: array without element-id")
        walk_ids(node["items"], where + "[]", out)
    elif t == "map":
        if "key-id" not in node or "value-id" not in node:
            err(f"{where}: map without key-id/value-id")
        walk_ids(node["values"], where + "{}", out)
    elif isinstance(t, (dict, list)):
        walk_ids(t, where, out)

LIST_IDS = {"manifest_path": 500, "manifest_length": 501, "partition_spec_id": 502,
            "content": 517, "sequence_number": 515, "min_sequence_number": 516,
            "added_snapshot_id": 503, "added_files_count": 504, "existing_files_count": 505,
            "deleted_files_count": 506, "added_rows_count": 512, "existing_rows_count": 513,
            "deleted_rows_count": 514, "partitions": 507}
ENTRY_IDS = {"status": 0, "snapshot_id": 1, "sequence_number": 3, "file_sequence_number": 4,
             "data_file": 2}
FILE_IDS = {"content": 134, "file_path": 100, "file_format": 101, "partition": 102,
            "record_count": 103, "file_size_in_bytes": 104, "column_sizes": 108,
            "value_counts": 109, "null_value_counts": 110, "nan_value_counts": 137,
            "lower_bounds": 125, "upper_bounds": 128, "key_metadata": 131,
            "split_offsets": 132, "equality_ids": 135, "sort_order_id": 140}

def check_ids(ids, prefix, want, required):
    for name, fid in want.items():
        got = ids.get(f"{prefix}.{name}")
        if got is None:
            if name in required:
                err(f"{prefix}.{name}: missing")
        elif got != fid:
            err(f"{prefix}.{name}: field-id {got}, want {fid}")

def main():
    args = sys.argv[1:]
    mdpath, ref, snap_id, check = args[0], "main", None, "--check" in args
    if "--ref" in args:
        ref = args[args.index("--ref") + 1]
    if "--snapshot" in args:
        snap_id = int(args[args.index("--snapshot") + 1])
    md = json.load(open(local(mdpath) if mdpath.startswith("file:") else mdpath))
    if md.get("format-version") != 2:
        err("format-version is not 2")
    if snap_id is None:
        if ref not in md.get("refs", {}):
            raise SystemExit(f"no ref {ref}")
        snap_id = md["refs"][ref]["snapshot-id"]
    if md.get("current-snapshot-id", -1) not in (-1, None) and \
            md["current-snapshot-id"] != md.get("refs", {}).get("main", {}).get("snapshot-id"):
        err("current-snapshot-id != refs.main.snapshot-id")
    snap = next((s for s in md["snapshots"] if s["snapshot-id"] == snap_id), None)
    if snap is None:
        raise SystemExit(f"no snapshot {snap_id}")
    specs = {s["spec-id"]: s for s in md["partition-specs"]}
    ml = local(snap["manifest-list"])
    meta, schema, manifests = read(ml)
    if check:
        for k, v in (("snapshot-id", str(snap_id)), ("sequence-number", str(snap["sequence-number"])),
                     ("format-version", "2"),
                     ("parent-snapshot-id", str(snap.get("parent-snapshot-id", "null")))):
            if meta.get(k) != v:
                err(f"{ml}: header {k}={meta.get(k)!r}, want {v!r}")
        ids = {}
        walk_ids(schema, "manifest_file", ids)
        check_ids(ids, "manifest_file", LIST_IDS, set(LIST_IDS) - {"partitions"})
    files = []
    for m in manifests:
        mp = local(m["manifest_path"])
        if check and m["manifest_length"] != os.path.getsize(mp):
            err(f"{mp}: manifest_length {m['manifest_length']} != size {os.path.getsize(mp)}")
        mmeta, mschema, entries = read(mp)
        if check:
            spec = specs.get(m["partition_spec_id"])
            for k in ("schema", "partition-spec", "partition-spec-id", "format-version", "content"):
                if k not in mmeta:
                    err(f"{mp}: header key {k} missing")
            if mmeta.get("format-version") != "2":
                err(f"{mp}: format-version {mmeta.get('format-version')!r}")
            if mmeta.get("content") != "data":
                err(f"{mp}: content {mmeta.get('content')!r}")
            if spec and json.loads(mmeta.get("partition-spec", "null")) != spec["fields"]:
                err(f"{mp}: partition-spec header {mmeta.get('partition-spec')} != spec {spec['fields']}")
            if mmeta.get("partition-spec-id") != str(m["partition_spec_id"]):
                err(f"{mp}: partition-spec-id header != manifest list's {m['partition_spec_id']}")
            ids = {}
            walk_ids(mschema, "manifest_entry", ids)
            check_ids(ids, "manifest_entry", ENTRY_IDS, set(ENTRY_IDS))
            check_ids(ids, "manifest_entry.data_file", FILE_IDS,
                      {"content", "file_path", "file_format", "partition", "record_count",
                       "file_size_in_bytes"})
            for name, fid in ids.items():
                if fid in (105, 106, 107):
                    err(f"{mp}: {name} has reserved field-id {fid}")
            pfields = {n.rsplit(".", 1)[1]: fid for n, fid in ids.items()
                       if n.startswith("manifest_entry.data_file.partition.")}
            if spec:
                want = {f["name"]: f["field-id"] for f in spec["fields"]}
                if pfields != want:
                    err(f"{mp}: partition struct ids {pfields}, want {want}")
        for e in entries:
            if e["status"] == 2:
                continue
            df = e["data_file"]
            p = local(df["file_path"])
            if check and df["file_size_in_bytes"] != os.path.getsize(p):
                err(f"{p}: file_size_in_bytes {df['file_size_in_bytes']} != {os.path.getsize(p)}")
            files.append((p, df.get("partition") or {}, m["partition_spec_id"]))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    if "--partitions" in args:
        import datetime
        cols = {f["id"]: f["name"] for sc in md["schemas"] for f in sc["fields"]}
        for p, part, sid in files:
            tr = {f["name"]: [cols[f["source-id"]], f["transform"]] for f in specs[sid]["fields"]}
            part = {k: (v - datetime.date(1970, 1, 1)).days if isinstance(v, datetime.date) else v
                    for k, v in part.items()}
            print(json.dumps({"path": p, "partition": part, "transforms": tr}))
        return
    for p, _, _ in files:
        print(p)

main()
