"""part_check.py - every row of every data file belongs to the partition tuple its manifest
entry gives (the value engines prune with). Transforms computed here from the spec:
identity, day (days since epoch of a timestamp), bucket[N] (murmur3_x86_32 of the value's
hash bytes: int/long as 8-byte LE longs, strings as UTF-8; (h & 0x7FFFFFFF) % N).

  /usr/bin/python3 part_check.py PARTITIONS.jsonl ROWS.jsonl
PARTITIONS.jsonl: ice_walk.py --partitions; ROWS.jsonl: {"path", <source columns>} per row,
timestamps as microseconds since epoch (DuckDB epoch_us).
"""
import json, struct, sys

M32 = 0xFFFFFFFF
def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32
def murmur3_32(data):
    c1, c2, h, n = 0xcc9e2d51, 0x1b873593, 0, len(data)
    for i in range(0, n // 4 * 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = rotl((k * c1) & M32, 15) * c2 & M32
        h = (rotl(h ^ k, 13) * 5 + 0xe6546b64) & M32
    k = 0
    for j, b in enumerate(data[n // 4 * 4:]):
        k |= b << (8 * j)
    if n & 3:
        h ^= rotl((k * c1) & M32, 15) * c2 & M32
    h ^= n
    h ^= h >> 16; h = (h * 0x85ebca6b) & M32
    h ^= h >> 13; h = (h * 0xc2b2ae35) & M32
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h
# spec appendix B vectors
assert murmur3_32(struct.pack("<q", 34)) == 2017239379
assert murmur3_32("iceberg".encode()) == 1210000089

def transform(t, v):
    if v is None:
        return None
    if t == "identity":
        return v
    if t == "day":
        return v // 86400000000
    if t.startswith("bucket["):
        n = int(t[7:-1])
        b = v.encode() if isinstance(v, str) else struct.pack("<q", v)
        return (murmur3_32(b) & 0x7FFFFFFF) % n
    raise SystemExit(f"transform {t} not handled")

parts = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    parts[e["path"]] = e
bad, n = [], 0
for line in open(sys.argv[2]):
    r = json.loads(line)
    e = parts.get(r["path"])
    if e is None:
        bad.append(f"{r['path']}: not listed"); continue
    n += 1
    for name, (col, t) in e["transforms"].items():
        want = transform(t, int(r[col]) if t != "identity" and isinstance(r[col], str) else r[col])
        if e["partition"].get(name) != want:
            bad.append(f"{r['path']}: row {r}: partition {name}={e['partition'].get(name)!r}, "
                       f"{t}({col}) is {want!r}")
if bad:
    print("\n".join(bad[:20]), file=sys.stderr); sys.exit(1)
if n == 0:
    print("no rows", file=sys.stderr); sys.exit(1)
print(f"{n} rows in {len(parts)} files match their partition tuples")
