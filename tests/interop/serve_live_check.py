"""serve_live_check.py - checks of serve_live.test.sh against a running `firn run --listen`.

  drained BASE N           wait until /api/v1/pipeline shows N committed rows, every
                           source partition at lag 0 and maintenance runs recorded
  dom DOMFILE BEFORE AFTER the overview's operations panels (chromium --dump-dom) show what
                           /metrics said before (BEFORE) and after (AFTER) the dump
  admin BASE ADMIN INGEST  the admin endpoints: 401, 403, 405, 404, maintenance run JSON
                           and its record in /metrics and /api/v1/pipeline
  publish BASE ADMIN INGEST NS SCANCMD...  POST /api/v1/admin/publish: tokens, dry run,
                           the fast-forward (SCANCMD prints main's rows of NS.a)
"""
import html
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request


def req(base, path, method="GET", token=None):
    r = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    if token:
        r.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_json(base, path, token=None):
    st, body = req(base, path, token=token)
    if st != 200:
        sys.exit(f"GET {path}: {st} {body}")
    return json.loads(body)


def metrics(text):
    """{(name, labels-text): value}, the last line of a series winning."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = re.match(r'^([a-z_]+)(\{.*\})? (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def labels(text):
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', text))


def series(ms, name):
    return {tuple(sorted(labels(k[1]).items())): v for k, v in ms.items() if k[0] == name}


def cmd_drained(base, n):
    n = int(n)
    deadline = time.time() + 60
    last = None
    while time.time() < deadline:
        p = get_json(base, "/api/v1/pipeline")
        lag = p["source_lag"]
        runs = sum(x.get("runs", 0) for x in p["maintenance"]["totals"])
        last = (p["ingest"]["rows_committed_total"], [x["records"] for x in lag], runs)
        if p["ingest"]["rows_committed_total"] >= n and lag and all(x["records"] == 0 for x in lag) \
                and runs > 0 and any(x.get("bytes_reclaimed", 0) > 0 for x in p["maintenance"]["totals"]):
            print(f"drained: {last[0]} rows, {len(lag)} partitions at lag 0, {runs} maintenance runs")
            return
        time.sleep(0.5)
    sys.exit(f"not drained after 60 s: rows, lags, runs = {last}")


def attrs(tag):
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def rows_with(dom, attr):
    return [attrs(t) for t in re.findall(r'<tr [^>]*%s="[^>]*>' % re.escape(attr), dom)]


def cmd_dom(domfile, before, after):
    dom = open(domfile, encoding="utf-8").read()
    errs = re.search(r'<div id="errors"[^>]*>(.*?)</div>', dom, re.S)
    if errs and errs.group(1).strip():
        sys.exit(f"page errors: {errs.group(1).strip()}")
    if 'data-ready="overview"' not in dom:
        sys.exit("the overview never finished loading")
    b, a = metrics(open(before).read()), metrics(open(after).read())
    # source lag: one row per topic/partition of /metrics, same value (drained: stable)
    want = series(a, "firn_source_lag_records")
    got = {(("partition", r["data-lag-partition"]), ("topic", r["data-lag-topic"])): float(r["data-lag"])
           for r in rows_with(dom, "data-lag-topic")}
    if not want or got != want:
        sys.exit(f"source lag panel {got} != /metrics {want}")
    # freshness per table: the gauge's value (no batch after the drain)
    want = {k: v for k, v in series(a, "firn_freshness_seconds").items() if k}
    got = {(("table", r["data-fresh-table"]),): float(r["data-seconds"])
           for r in rows_with(dom, "data-fresh-table")}
    if not want or set(got) != set(want) or any(abs(got[k] - want[k]) > 1e-3 for k in want):
        sys.exit(f"freshness panel {got} != /metrics {want}")
    # maintenance: every (table, op) of /metrics, runs and bytes between before and after
    wa, wb = series(a, "firn_maintenance_runs_total"), series(b, "firn_maintenance_runs_total")
    ba, bb = series(a, "firn_maintenance_bytes_reclaimed_total"), series(b, "firn_maintenance_bytes_reclaimed_total")
    got = {(("op", r["data-maint-op"]), ("table", r["data-maint-table"])): r for r in rows_with(dom, "data-maint-table")}
    if not wa or set(got) != set(wa):
        sys.exit(f"maintenance panel rows {sorted(got)} != /metrics {sorted(wa)}")
    for k, r in got.items():
        runs, by = float(r["data-runs"]), float(r["data-bytes"])
        if not (wb.get(k, 0) <= runs <= wa[k]) or not (bb.get(k, 0) <= by <= ba.get(k, 0)):
            sys.exit(f"maintenance {k}: runs {runs} bytes {by} not within /metrics "
                     f"[{wb.get(k, 0)}, {wa[k]}] [{bb.get(k, 0)}, {ba.get(k, 0)}]")
    reclaimed = sum(float(r["data-bytes"]) for r in got.values())
    if reclaimed <= 0:
        sys.exit("the maintenance panel shows nothing reclaimed")
    recent = rows_with(dom, "data-run-table")
    if not recent or any((("op", r["data-run-op"]), ("table", r["data-run-table"])) not in got for r in recent):
        sys.exit(f"last runs list {recent[:3]} is empty or names runs the totals lack")
    # ingest: rows committed = the registry's firn_rows_committed_total
    m = re.search(r'id="ingest-rate"[^>]*data-rows-total="(\d+)"|data-rows-total="(\d+)"[^>]*id="ingest-rate"', dom)
    total = sum(series(a, "firn_rows_committed_total").values())
    if not m or float(m.group(1) or m.group(2)) != total:
        sys.exit(f"ingest panel rows total {m and (m.group(1) or m.group(2))} != /metrics {total}")
    if '<svg class="chart"' not in dom or 'data-chart="ingest-rate"' not in dom:
        sys.exit("no ingest rate chart")
    # failed audits = firn_audit_failures_total from firn.commits
    m = re.search(r'id="audits"[^>]*data-failed="(\d+)"|data-failed="(\d+)"[^>]*id="audits"', dom)
    fa = sum(v for k, v in series(a, "firn_audit_failures_total").items())
    if not m or float(m.group(1) or m.group(2)) != fa:
        sys.exit(f"failed audits {m and (m.group(1) or m.group(2))} != /metrics {fa}")
    print(f"dom: {len(want)} freshness rows, {len(got)} maintenance rows ({reclaimed:.0f} bytes reclaimed), "
          f"{len(recent)} recent runs, lag table and totals match /metrics")


def cmd_admin(base, admin, ingest):
    path = "/api/v1/admin/maintain?table=production.parking_entry"
    checks = [("POST", None, 401), ("POST", "wrong-" + admin, 401), ("POST", ingest, 403),
              ("GET", admin, 405)]
    for method, tok, want in checks:
        st, body = req(base, path, method, tok)
        if st != want or "error" not in json.loads(body):
            sys.exit(f"{method} {path} with {tok!r}: {st} {body} (want {want})")
    st, body = req(base, "/api/v1/admin/nothing", "POST", admin)
    if st != 404:
        sys.exit(f"unknown admin path: {st}")
    st, body = req(base, "/api/v1/admin/maintain?table=production.nope", "POST", admin)
    if st != 404:
        sys.exit(f"maintain of a missing table: {st} {body}")
    st, body = req(base, "/api/v1/admin/maintain?table=production.parking_entry&dry_run=maybe", "POST", admin)
    if st != 400:
        sys.exit(f"bad dry_run: {st} {body}")
    before = series(metrics(req(base, "/metrics")[1]), "firn_maintenance_runs_total")
    key = (("op", "all"), ("table", "production.parking_entry"))
    st, body = req(base, path, "POST", admin)
    if st != 200:
        sys.exit(f"maintain with the admin token: {st} {body}")
    j = json.loads(body)
    if [t["table"] for t in j["tables"]] != ["production.parking_entry"] or j["dry_run"] is not False \
            or not all(k in j["tables"][0] for k in ("bytes_reclaimed", "snapshots_expired", "duration_ms")):
        sys.exit(f"maintain answer: {j}")
    after = series(metrics(req(base, "/metrics")[1]), "firn_maintenance_runs_total")
    if after.get(key, 0) != before.get(key, 0) + 1:
        sys.exit(f"/metrics runs of {key}: {before.get(key)} -> {after.get(key)}")
    p = get_json(base, "/api/v1/pipeline")
    if not any(r["table"] == "production.parking_entry" and r["op"] == "all" for r in p["maintenance"]["recent"]):
        sys.exit("the admin run is not in /api/v1/pipeline's recent runs")
    # every table (no ?table=)
    st, body = req(base, "/api/v1/admin/maintain?dry_run=true", "POST", admin)
    tables = {t["name"] for t in get_json(base, "/api/v1/tables")["tables"]}
    if st != 200 or {t["table"] for t in json.loads(body)["tables"]} != tables:
        sys.exit(f"maintain of every table: {st} {body[:300]}")
    print(f"admin: 401/403/405/404/400 as expected; maintain ran on 1 and dry-ran on {len(tables)} tables")


def cmd_publish(base, admin, ingest, ns, *scan):
    q = f"/api/v1/admin/publish?namespace={ns}&branch=dev"
    for tok, want in ((None, 401), (ingest, 403)):
        st, body = req(base, q, "POST", tok)
        if st != want:
            sys.exit(f"publish with {tok!r}: {st} {body} (want {want})")
    nrows = lambda: len(subprocess.run(list(scan), capture_output=True, text=True, check=True).stdout.splitlines())
    before = nrows()
    st, body = req(base, q + "&dry_run=true", "POST", admin)
    j = json.loads(body)
    if st != 200 or [t["table"] for t in j["published"]] != [f"{ns}.a"] or nrows() != before:
        sys.exit(f"dry run: {st} {body}, rows {before} -> {nrows()}")
    st, body = req(base, q, "POST", admin)
    j = json.loads(body)
    if st != 200 or [t["table"] for t in j["published"]] != [f"{ns}.a"] or j["dry_run"]:
        sys.exit(f"publish: {st} {body}")
    refs = {r["name"]: r["snapshot_id"] for r in get_json(base, f"/api/v1/tables/{ns}.a/refs")["refs"]}
    if refs.get("main") != refs.get("dev") or refs["main"] != j["published"][0]["to_snapshot_id"]:
        sys.exit(f"after publish main and dev differ: {refs}")
    after = nrows()
    if after <= before:
        sys.exit(f"main's rows {before} -> {after}")
    st, body = req(base, q, "POST", admin)
    if st != 200 or json.loads(body)["published"]:
        sys.exit(f"second publish: {st} {body}")
    print(f"publish: 401/403, dry run kept {before} rows, publish moved main to dev ({after} rows)")


if __name__ == "__main__":
    cmds = {"drained": cmd_drained, "dom": cmd_dom, "admin": cmd_admin, "publish": cmd_publish}
    cmds[sys.argv[1]](*sys.argv[2:])
