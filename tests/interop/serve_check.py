"""serve_check.py - checks of `firn serve` against `firn scan`, with Python's
standard library only. Subcommands (each exits non-zero with a message):

  api BASE SCANDIR          every /api/v1 endpoint and /metrics agree with the scans
  auth BASE TOKEN EVENTS    ingest asks for the token; reads do not (read-auth off)
  limits BASE TOKEN         413 for a body over server.max-body, 400 for garbage
  rate BASE                 429 once a client is over server.rate-limit
  fuzz BASE N               N malformed requests on raw sockets; the server answers on
  ingest BASE TOKEN EVENTS TRUTH OUT   post events (single, NDJSON, multipart), retry
                            them (duplicates, same offsets); writes the posted ids
  retry BASE TOKEN EVENTS OUT   after a restart: a retry is still a duplicate
  drained SCANBEFORE SCANAFTER OUT   after `firn run`: each posted event once
  dom DOMFILE SCANDIR PAGE  the dashboard's DOM (chromium --dump-dom) shows the data
"""
import base64
import json
import os
import random
import socket
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request


def fail(msg):
    print(msg)
    sys.exit(1)


def req(base, path, data=None, headers=None, method=None):
    r = urllib.request.Request(base + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(base, path, want=200):
    st, _, body = req(base, path)
    if st != want:
        fail(f"GET {path}: {st}, want {want}: {body[:300]!r}")
    return json.loads(body)


def scan(scandir, table):
    p = os.path.join(scandir, table + ".jsonl")
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p)]


def jpeg_size(b):
    if b[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(b):
        if b[i] != 0xFF:
            return None
        m = b[i + 1]
        if m in (0xD8, 0x01) or 0xD0 <= m <= 0xD7:
            i += 2
            continue
        ln = struct.unpack(">H", b[i + 2:i + 4])[0]
        if m in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", b[i + 5:i + 9])
            return w, h
        i += 2 + ln
    return None


TABLES = ["production.parking_entry", "production.parking_exit", "staging.parking_entry_untrusted",
          "staging.parking_exit_untrusted", "staging.dead_letter", "firn.commits"]


def cmd_api(base, scandir):
    tabs = {t["name"]: t for t in get_json(base, "/api/v1/tables")["tables"]}
    for t in TABLES:
        if t not in tabs:
            fail(f"/tables lacks {t}: {sorted(tabs)}")
        n = len(scan(scandir, t))
        if tabs[t]["rows"] != n:
            fail(f"/tables: {t} rows {tabs[t]['rows']}, firn scan {n}")
    pe = "production.parking_entry"
    d = get_json(base, f"/api/v1/tables/{pe}")
    ids = [f["id"] for f in d["schema"]["fields"]]
    if ids != list(range(1, len(ids) + 1)) or d["schema"]["fields"][0]["name"] != "eventId":
        fail(f"schema field ids {ids}")
    if [f["transform"] for f in d["partition_spec"]["fields"]] != ["day"]:
        fail(f"spec {d['partition_spec']}")
    if not any(r["name"] == "main" and r["type"] == "branch" for r in d["refs"]):
        fail(f"refs {d['refs']}")
    if "format-version" in d["properties"] or not d["properties"]:
        pass
    sn = get_json(base, f"/api/v1/tables/{pe}/snapshots")
    if sn["total"] != d["snapshots"] or len(sn["snapshots"]) != sn["total"]:
        fail(f"snapshots {sn['total']} vs {d['snapshots']}")
    main = [r for r in d["refs"] if r["name"] == "main"][0]["snapshot_id"]
    if sn["snapshots"][0]["snapshot_id"] != main and not any(s["snapshot_id"] == main for s in sn["snapshots"]):
        fail("main's snapshot is not listed")
    hist = get_json(base, f"/api/v1/tables/{pe}/history")["history"]
    if not hist or not hist[-1]["is_current_ancestor"]:
        fail(f"history {hist[-3:]}")
    refs = get_json(base, f"/api/v1/tables/{pe}/refs")["refs"]
    if refs != d["refs"]:
        fail("refs differ from the table's")
    rows = scan(scandir, pe)
    files = get_json(base, f"/api/v1/tables/{pe}/files")["files"]
    if sum(f["record_count"] for f in files) != len(rows):
        fail(f"files hold {sum(f['record_count'] for f in files)} rows, scan {len(rows)}")
    parts = get_json(base, f"/api/v1/tables/{pe}/partitions")["partitions"]
    if sum(p["record_count"] for p in parts) != len(rows) or not all("timeStamp_day" in p["partition"] for p in parts):
        fail(f"partitions {parts}")
    days = {r["timeStamp"][:10] for r in rows}
    if {p["partition"]["timeStamp_day"] for p in parts} != days:
        fail(f"partition days {[p['partition'] for p in parts]} vs {days}")
    r = get_json(base, f"/api/v1/tables/{pe}/rows?limit=7")
    if len(r["rows"]) != 7 or r["matched"] != len(rows):
        fail(f"rows: {len(r['rows'])} rows, matched {r['matched']}, scan {len(rows)}")
    scan_ids = {x["eventId"] for x in rows}
    if not all(x["eventId"] in scan_ids for x in r["rows"]):
        fail("rows not in the scan")
    # filter: the same rows as the scan's
    car = rows[0]["carId"]
    slot = rows[0]["slotId"]
    where = f"carId = '{car}' or slotId > {slot}"
    want = sorted(x["eventId"] for x in rows if x["carId"] == car or x["slotId"] > slot)
    r = get_json(base, f"/api/v1/tables/{pe}/rows?limit=1000&where=" + urllib.parse.quote(where))
    got = sorted(x["eventId"] for x in r["rows"])
    if got != want or r["matched"] != len(want):
        fail(f"where {where!r}: {len(got)} rows, scan {len(want)}")
    # time travel: the first snapshot of firn.commits has fewer rows than main
    cs = get_json(base, "/api/v1/tables/firn.commits/snapshots")["snapshots"]
    oldest = cs[-1]
    tr = get_json(base, f"/api/v1/tables/firn.commits/rows?limit=1000&snapshot={oldest['snapshot_id']}")
    if tr["matched"] != int(oldest["summary"]["total-records"]) or tr["snapshot_id"] != oldest["snapshot_id"]:
        fail(f"time travel to {oldest['snapshot_id']}: {tr['matched']} rows, summary {oldest['summary']}")
    tb = get_json(base, f"/api/v1/tables/{pe}/rows?limit=3&ref=main")
    if tb["snapshot_id"] != main:
        fail("ref=main is not main's snapshot")
    # images: each row links its image; the bytes are the table's
    x = r["rows"][0]
    src = [s for s in rows if s["eventId"] == x["eventId"]][0]
    st, hd, img = req(base, x["image"])
    if st != 200 or hd["Content-Type"] != "image/jpeg" or img.hex() != src["image"]:
        fail(f"image {x['image']}: {st} {hd['Content-Type']}, {len(img)} bytes, want {len(src['image']) // 2}")
    if jpeg_size(img) != (src["image_width"], src["image_height"]):
        fail(f"image size {jpeg_size(img)}")
    # overview and commits
    o = get_json(base, "/api/v1/overview")
    commits = scan(scandir, "firn.commits")
    if len(o["commits"]) != len(commits):
        fail(f"overview: {len(o['commits'])} commits, scan {len(commits)}")
    for key, col in (("trusted", "rows_trusted"), ("untrusted", "rows_untrusted"), ("dead_letter", "rows_dead_letter")):
        if o["totals"][key] != sum(c[col] for c in commits):
            fail(f"overview totals {key}: {o['totals'][key]}")
    if len(get_json(base, "/api/v1/commits")["commits"]) != len(commits):
        fail("/commits count")
    # untrusted grouped by rule
    u = get_json(base, "/api/v1/untrusted?limit=2")
    for t in u["tables"]:
        srows = scan(scandir, t["table"])
        want = {}
        for s in srows:
            for rule in s["failed_rules"].split(","):
                want[rule] = want.get(rule, 0) + 1
        got = {g["rule"]: g["count"] for g in t["groups"]}
        if got != want or t["rows"] != len(srows):
            fail(f"untrusted {t['table']}: {got} vs scan {want}")
        if not all(0 < len(g["samples"]) <= 2 and g["samples"][0]["payload"] for g in t["groups"]):
            fail("untrusted samples")
    if len(u["tables"]) != 2:
        fail(f"untrusted tables {[t['table'] for t in u['tables']]}")
    # errors
    for path, want in (("/api/v1/tables/nope.nothing", 404), ("/api/v1/tables/nodot", 400),
                       (f"/api/v1/tables/{pe}/rows?where=" + urllib.parse.quote("slotId >= "), 400),
                       (f"/api/v1/tables/{pe}/rows?where=" + urllib.parse.quote("nosuch = 1"), 400),
                       (f"/api/v1/tables/{pe}/rows?limit=x", 400),
                       (f"/api/v1/tables/{pe}/rows?snapshot=12x", 400),
                       (f"/api/v1/tables/{pe}/image?column=carId", 400),
                       ("/api/v1/nothing", 404), ("/nothing", 404), ("/../../etc/passwd", 400),
                       ("/%2e%2e/%2e%2e/etc/passwd", 400), ("/api/v1/tables/..%2F..%2Fetc.passwd", 400)):
        st, _, body = req(base, path)
        if st != want:
            fail(f"GET {path}: {st}, want {want}: {body[:200]!r}")
    st, _, _ = req(base, "/api/v1/tables", data=b"x", method="POST")
    if st != 405:
        fail(f"POST /api/v1/tables: {st}")
    st, _, _ = req(base, "/v1/events", method="GET")
    if st != 401:
        fail(f"GET /v1/events without a token: {st}")
    st, _, _ = req(base, "/v1/events", method="GET", headers={"Authorization": "Bearer other"})
    if st != 405:
        fail(f"GET /v1/events: {st}")
    # probes, dashboard files, metrics
    for path, ctype in (("/healthz", "text/plain"), ("/readyz", "application/json"), ("/", "text/html"),
                        ("/app.js", "text/javascript"), ("/app.css", "text/css")):
        st, hd, _ = req(base, path)
        if st != 200 or not hd["Content-Type"].startswith(ctype):
            fail(f"{path}: {st} {hd['Content-Type']}")
    st, hd, m = req(base, "/metrics")
    m = m.decode()
    if st != 200 or not hd["Content-Type"].startswith("text/plain"):
        fail(f"/metrics {st}")
    for t in TABLES:
        line = f'firn_table_rows{{table="{t}"}} {len(scan(scandir, t))}'
        if line not in m.splitlines():
            fail(f"/metrics lacks {line!r}")
    n404 = [l for l in m.splitlines() if l.startswith('firn_http_requests_total{code="404"}')]
    if not n404 or int(float(n404[0].split()[-1])) < 3:
        fail(f"/metrics: 404s {n404}")
    tt = sum(c["rows_trusted"] for c in commits if c["table_name"] == pe)
    if f'firn_rows_committed_total{{table="{pe}",trust="trusted"}} {tt}' not in m:
        fail("/metrics: rows committed")
    for name in ("firn_freshness_seconds", "firn_http_request_duration_seconds_bucket", "firn_table_snapshots"):
        if name not in m:
            fail(f"/metrics lacks {name}")
    print(f"api: {len(TABLES)} tables, {len(rows)} rows in {pe}, metrics {len(m.splitlines())} lines")


def load_events(path):
    return [l.rstrip("\n") for l in open(path, encoding="utf-8", errors="surrogateescape")]


def cmd_auth(base, token, events):
    ev = load_events(events)[0].encode("utf-8", "surrogateescape")
    st, hd, _ = req(base, "/v1/events", data=ev, headers={"Content-Type": "application/json"})
    if st != 401 or "Bearer" not in (hd.get("WWW-Authenticate") or ""):
        fail(f"no token: {st}")
    for bad in ("Bearer wrong", "Bearer " + token + "x", "Bearer " + token[:-1], "Basic " + token, token, "Bearer "):
        st, _, _ = req(base, "/v1/events", data=ev, headers={"Authorization": bad})
        if st != 401:
            fail(f"Authorization {bad!r}: {st}")
    st, _, body = req(base, "/api/v1/tables")
    if st != 200:
        fail(f"reads need no token with read-auth off: {st}")
    print("auth: ingest refused without the token, reads open")


def cmd_auth_read(base, token):
    st, _, _ = req(base, "/api/v1/tables")
    if st != 401:
        fail(f"read-auth: /api/v1/tables without token: {st}")
    st, _, _ = req(base, "/metrics")
    if st != 401:
        fail(f"read-auth: /metrics without token: {st}")
    st, _, _ = req(base, "/api/v1/tables", headers={"Authorization": "Bearer " + token})
    if st != 200:
        fail(f"read-auth: with token {st}")
    for p in ("/healthz", "/readyz", "/", "/app.js"):
        st, _, _ = req(base, p)
        if st != 200:
            fail(f"read-auth: {p} {st}")
    print("read-auth: API and metrics need the token, probes and dashboard files do not")


def cmd_limits(base, token):
    auth = {"Authorization": "Bearer " + token}
    u = urllib.parse.urlparse(base)
    # the server answers 413 from the headers, before the body
    out = raw(u.hostname, u.port, b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
              token.encode() + b"\r\nContent-Length: 2097152\r\n\r\n" + b"{" * 1000)
    if not out.startswith(b"HTTP/1.1 413"):
        fail(f"2 MiB Content-Length over max-body: {out[:100]!r}")
    # a chunked body with no length is cut off once over the limit
    chunk = b"{" * 65536
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(20)) + b"0\r\n\r\n"
    out = raw(u.hostname, u.port, b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
              token.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    if not out.startswith(b"HTTP/1.1 413"):
        fail(f"1.25 MiB chunked body over max-body: {out[:100]!r}")
    # one event over limits.max-event-bytes is 413 too
    st, _, resp = req(base, "/v1/events", data=b'{"eventId":"big","pad":"' + b"x" * 600000 + b'"}',
                      headers=dict(auth, **{"Content-Type": "application/json"}))
    if st != 202:
        fail(f"a 600 KB event under the limits: {st} {resp[:200]!r}")
    cases = [(b"", "application/json"), (b"{bad", "application/json"), (b"[1,2]", "application/json"),
             (b"42", "application/json"), (b'{"a":1}\n{bad\n', "application/x-ndjson"),
             (b'\xff\xfe{"a":"\xff"}', "application/json"), (b"\n\n", "application/x-ndjson"),
             (b'{"image":"***notbase64***"}', "application/json"), (b'{"image":5}', "application/json"),
             (b"--x\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\n{}", "multipart/form-data; boundary=x"),
             (b"garbage", "multipart/form-data; boundary=x"), (b"--x--", "multipart/form-data")]
    for body, ct in cases:
        st, _, resp = req(base, "/v1/events", data=body, headers=dict(auth, **{"Content-Type": ct}))
        if st != 400 or b"error" not in resp:
            fail(f"{body[:30]!r} ({ct}): {st} {resp[:100]!r}")
    print(f"limits: 413 over max-body, 400 for {len(cases)} unparseable bodies")


def cmd_rate(base):
    codes = [req(base, "/healthz")[0] for _ in range(12)]
    if codes[:3] != [200, 200, 200] or 429 not in codes:
        fail(f"rate limit: {codes}")
    st, hd, _ = req(base, "/healthz")
    if st == 429 and hd.get("Retry-After") != "1":
        fail("429 without Retry-After")
    print(f"rate: {codes.count(429)} of 12 refused with 429")


def raw(host, port, payload, timeout=3):
    s = socket.create_connection((host, port), timeout=timeout)
    out = b""
    try:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before reading everything
        while True:
            try:
                c = s.recv(65536)
            except (socket.timeout, OSError):
                break
            if not c:
                break
            out += c
        return out
    finally:
        s.close()


def cmd_fuzz(base, n):
    u = urllib.parse.urlparse(base)
    rnd = random.Random(7)
    templates = [
        lambda: bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 400))),
        lambda: b"GET " + bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 60))) + b" HTTP/1.1\r\n\r\n",
        lambda: b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n{\"a\":",
        lambda: b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        lambda: b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
        lambda: b"GET /api/v1/tables/" + bytes(rnd.choice(b"%./\\\x00ab") for _ in range(30)) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        lambda: b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        lambda: b"GET / HTTP/1.1\r\n" + b"X-A: " + b"b" * 100000 + b"\r\n\r\n",
        lambda: b"BREW /coffee HTCPCP/1.0\r\n\r\n",
        lambda: b"GET /api/v1/tables/production.parking_entry/rows?where=" +
                urllib.parse.quote(bytes(rnd.getrandbits(8) for _ in range(40))).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        lambda: b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" +
                b"b" * rnd.randint(0, 300) + b"\r\nContent-Length: 20\r\n\r\n--bbbb\r\n\r\n\r\n--bb",
        lambda: b"GET /api/v1/tables/production.parking_entry/image?column=image&where=" +
                urllib.parse.quote("eventId = '" + "x" * rnd.randint(0, 50)).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    statuses = {}
    for i in range(n):
        out = raw(u.hostname, u.port, templates[i % len(templates)]())
        code = out[9:12].decode("latin1") if out.startswith(b"HTTP/1.") else "closed"
        statuses[code] = statuses.get(code, 0) + 1
        if code.startswith("5") and code != "503":
            fail(f"request {i}: server error {out[:200]!r}")
    st, _, _ = req(base, "/healthz")
    if st != 200:
        fail(f"after fuzzing /healthz answers {st}")
    print(f"fuzz: {n} malformed requests, answers {sorted(statuses.items())}, still healthy")


def post(base, token, body, ct):
    return req(base, "/v1/events", data=body, headers={"Authorization": "Bearer " + token, "Content-Type": ct})


def cmd_ingest(base, token, events, truth, out):
    lines = load_events(events)
    tr = [json.loads(l) for l in open(truth)]
    # parseable events with an eventId (what idempotent retries are keyed on)
    keep = [(l, t) for l, t in zip(lines, tr) if t.get("truth", t.get("rule")) not in ("malformed-json", "invalid-utf8", "parse:syntax", "parse:invalid-utf8")
            and '"eventId":' in l]
    if len(keep) < 32:
        fail(f"only {len(keep)} parseable events")
    acks = {}
    # 10 single JSON events (image inline as base64)
    for i, (l, _) in enumerate(keep[:10]):
        st, _, body = post(base, token, l.encode("utf-8", "surrogateescape"), "application/json")
        if st != 202:
            fail(f"single event {i}: {st} {body[:200]!r}")
        acks[i] = json.loads(body)["events"][0]
    # one NDJSON batch of 20
    batch = "\n".join(l for l, _ in keep[10:30]).encode("utf-8", "surrogateescape") + b"\n"
    st, _, body = post(base, token, batch, "application/x-ndjson")
    if st != 202:
        fail(f"NDJSON batch: {st} {body[:200]!r}")
    bj = json.loads(body)
    for k, e in enumerate(bj["events"]):
        acks[10 + k] = e
    # multipart: JSON part + image file part
    for j in (30, 31):
        ev = json.loads(keep[j][0])
        img = base64.b64decode(ev.pop("image")) if ev.get("image") else None
        bnd = "firnboundary%d" % j
        parts = [f'--{bnd}\r\nContent-Disposition: form-data; name="event"\r\nContent-Type: application/json\r\n\r\n'.encode()
                 + json.dumps(ev).encode() + b"\r\n"]
        if img is not None:
            parts.append(f'--{bnd}\r\nContent-Disposition: form-data; name="image"; filename="frame.jpg"\r\n'
                         f"Content-Type: image/jpeg\r\n\r\n".encode() + img + b"\r\n")
        mp = b"".join(parts) + f"--{bnd}--\r\n".encode()
        st, _, body = post(base, token, mp, f"multipart/form-data; boundary={bnd}")
        if st != 202:
            fail(f"multipart: {st} {body[:200]!r}")
        acks[j] = json.loads(body)["events"][0]
    # duplicates of the simulator's own (exact repeats) are acknowledged, not appended again
    # (the simulator's duplicates alternate exact repeats, which ingest acknowledges
    # without appending, and same-id conflicts, which it accepts for the duplicate rule)
    sim_dups = sum(1 for i in range(32) if keep[i][1].get("truth") in ("unique", "duplicate")
                   and not keep[i][1].get("variant", "").startswith("conflict"))
    ndup = sum(1 for a in acks.values() if a.get("duplicate"))
    if ndup != sim_dups:
        fail(f"{ndup} acknowledged as duplicates, simulator repeated {sim_dups}")
    # retries: the same single events and the same batch again: all duplicates, same offsets
    for i, (l, _) in enumerate(keep[:10]):
        st, _, body = post(base, token, l.encode("utf-8", "surrogateescape"), "application/json")
        e = json.loads(body)["events"][0]
        if st != 202 or not e.get("duplicate") or (e["partition"], e["offset"]) != (acks[i]["partition"], acks[i]["offset"]):
            fail(f"retry {i}: {st} {e} vs {acks[i]}")
    st, _, body = post(base, token, batch, "application/x-ndjson")
    rb = json.loads(body)
    if st != 202 or rb["accepted"] != 0 or rb["duplicates"] != 20:
        fail(f"batch retry: {st} {rb}")
    # a different payload under an eventId already used is accepted (the pipeline judges it)
    g = [i for i in range(32) if keep[i][1]["truth"] == "good"][0]
    ev = json.loads(keep[g][0])
    ev["slotId"] = 1 if ev.get("slotId") != 1 else 2
    st, _, body = post(base, token, json.dumps(ev).encode(), "application/json")
    reused = json.loads(body)["events"][0]
    if st != 202 or reused.get("duplicate"):
        fail(f"changed payload under a used eventId: {st} {body!r}")
    # one NDJSON batch mixing known events, a new one and that new one repeated:
    # the known ones and the repeat are duplicates (the repeat with the new one's
    # offsets), and a retry of the whole batch appends nothing
    g2 = [i for i in range(10) if keep[i][1]["truth"] == "good" and i != g][0]
    x = json.loads(keep[g2][0])
    x["slotId"] = 1 if x.get("slotId") != 1 else 2
    xl = json.dumps(x)
    mixed = [keep[0][0], xl, keep[1][0], xl]
    mixed_body = "\n".join(mixed).encode("utf-8", "surrogateescape") + b"\n"
    st, _, body = post(base, token, mixed_body, "application/x-ndjson")
    mb = json.loads(body)
    me = mb["events"]
    at = lambda e: (e["partition"], e["offset"])
    if (st != 202 or mb["accepted"] != 1 or mb["duplicates"] != 3 or me[1].get("duplicate")
            or not all(me[k].get("duplicate") for k in (0, 2, 3)) or at(me[0]) != at(acks[0])
            or at(me[2]) != at(acks[1]) or at(me[3]) != at(me[1])):
        fail(f"mixed batch: {st} {mb}")
    st, _, body = post(base, token, mixed_body, "application/x-ndjson")
    rb = json.loads(body)
    if st != 202 or rb["accepted"] != 0 or [at(e) for e in rb["events"]] != [at(e) for e in me]:
        fail(f"mixed batch retry: {st} {rb}")
    posted = []
    for i in range(32):
        t = keep[i][1]
        posted.append({"line": i, "truth": t.get("truth", t.get("rule")), "eventId": json.loads(keep[i][0]).get("eventId"),
                       "duplicate": bool(acks[i].get("duplicate"))})
    json.dump({"posted": posted, "reused_id": ev.get("eventId"), "first": keep[9 if g != 9 else 8][0],
               "mixed": mixed, "mixed_acks": [at(e) for e in me], "mixed_id": x.get("eventId")}, open(out, "w"))
    print(f"ingest: 32 events (10 single, 20 NDJSON, 2 multipart), {ndup} repeats acknowledged; "
          f"30 retries acknowledged as duplicates with their first offsets; a batch mixing known, "
          f"new and repeated events appended the new one once")


def cmd_retry(base, token, events, out):
    info = json.load(open(out))
    first = info["first"]
    st, _, body = post(base, token, first.encode("utf-8", "surrogateescape"), "application/json")
    if st != 202 or not json.loads(body)["events"][0].get("duplicate"):
        fail(f"retry after restart: {st} {body!r}")
    mixed_body = "\n".join(info["mixed"]).encode("utf-8", "surrogateescape") + b"\n"
    st, _, body = post(base, token, mixed_body, "application/x-ndjson")
    rb = json.loads(body)
    if st != 202 or rb["accepted"] != 0 or [[e["partition"], e["offset"]] for e in rb["events"]] != info["mixed_acks"]:
        fail(f"mixed batch retry after restart: {st} {rb}")
    print("retries after a restart (a single event, the mixed batch): acknowledged as duplicates")


def cmd_drained(before, after, out):
    info = json.load(open(out))
    prod = lambda d: scan(d, "production.parking_entry") + scan(d, "production.parking_exit")
    untr = lambda d: scan(d, "staging.parking_entry_untrusted") + scan(d, "staging.parking_exit_untrusted")
    pb, pa, ub, ua = prod(before), prod(after), untr(before), untr(after)
    appended = [p for p in info["posted"] if not p["duplicate"]]
    good = [p for p in appended if p["truth"] == "good"]
    bad = [p for p in appended if p["truth"] != "good"]
    # the reused eventId (a changed payload) is judged by the duplicate rule: untrusted
    if len(pa) - len(pb) != len(good):
        fail(f"production grew by {len(pa) - len(pb)}, {len(good)} good events were posted")
    if len(ua) - len(ub) != len(bad) + 2:
        fail(f"untrusted grew by {len(ua) - len(ub)}, {len(bad)} bad events + 2 reused ids were posted")
    ids = [r["eventId"] for r in pa]
    for p in good:
        if ids.count(p["eventId"]) != 1:
            fail(f"{p['eventId']} is {ids.count(p['eventId'])} times in production")
    reused = [r for r in ua if r["eventId"] == info["reused_id"] and "duplicate" in (r["failed_rules"] or "")]
    if len(reused) != 1:
        fail(f"the reused eventId is in untrusted {len(reused)} times")
    mixed = [r for r in ua if r["eventId"] == info["mixed_id"] and "duplicate" in (r["failed_rules"] or "")]
    if len(mixed) != 1:
        fail(f"the mixed batch's reused eventId is in untrusted {len(mixed)} times")
    print(f"drained: {len(good)} good events once each in production, {len(bad)} bad + 2 reused ids in untrusted")


def cmd_dom(domfile, scandir, page):
    dom = open(domfile, encoding="utf-8").read()
    import re
    errs = re.search(r'<div id="errors"[^>]*>(.*?)</div>', dom, re.S)
    if errs and errs.group(1).strip():
        fail(f"JS errors: {errs.group(1)[:500]}")
    if f'data-ready="{page}"' not in dom:
        fail(f"page {page} did not finish loading")
    if page == "overview":
        commits = scan(scandir, "firn.commits")
        for t in sorted({c["table_name"] for c in commits}):
            pts = re.findall(r'<circle class="pt"[^>]*data-table="%s" data-rows="(\d+)"' % re.escape(t), dom)
            want = [c for c in sorted(commits, key=lambda c: c["committed_at"]) if c["table_name"] == t]
            if len(pts) != len(want):
                fail(f"chart: {len(pts)} points for {t}, firn.commits has {len(want)} rows")
            n = len(scan(scandir, t))
            if int(pts[-1]) != n:
                fail(f"chart: last point of {t} is {pts[-1]}, firn scan counts {n}")
        for t in TABLES:
            m = re.search(r'<tr data-table="%s"><td><a[^>]*>[^<]*</a></td><td class="num" data-count="rows">([\d,]+)</td>' % re.escape(t), dom)
            if not m or int(m.group(1).replace(",", "")) != len(scan(scandir, t)):
                fail(f"overview table count of {t}: {m and m.group(1)} vs scan {len(scan(scandir, t))}")
        print(f"dom overview: chart points match firn.commits, counts match firn scan")
    elif page == "table":
        snaps = re.findall(r'<tr data-snapshot="(\d+)"', dom)
        if not snaps:
            fail("table page lists no snapshots")
        print(f"dom table: {len(snaps)} snapshots listed")
    elif page == "data":
        nat = re.findall(r'data-natural="([^"]+)"', dom)
        rows = scan(scandir, "production.parking_entry")
        want = f'{rows[0]["image_width"]}x{rows[0]["image_height"]}'
        if not nat or any(x != want for x in nat):
            fail(f"images decoded as {nat}, want {want}")
        print(f"dom data: {len(nat)} camera images decoded at {want}")
    elif page == "untrusted":
        rules = re.findall(r'<tr data-rule="([^"]+)"', dom)
        if not rules:
            fail("no rule groups")
        print(f"dom untrusted: {len(rules)} rule groups")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"api": cmd_api, "auth": cmd_auth, "auth-read": cmd_auth_read, "limits": cmd_limits, "rate": cmd_rate,
     "fuzz": lambda b, n: cmd_fuzz(b, int(n)), "ingest": cmd_ingest, "retry": cmd_retry,
     "drained": cmd_drained, "dom": cmd_dom}[cmd](*args)
