"""sim_check.py EVENTS.ndjson TRUTH.ndjson WIDTH HEIGHT SLOTS

Independent reading of `firn sim --ndjson` output with Python's standard
library only: every good event's fields have the documented shapes, its image
(base64) is a JPEG or PNG of WIDTH x HEIGHT (PNG fully inflated and unfiltered
row by row, chunk CRCs checked; JPEG walked marker by marker to SOF dimensions
and the EOI marker), cars enter before they leave and slots never hold two
cars, and the per-rule counts in the truth file match the summary line given
on stdin ("firn sim: ...: good N, required N, ..."). Prints one line of counts.
"""
import base64
import json
import re
import struct
import sys
import zlib

events_path, truth_path, W, H, SLOTS = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
summary = sys.stdin.read()

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
PLATE = re.compile(r"^[0-9]{2}[A-Z]{2}[0-9]{4}$")


def jpeg_dims(b):
    assert b[:2] == b"\xff\xd8", "no JPEG SOI"
    i, dims = 2, None
    while i < len(b):
        assert b[i] == 0xFF, "marker expected at %d" % i
        m = b[i + 1]
        if 0xD0 <= m <= 0xD7 or m == 0x01:
            i += 2
            continue
        (length,) = struct.unpack(">H", b[i + 2:i + 4])
        if m in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", b[i + 5:i + 9])
            dims = (w, h)
        if m == 0xDA:
            assert b[-2:] == b"\xff\xd9", "no EOI at the end"
            return dims
        i += 2 + length
    raise AssertionError("no scan")


def png_decode(b):
    assert b[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
    i, idat, w = 8, b"", None
    while i < len(b):
        (length,) = struct.unpack(">I", b[i:i + 4])
        typ, data = b[i + 4:i + 8], b[i + 8:i + 8 + length]
        (crc,) = struct.unpack(">I", b[i + 8 + length:i + 12 + length])
        assert zlib.crc32(typ + data) & 0xFFFFFFFF == crc, "bad CRC in %r" % typ
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", data[:10])
            assert depth == 8 and ctype == 2, "expected 8-bit RGB"
        elif typ == b"IDAT":
            idat += data
        elif typ == b"IEND":
            break
        i += 12 + length
    raw = zlib.decompress(idat)
    stride = 3 * w
    assert len(raw) == h * (1 + stride), "pixel data length"
    prev = bytearray(stride)
    for y in range(h):  # unfilter every row: a corrupt stream shows here
        f = raw[y * (1 + stride)]
        assert f <= 4, "filter type %d" % f
        row = bytearray(raw[y * (1 + stride) + 1:(y + 1) * (1 + stride)])
        if f == 1:
            for x in range(3, stride):
                row[x] = (row[x] + row[x - 3]) & 255
        elif f == 2:
            for x in range(stride):
                row[x] = (row[x] + prev[x]) & 255
        elif f in (3, 4):
            raise AssertionError("firn writes Sub-filtered rows only")
        prev = row
    return (w, h)


truth = [json.loads(line) for line in open(truth_path)]
lines = open(events_path, "rb").read().split(b"\n")
assert lines[-1] == b"", "output must end with a newline"
lines = lines[:-1]
assert len(lines) == len(truth), "%d events, %d truth lines" % (len(lines), len(truth))

parked = {}  # slot -> car
cars = set()
counts = {}
lot_w, lot_d = min(SLOTS, 20) * 2.5, -(-SLOTS // 20) * 6.0
images = 0
for i, (raw, t) in enumerate(zip(lines, truth)):
    assert t["seq"] == i
    counts[t["truth"]] = counts.get(t["truth"], 0) + 1
    if t["truth"] in ("parse:syntax", "parse:invalid-utf8"):
        try:
            json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        raise AssertionError("event %d parses but is %s" % (i, t["truth"]))
    if t["truth"] != "good":
        continue
    ev = json.loads(raw)
    assert UUID.match(ev["eventId"]) and ev["eventId"] == t["eventId"], ev
    assert TS.match(ev["timeStamp"]), ev
    assert PLATE.match(ev["carId"]), ev
    assert isinstance(ev["slotId"], int) and 0 <= ev["slotId"] < SLOTS, ev
    assert 0 <= ev["x"] <= lot_w and 0 <= ev["y"] <= lot_d, ev
    assert ev["cameraId"] == ("gate-in" if ev["eventType"] == "parking-entry" else "gate-out")
    img = base64.b64decode(ev["image"], validate=True)
    dims = png_decode(img) if img[:4] == b"\x89PNG" else jpeg_dims(img)
    assert dims == (W, H), "event %d: image %r" % (i, dims)
    images += 1
    slot, car = ev["slotId"], ev["carId"]
    if ev["eventType"] == "parking-entry":
        assert slot not in parked, "event %d: slot %d taken" % (i, slot)
        assert car not in cars, "event %d: %s already parked" % (i, car)
        parked[slot] = car
        cars.add(car)
    else:
        assert parked.get(slot) == car, "event %d: %s was not in slot %d" % (i, car, slot)
        del parked[slot]
        cars.remove(car)

# the summary firn printed agrees with the per-event ground truth
m = re.search(r": (good \d+(, [a-z0-9:-]+ \d+)*)\s*$", summary)
assert m, "no summary in %r" % summary
stated = {k: int(v) for k, v in (p.rsplit(" ", 1) for p in m.group(1).split(", "))}
assert stated == {k: counts.get(k, 0) for k in stated}, (stated, counts)
assert sum(stated.values()) == len(lines)
print("events %d good %d images %d parked %d bad-kinds %d" %
      (len(lines), counts.get("good", 0), images, len(parked),
       sum(1 for k, v in counts.items() if k != "good" and v > 0)))
