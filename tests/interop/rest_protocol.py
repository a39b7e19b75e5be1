"""rest_protocol.py BASE: protocol checks against firn's REST catalog at BASE
(http://127.0.0.1:PORT/iceberg) with plain HTTP: every table requirement answers
409 CommitFailedException when stale and changes nothing, and passes when
current; transactions/commit is all or none; metrics 204; register, drop with
purge, 400/404/422 answers. Prints "ok NAME" lines; exits 1 on the first failure.
$FIRN_TEST_REST_TOKEN, when set, is sent as the bearer token.
"""
import json
import os
import sys
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/") + "/v1"


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if os.environ.get("FIRN_TEST_REST_TOKEN"):
        headers["Authorization"] = "Bearer " + os.environ["FIRN_TEST_REST_TOKEN"]
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def expect(name, got, want):
    if got != want:
        print(f"FAIL {name}: got {got!r}, want {want!r}")
        sys.exit(1)
    print(f"ok {name}")


SCHEMA = {"type": "struct", "schema-id": 0, "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "s", "type": "string", "required": False}]}

expect("create namespace", call("POST", "/namespaces", {"namespace": ["proto"]})[0], 200)
for t in ("r", "x", "y"):
    st, _ = call("POST", "/namespaces/proto/tables", {"name": t, "schema": SCHEMA})
    expect(f"create table {t}", st, 200)
st, lt = call("GET", "/namespaces/proto/tables/r")
md, loc = lt["metadata"], lt["metadata-location"]


def commit(table, reqs, updates):
    return call("POST", f"/namespaces/proto/tables/{table}",
                {"requirements": reqs, "updates": updates})


# a snapshot-less table has no main; give it a ref to assert on via a branch of nothing? No:
# assert-ref-snapshot-id with null passes while main is absent.
current = {
    "assert-table-uuid": {"uuid": md["table-uuid"]},
    "assert-ref-snapshot-id": {"ref": "main", "snapshot-id": None},
    "assert-last-assigned-field-id": {"last-assigned-field-id": md["last-column-id"]},
    "assert-current-schema-id": {"current-schema-id": md["current-schema-id"]},
    "assert-last-assigned-partition-id": {"last-assigned-partition-id": md["last-partition-id"]},
    "assert-default-spec-id": {"default-spec-id": md["default-spec-id"]},
    "assert-default-sort-order-id": {"default-sort-order-id": md["default-sort-order-id"]},
}
stale = {
    "assert-create": {},
    "assert-table-uuid": {"uuid": "00000000-0000-4000-8000-000000000000"},
    "assert-ref-snapshot-id": {"ref": "main", "snapshot-id": 12345},
    "assert-last-assigned-field-id": {"last-assigned-field-id": md["last-column-id"] + 1},
    "assert-current-schema-id": {"current-schema-id": md["current-schema-id"] + 1},
    "assert-last-assigned-partition-id": {"last-assigned-partition-id": md["last-partition-id"] + 1},
    "assert-default-spec-id": {"default-spec-id": md["default-spec-id"] + 1},
    "assert-default-sort-order-id": {"default-sort-order-id": md["default-sort-order-id"] + 1},
}
setp = [{"action": "set-properties", "updates": {"touched": "yes"}}]
for typ, fields in stale.items():
    st, body = commit("r", [dict(type=typ, **fields)], setp)
    expect(f"stale {typ} answers 409 CommitFailedException",
           (st, body["error"]["type"], body["error"]["code"]), (409, "CommitFailedException", 409))
    expect(f"stale {typ} changed nothing", call("GET", "/namespaces/proto/tables/r")[1]["metadata-location"], loc)
st, body = commit("r", [dict(type=t, **f) for t, f in current.items()], setp)
expect("all current requirements commit", (st, body["metadata"]["properties"].get("touched")), (200, "yes"))
expect("the commit moved the location", body["metadata-location"] != loc, True)
st, body = commit("r", [{"type": "assert-bogus"}], setp)
expect("unknown requirement is 400", (st, body["error"]["type"]), (400, "BadRequestException"))
st, body = commit("r", [], [{"action": "set-current-schema", "schema-id": 42}])
expect("refused update is 400", st, 400)

# transactions: all or none
locs = {t: call("GET", f"/namespaces/proto/tables/{t}")[1]["metadata-location"] for t in ("x", "y")}
uuid_x = call("GET", "/namespaces/proto/tables/x")[1]["metadata"]["table-uuid"]
tx = {"table-changes": [
    {"identifier": {"namespace": ["proto"], "name": "x"},
     "requirements": [{"type": "assert-table-uuid", "uuid": uuid_x}],
     "updates": [{"action": "set-properties", "updates": {"tx": "1"}}]},
    {"identifier": {"namespace": ["proto"], "name": "y"},
     "requirements": [{"type": "assert-current-schema-id", "current-schema-id": 9}],
     "updates": [{"action": "set-properties", "updates": {"tx": "1"}}]}]}
st, body = call("POST", "/transactions/commit", tx)
expect("transaction with one stale table is 409", (st, body["error"]["type"]), (409, "CommitFailedException"))
expect("... and no table changed",
       {t: call("GET", f"/namespaces/proto/tables/{t}")[1]["metadata-location"] for t in ("x", "y")}, locs)
tx["table-changes"][1]["requirements"][0]["current-schema-id"] = 0
st, _ = call("POST", "/transactions/commit", tx)
expect("transaction commits", st, 204)
expect("... both tables", [call("GET", f"/namespaces/proto/tables/{t}")[1]["metadata"]["properties"].get("tx")
                           for t in ("x", "y")], ["1", "1"])
st, body = call("POST", "/transactions/commit", {"table-changes": [tx["table-changes"][0], tx["table-changes"][0]]})
expect("transaction naming a table twice is 400", st, 400)

# metrics, register, drop with purge
st, _ = call("POST", "/namespaces/proto/tables/x/metrics",
             {"report-type": "commit-report", "table-name": "proto.x", "snapshot-id": 1, "sequence-number": 1,
              "operation": "append", "metrics": {}})
expect("metrics report accepted", st, 204)
expect("metrics for a missing table is 404", call("POST", "/namespaces/proto/tables/zz/metrics", {})[0], 404)
yloc = call("GET", "/namespaces/proto/tables/y")[1]["metadata-location"]
expect("drop y (no purge)", call("DELETE", "/namespaces/proto/tables/y")[0], 204)
st, body = call("POST", "/namespaces/proto/register", {"name": "y2", "metadata-location": yloc})
expect("register adopts its metadata file", (st, body["metadata-location"] == yloc), (200, True))
st, body = call("POST", "/namespaces/proto/register", {"name": "y3", "metadata-location": yloc + ".missing"})
expect("register of a missing file is 404", st, 404)
xmd = call("GET", "/namespaces/proto/tables/x")[1]["metadata"]
xdir = xmd["location"].removeprefix("file:")
expect("x has files before purge", len(os.listdir(xdir + "/metadata")) > 0, True)
expect("drop x with purge", call("DELETE", "/namespaces/proto/tables/x?purgeRequested=true")[0], 204)
left = [os.path.join(d, f) for d, _, fs in os.walk(xdir) for f in fs]
expect("purge removed every file of x", left, [])
expect("drop of a missing table is 404", call("DELETE", "/namespaces/proto/tables/x")[0], 404)

# other answers
st, body = call("POST", "/namespaces/proto/properties", {"updates": {"a": "1"}, "removals": ["a"]})
expect("a key both set and removed is 422", st, 422)
expect("a namespace level with a dot is 400", call("GET", "/namespaces/a.b")[0], 400)
expect("a body that is not JSON is 400", call("POST", "/namespaces", None)[0], 400)
expect("an unknown route is 404", call("GET", "/nothing/here")[0], 404)
st, body = call("GET", "/namespaces?parent=nope")
expect("listing under a missing parent is 404", (st, body["error"]["type"]), (404, "NoSuchNamespaceException"))
for t in ("r", "y2"):
    call("DELETE", f"/namespaces/proto/tables/{t}")
expect("drop namespace", call("DELETE", "/namespaces/proto")[0], 204)
