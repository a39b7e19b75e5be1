"""serve_rest_check.py MODE ...: checks of the Iceberg REST catalog that `firn serve`
and `firn run --listen` mount at /iceberg (serve_rest.test.sh).

  live BASE DB PID        while process PID (firn run) lives: the table
                          production.parking_entry seen through BASE has the metadata
                          location and current snapshot the SQL catalog DB has
  expect DB NS TABLE      print what iceberg-js must see of a table in the SQL catalog
                          (JSON: table-uuid, snapshot count, last-sequence-number)
  prop DB NS TABLE KEY    print a table property, read from the SQL catalog's metadata file
  auth BASE WTOK RTOK     no token -> 401 on writes, read-only token -> 403, write token
                          passes, reads open (server.read-auth false); errors in the
                          Iceberg error model
  auth-read BASE RTOK     server.read-auth true: reads need a token, a read-only one
                          passes, a metrics report passes with it, a write is 403
  limits BASE WTOK LIMIT  a body over LIMIT bytes answers 413 (by Content-Length and
                          chunked), in the Iceberg error model
  fuzz BASE WTOK N        garbage paths, escapes, methods and bodies under /iceberg on
                          raw sockets: every answer is a 4xx (the listed garbage) or at
                          least no 5xx (N random ones), and the server keeps answering
"""
import gzip
import json
import os
import random
import socket
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def call(base, method, path, body=None, token=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            b = r.read()
            return r.status, json.loads(b) if b else None
    except urllib.error.HTTPError as e:
        b = e.read()
        try:
            return e.code, json.loads(b) if b else None
        except ValueError:
            return e.code, b


def sql_location(db, ns, table):
    con = sqlite3.connect(db, timeout=10)
    try:
        row = con.execute("SELECT metadata_location FROM iceberg_tables WHERE table_namespace=? "
                          "AND table_name=?", (ns, table)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def read_metadata(loc):
    path = loc.removeprefix("file:")
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)


def is_error_model(body, status):
    return (isinstance(body, dict) and isinstance(body.get("error"), dict)
            and body["error"].get("code") == status and isinstance(body["error"].get("type"), str)
            and isinstance(body["error"].get("message"), str))


def expect_status(name, got, want, error_type=None):
    st, body = got
    if st != want:
        fail(f"{name}: status {st}, want {want}: {body}")
    if want >= 400 and not is_error_model(body, want):
        fail(f"{name}: not in the Iceberg error model: {body}")
    if error_type and body["error"]["type"] != error_type:
        fail(f"{name}: error type {body['error']['type']}, want {error_type}")
    print(f"ok {name}")


def exited_soon(pid, secs=20):
    end = time.time() + secs
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        time.sleep(0.05)
    return False


def live(base, db, pid):
    pid = int(pid)
    matched, snaps, seen_alive = 0, set(), 0
    deadline = time.time() + 60
    path = "/v1/namespaces/production/tables/parking_entry"
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        before = sql_location(db, "production", "parking_entry")
        if before is None:
            time.sleep(0.05)
            continue
        try:
            st, body = call(base, "GET", path)
        except (urllib.error.URLError, ConnectionError) as e:
            # firn run stops its server once drained, before it exits
            if exited_soon(pid):
                break
            fail(f"load table through REST while firn run commits: {e}")
        after = sql_location(db, "production", "parking_entry")
        if st != 200:
            fail(f"load table through REST while firn run commits: {st} {body}")
        seen_alive += 1
        if before == after:  # no commit in between: REST must show exactly this
            if body["metadata-location"] != before:
                fail(f"REST has {body['metadata-location']}, the SQL catalog {before}")
            want = read_metadata(before).get("current-snapshot-id")
            got = body["metadata"].get("current-snapshot-id")
            if got != want:
                fail(f"REST current snapshot {got}, the SQL catalog's metadata {want}")
            matched += 1
            if want is not None:
                snaps.add(want)
        time.sleep(0.05)
    if not snaps:
        fail(f"no snapshot of production.parking_entry seen through REST while firn run ran "
             f"({seen_alive} loads, {matched} stable)")
    print(f"ok {matched} loads while firn run ran matched the SQL catalog; "
          f"{len(snaps)} distinct snapshots seen")


def expect_js(db, ns, table):
    loc = sql_location(db, ns, table)
    md = read_metadata(loc)
    print(json.dumps({"uuid": md["table-uuid"], "snapshots": len(md.get("snapshots", [])),
                      "seq": md.get("last-sequence-number")}))


def prop(db, ns, table, key):
    md = read_metadata(sql_location(db, ns, table))
    print(md.get("properties", {}).get(key, ""))


SCHEMA = {"type": "struct", "schema-id": 0,
          "fields": [{"id": 1, "name": "id", "type": "long", "required": True}]}


def auth(base, wtok, rtok):
    ns = {"namespace": ["authz"]}
    expect_status("GET config without a token (reads are open)", call(base, "GET", "/v1/config"), 200)
    expect_status("list namespaces without a token", call(base, "GET", "/v1/namespaces"), 200)
    expect_status("create namespace without a token: 401",
                  call(base, "POST", "/v1/namespaces", ns), 401, "NotAuthorizedException")
    expect_status("create namespace with a wrong token: 401",
                  call(base, "POST", "/v1/namespaces", ns, token="nope"), 401)
    expect_status("create namespace with a read-only token: 403",
                  call(base, "POST", "/v1/namespaces", ns, token=rtok), 403, "ForbiddenException")
    expect_status("... nothing was created", call(base, "GET", "/v1/namespaces/authz"), 404)
    expect_status("create namespace with the write token",
                  call(base, "POST", "/v1/namespaces", ns, token=wtok), 200)
    expect_status("create table with a read-only token: 403",
                  call(base, "POST", "/v1/namespaces/authz/tables", {"name": "t", "schema": SCHEMA},
                       token=rtok), 403)
    expect_status("create table with the write token",
                  call(base, "POST", "/v1/namespaces/authz/tables", {"name": "t", "schema": SCHEMA},
                       token=wtok), 200)
    commit = {"requirements": [], "updates": [{"action": "set-properties", "updates": {"k": "v"}}]}
    tbl = "/v1/namespaces/authz/tables/t"
    expect_status("commit without a token: 401", call(base, "POST", tbl, commit), 401)
    expect_status("commit with a read-only token: 403", call(base, "POST", tbl, commit, token=rtok), 403)
    rename = {"source": {"namespace": ["authz"], "name": "t"},
              "destination": {"namespace": ["authz"], "name": "u"}}
    expect_status("rename with a read-only token: 403",
                  call(base, "POST", "/v1/tables/rename", rename, token=rtok), 403)
    expect_status("register with a read-only token: 403",
                  call(base, "POST", "/v1/namespaces/authz/register",
                       {"name": "r", "metadata-location": "/x"}, token=rtok), 403)
    expect_status("transactions/commit with a read-only token: 403",
                  call(base, "POST", "/v1/transactions/commit", {"table-changes": []}, token=rtok), 403)
    expect_status("drop table with a read-only token: 403", call(base, "DELETE", tbl, token=rtok), 403)
    expect_status("drop namespace without a token: 401",
                  call(base, "DELETE", "/v1/namespaces/authz"), 401)
    expect_status("namespace properties with a read-only token: 403",
                  call(base, "POST", "/v1/namespaces/authz/properties", {"updates": {"a": "b"}},
                       token=rtok), 403)
    expect_status("commit with the write token", call(base, "POST", tbl, commit, token=wtok), 200)
    st, body = call(base, "GET", tbl)
    if st != 200 or body["metadata"]["properties"].get("k") != "v":
        fail(f"the write token's commit is not visible: {st}")
    print("ok the write token's commit is visible to an anonymous read")
    expect_status("metrics report with a read-only token",
                  call(base, "POST", tbl + "/metrics",
                       {"report-type": "scan-report", "table-name": "authz.t", "snapshot-id": 1,
                        "filter": True, "schema-id": 0, "projected-field-ids": [1],
                        "projected-field-names": ["id"], "metrics": {}}, token=rtok), 204)
    expect_status("drop table with the write token", call(base, "DELETE", tbl, token=wtok), 204)
    # a read-only token gets 403 on ingest too (outside /iceberg: firn's error format)
    st, _ = call(base.removesuffix("/iceberg"), "POST", "/v1/events", raw=b"{}", token=rtok)
    if st != 403:
        fail(f"ingest with a read-only token: {st}, want 403")
    print("ok ingest with a read-only token: 403")


def auth_read(base, rtok):
    expect_status("read-auth: GET config without a token: 401", call(base, "GET", "/v1/config"), 401)
    expect_status("read-auth: list namespaces with a wrong token: 401",
                  call(base, "GET", "/v1/namespaces", token="nope"), 401)
    st, body = call(base, "GET", "/v1/namespaces", token=rtok)
    if st != 200 or ["production"] not in body["namespaces"]:
        fail(f"read-auth: list namespaces with the read-only token: {st} {body}")
    print("ok read-auth: the read-only token lists namespaces")
    expect_status("read-auth: load table with the read-only token",
                  call(base, "GET", "/v1/namespaces/production/tables/parking_entry", token=rtok), 200)
    req = urllib.request.Request(base + "/v1/namespaces/production/tables/parking_entry",
                                 method="HEAD")
    try:
        urllib.request.urlopen(req, timeout=10)
        fail("read-auth: HEAD without a token passed")
    except urllib.error.HTTPError as e:
        if e.code != 401:
            fail(f"read-auth: HEAD without a token: {e.code}")
    print("ok read-auth: HEAD without a token: 401")
    expect_status("read-auth: create namespace with the read-only token: 403",
                  call(base, "POST", "/v1/namespaces", {"namespace": ["ro"]}, token=rtok), 403)


def limits(base, wtok, limit):
    limit = int(limit)
    big = {"namespace": ["big"], "properties": {"pad": "x" * (limit + 10)}}
    expect_status("a create body over server.iceberg-max-body: 413",
                  call(base, "POST", "/v1/namespaces", big, token=wtok), 413)
    # chunked: no Content-Length, the limit applies while reading
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    body = json.dumps(big).encode()
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"POST /iceberg/v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + wtok.encode() + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    for i in range(0, len(body), 4096):
        c = body[i:i + 4096]
        s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    resp = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        resp += d
    s.close()
    status = int(resp.split(b" ", 2)[1])
    jb = json.loads(resp.split(b"\r\n\r\n", 1)[1] or b"null")
    if status != 413 or not is_error_model(jb, 413):
        fail(f"chunked body over the limit: {status} {jb}")
    print("ok a chunked body over server.iceberg-max-body: 413")
    st, _ = call(base, "GET", "/v1/namespaces/big", token=wtok)
    if st != 404:
        fail("the refused namespace exists")
    print("ok nothing of the refused bodies was created")
    # (property values hold at most 1000 bytes: many of them)
    small = {"namespace": ["small"], "properties": {f"p{i}": "x" * 900 for i in range(limit // 2 // 920)}}
    expect_status("a body under the limit passes", call(base, "POST", "/v1/namespaces", small,
                                                         token=wtok), 200)


def raw_request(host, port, data):
    s = socket.create_connection((host, port), timeout=15)
    try:
        s.sendall(data)
        resp = b""
        while True:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            resp += d
    finally:
        s.close()
    if not resp.startswith(b"HTTP/1."):
        return None, resp
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


GARBAGE_PATHS = [
    "/iceberg/../../../etc/passwd", "/iceberg/v1/../../etc/passwd", "/iceberg/v1/%2e%2e/%2e%2e/etc/passwd",
    "/iceberg/v1/namespaces/%2e%2e", "/iceberg/v1/namespaces/..%2f..%2fetc/tables/passwd",
    "/iceberg/v1/namespaces/%00", "/iceberg/v1/namespaces/a%00b/tables/t",
    "/iceberg/v1/namespaces/%1F", "/iceberg/v1/namespaces/a%1F%1Fb", "/iceberg/v1/namespaces/%ff%fe/tables/%c0%af",
    "/iceberg/v1/namespaces/%", "/iceberg/v1/namespaces/%zz/tables/%4", "/iceberg/v1/namespaces/a.b",
    "/iceberg/v1/namespaces/" + "a/" * 500, "/iceberg/v1/namespaces/" + "x" * 6000,
    "/iceberg/v1/namespaces/production/tables/" + "%1F" * 300, "/iceberg/v2/config", "/iceberg/config",
    "/iceberg/v1/config/extra", "/iceberg/v1/namespaces/production/tables/parking_entry/snapshots",
    "/iceberg/v1/nope/nope/nope/namespaces", "/iceberg/v1/namespaces/nope/tables/nope",
    "/iceberg/v1/namespaces?pageSize=-1", "/iceberg/v1/namespaces?pageSize=99999999999999999999999",
    "/iceberg/v1/namespaces?pageToken=%ff%00", "/iceberg/v1/namespaces?parent=%1F%1F",
    "/iceberg/v1/namespaces/production/tables?pageToken=zzz", "/iceberg/v1/namespaces/production\\tables",
]
WRITE_ROUTES = ["/iceberg/v1/namespaces", "/iceberg/v1/namespaces/production/properties",
                "/iceberg/v1/namespaces/production/tables", "/iceberg/v1/namespaces/production/register",
                "/iceberg/v1/namespaces/production/tables/parking_entry",
                "/iceberg/v1/namespaces/production/tables/parking_entry/metrics",
                "/iceberg/v1/tables/rename", "/iceberg/v1/transactions/commit"]
GARBAGE_BODIES = [b"", b"{", b"[]", b"null", b"\xff\xfe\x00", b'{"namespace":"x"}', b'{"namespace":[1,2]}',
                  b'{"namespace":[""]}', b'{"namespace":["a.b"]}', b"[" * 5000 + b"]" * 5000,
                  b'{"name":"..","schema":{}}', b'{"name":"x/../../y","schema":{"type":"struct","fields":[]}}',
                  b'{"requirements":[{"type":"assert-create"}],"updates":[{"action":"upgrade-format-version","format-version":99}]}',
                  b'{"requirements":null,"updates":[{"action":"add-schema"}]}',
                  b'{"table-changes":[{"identifier":{"namespace":["nope"],"name":"x"},"updates":[]}]}',
                  b'{"source":{"namespace":["production"],"name":"parking_entry"},"destination":{"namespace":["nope"],"name":"x"}}',
                  b'{"updates":{"a":1},"removals":"b"}', b'{"name":"r","metadata-location":"/etc/passwd"}',
                  b'{"name":"r","metadata-location":"../../../../etc/hostname"}']


def fuzz(base, wtok, n):
    u = urllib.parse.urlsplit(base)
    host, port = u.hostname, u.port
    auth = b"Authorization: Bearer " + wtok.encode() + b"\r\n"
    bad = []
    count = 0

    def send(method, path, body=None, want4xx=True):
        nonlocal count
        req = (method.encode() + b" " + path.encode("latin-1") + b" HTTP/1.1\r\nHost: x\r\n" + auth
               + b"Connection: close\r\n")
        if body is not None:
            req += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        req += b"\r\n" + (body or b"")
        st, rb = raw_request(host, port, req)
        count += 1
        if st is None:
            bad.append(f"{method} {path[:80]}: no HTTP answer")
        elif st >= 500 or (want4xx and not 400 <= st < 500):
            bad.append(f"{method} {path[:80]} {body[:40] if body else ''}: {st} {rb[:120]}")
        elif st >= 400 and method != "HEAD" and st not in (431,) and len(path) < 4000:
            try:
                j = json.loads(rb)
            except ValueError:
                j = None
            if not is_error_model(j, st):
                bad.append(f"{method} {path[:80]}: {st} not in the Iceberg error model: {rb[:120]}")

    for p in GARBAGE_PATHS:
        for m in ("GET", "HEAD", "DELETE"):
            send(m, p)
        send("PUT", p, b"{}")
    for p in WRITE_ROUTES:
        for b in GARBAGE_BODIES:
            try:
                obj = isinstance(json.loads(b), dict)
            except (ValueError, RecursionError):
                obj = False
            # the properties and metrics routes take any object (unknown fields are
            # ignored, a metrics report is accepted and dropped): no 5xx is enough
            lenient = obj and (p.endswith("/properties") or p.endswith("/metrics"))
            send("POST", p, b, want4xx=not lenient)
        send("PATCH", p, b"{}")
    rnd = random.Random(7)
    alphabet = "abz/._-%1F2e0%~?=&" + "".join(chr(c) for c in range(0x21, 0x7f))
    for _ in range(int(n)):
        path = "/iceberg/v1/" + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        m = rnd.choice(["GET", "HEAD", "POST", "DELETE"])
        body = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 200))) if m == "POST" else None
        send(m, path, body, want4xx=False)
    st, _ = call(base, "GET", "/v1/namespaces/production/tables/parking_entry")
    if st != 200:
        bad.append(f"after the fuzz loop the table does not load: {st}")
    for b in bad[:20]:
        print("BAD", b)
    if bad:
        fail(f"{len(bad)} of {count} garbage requests were answered wrongly")
    print(f"ok {count} garbage requests: no 5xx, listed garbage answered 4xx in the error model")


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"live": live, "expect": expect_js, "prop": prop, "auth": auth, "auth-read": auth_read,
     "limits": limits, "fuzz": fuzz}[mode](*args)


if __name__ == "__main__":
    main()
