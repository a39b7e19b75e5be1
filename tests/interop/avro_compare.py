"""avro_compare.py EXPECTED ACTUAL - compare two files of JSON lines record by record.

Strict about types (true is not 1, 1.0 is not 1) and about the sign of zero;
NaN and infinities are the strings firn prints. Prints the first difference
and exits 1, or prints "N records match". An empty EXPECTED is an error: a
test that compares nothing proves nothing.
"""
import json
import math
import sys


def same(a, b, path):
    if type(a) is not type(b):
        return "%s: %r (%s) != %r (%s)" % (path, a, type(a).__name__, b, type(b).__name__)
    if isinstance(a, float):
        if a != b or math.copysign(1, a) != math.copysign(1, b):
            return "%s: %r != %r" % (path, a, b)
        return None
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            return "%s: keys %s != %s" % (path, list(a.keys()), list(b.keys()))
        for k in a:
            d = same(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d items != %d items" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (path, a, b)


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(expected_path, actual_path):
    expected, actual = load(expected_path), load(actual_path)
    if not expected:
        print("no expected records in %s" % expected_path)
        return 1
    if len(expected) != len(actual):
        print("%d records expected, %d read" % (len(expected), len(actual)))
        return 1
    for i, (e, a) in enumerate(zip(expected, actual)):
        d = same(e, a, "record %d" % i)
        if d:
            print(d)
            return 1
    print("%d records match" % len(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
