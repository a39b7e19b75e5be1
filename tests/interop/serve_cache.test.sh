#!/usr/bin/env bash
# serve_cache.test.sh - firn serve keeps each table's parsed metadata and the
# pages derived from it (summary, detail, snapshots, history, refs, files,
# overview series, firn.commits) per metadata location: a commit made while the
# server runs is seen by the very next request. Checked against the metadata
# file the catalog points at (read by Python, not by firn): snapshot counts,
# history, current snapshot, data files and the overview's series, before and
# after more commits, and again when asked twice (from the cache); 8 readers
# during the commits; the background refresher loads new metadata ahead.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=$WORK/serve_cache
mkdir -p "$D"
SETS=(--set stream.uri="spool:$D/spool" --set sim.image-width=48 --set sim.image-height=32
      --set pipeline.commit-interval=100ms)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null' EXIT

cat >"$D/compare.py" <<'PY'
import json, sqlite3, sys, urllib.request
base, db, table = sys.argv[1], sys.argv[2], sys.argv[3]
ns, name = table.rsplit(".", 1)
loc = sqlite3.connect(db).execute(
    "select metadata_location from iceberg_tables where table_namespace=? and table_name=?",
    (ns, name)).fetchone()[0]
md = json.load(open(loc[5:] if loc.startswith("file:") else loc))
def get(path):
    with urllib.request.urlopen(base + path) as r:
        return json.load(r)
for attempt in range(2):  # the second answer comes from the cache
    t = get("/api/v1/tables/" + table)
    assert t["metadata_location"] == loc, (t["metadata_location"], loc)
    cur_id = md.get("current-snapshot-id", -1)
    assert t["current_snapshot_id"] == (None if cur_id == -1 else cur_id), (t["current_snapshot_id"], cur_id)
    assert len(md["snapshots"]) > 0, "the table has no snapshot: nothing to compare"
    assert t["snapshots"] == len(md["snapshots"])
    s = get("/api/v1/tables/%s/snapshots?limit=3" % table)
    assert s["total"] == len(md["snapshots"])
    want = [x["snapshot-id"] for x in md["snapshots"]][::-1][:3]
    assert [x["snapshot_id"] for x in s["snapshots"]] == want, (s["snapshots"], want)
    h = get("/api/v1/tables/%s/history" % table)["history"]
    assert [x["snapshot_id"] for x in h] == [x["snapshot-id"] for x in md["snapshot-log"]]
    cur = [x for x in md["snapshots"] if x["snapshot-id"] == md["current-snapshot-id"]][0]
    f = get("/api/v1/tables/%s/files" % table)
    assert len(f["files"]) == int(cur["summary"]["total-data-files"]), (len(f["files"]), cur["summary"])
    assert sum(x["record_count"] for x in f["files"]) == int(cur["summary"]["total-records"])
    o = get("/api/v1/overview")
    series = o["snapshot_series"][table]
    assert len(series) == len(md["snapshot-log"]), (len(series), len(md["snapshot-log"]))
    assert series[-1][1] == int(cur["summary"]["total-records"])
    tabs = {x["name"]: x for x in o["tables"]}
    assert tabs[table]["rows"] == int(cur["summary"]["total-records"])
print(len(md["snapshots"]))
PY

cat >"$D/burst.py" <<'PY'
# 8 threads fetch every cached page of every table until told to stop (a file
# appears): each answer must be 200 and JSON; prints how many were made
import json, os, sys, threading, urllib.request
base, stop = sys.argv[1], sys.argv[2]
tables = [t["name"] for t in json.load(urllib.request.urlopen(base + "/api/v1/tables"))["tables"]]
paths = ["/api/v1/overview", "/api/v1/tables", "/api/v1/commits"]
for t in tables:
    paths += ["/api/v1/tables/" + t + s for s in
              ("", "/snapshots?limit=5", "/history", "/refs", "/files", "/partitions", "/rows?limit=3")]
bad, done = [], [0]
def run(k):
    i = k
    while not os.path.exists(stop) and not bad:
        p = paths[i % len(paths)]
        i += 1
        try:
            with urllib.request.urlopen(base + p) as r:
                json.load(r)
            done[0] += 1
        except Exception as e:
            bad.append("%s: %s" % (p, e))
th = [threading.Thread(target=run, args=(k,)) for k in range(8)]
for x in th: x.start()
for x in th: x.join()
if bad: sys.exit("\n".join(bad[:5]))
print(done[0])
PY

check "firn run commits 120 simulated events" \
    "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --sim-events 120 --seed 3 --until-drained
"$FIRN" --warehouse "$D/wh" serve --listen 127.0.0.1:0 "${SETS[@]}" --set server.state-dir="$D/state" \
    >"$D/serve.out" 2>"$D/serve.log" &
SPID=$!
for i in $(seq 100); do grep -q listening "$D/serve.out" 2>/dev/null && break; sleep 0.05; done
BASE=$(sed -n 's/^firn serve: listening on \(http:[^ ]*\)\/$/\1/p' "$D/serve.out")
check "firn serve starts" test -n "$BASE"
T=production.parking_entry
check "pages match the metadata file (twice: cold, then cached)" "$PY" "$D/compare.py" "$BASE" "$D/wh/catalog.db" "$T"
N1=$("$PY" "$D/compare.py" "$BASE" "$D/wh/catalog.db" "$T" 2>/dev/null || echo 0)
"$PY" "$D/burst.py" "$BASE" "$D/stop" >"$D/burst.out" 2>&1 &
BURST=$!
check "firn run commits 120 more events while the server runs" \
    "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --sim-events 240 --seed 3 --until-drained
touch "$D/stop"
wait "$BURST"
BRC=$?
check "8 clients reading every page meanwhile got 200s and JSON ($(tail -1 "$D/burst.out") requests)" \
    test "$BRC" = 0 -a -s "$D/burst.out"
[ "$BRC" = 0 ] || cat "$D/burst.out"
# the refresher: tables asked for in the last minute are loaded ahead after a
# commit (a counter in /metrics); no request comes between these commits and the check
loads() { curl -s "$BASE/metrics" | sed -n 's/^firn_api_metadata_loads_total{by="refresher"} \([0-9]*\).*/\1/p'; }
R0=$(loads); R0=${R0:-0}
check "firn run commits 120 more events, no request meanwhile" \
    "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --sim-events 360 --seed 3 --until-drained
refreshed() {
    # /metrics itself loads every table's metadata (as a request): give the
    # refresher (every 200 ms) 2 s to come first before asking
    sleep 2
    local i n
    for i in $(seq 150); do
        n=$(loads)
        [ "${n:-0}" -gt "$R0" ] && return 0
        sleep 0.2
    done
    curl -s "$BASE/metrics" | grep firn_api_metadata_loads; return 1
}
check "the refresher loaded committed metadata ahead of requests" refreshed
check "after the commits the pages match the new metadata file" "$PY" "$D/compare.py" "$BASE" "$D/wh/catalog.db" "$T"
N2=$("$PY" "$D/compare.py" "$BASE" "$D/wh/catalog.db" "$T" 2>/dev/null || echo 0)
check "the table has more snapshots than before ($N1 -> $N2)" test "$N2" -gt "$N1"
check "firn.commits pages follow too" "$PY" "$D/compare.py" "$BASE" "$D/wh/catalog.db" firn.commits
check "the server is still up" kill -0 "$SPID"
stop_server() { kill -TERM "$SPID" && wait "$SPID"; }
stop_server
SRC=$?
SPID=
check "firn serve stops cleanly on SIGTERM (under ASan: no leak report)" test "$SRC" = 0
check "no sanitizer report in the server's log" bash -c "! grep -E 'Sanitizer|runtime error' '$D/serve.log'"
finish
