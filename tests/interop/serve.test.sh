#!/usr/bin/env bash
# serve.test.sh - `firn serve` over a warehouse that `firn run --sim-events 300
# --until-drained` filled: every /api/v1 endpoint and /metrics against `firn
# scan`, bearer-token auth (ingest, and reads with server.read-auth), 413, 429
# and 400s, a fuzz loop of malformed requests on raw sockets, HTTP ingest
# (single JSON, NDJSON, multipart) with idempotent retries that survive a
# restart, then `firn run` without the simulator drains exactly what was
# ingested; and the dashboard in headless Chromium (chart points = firn.commits
# rows, counts = firn scan, camera images decoded at their size, the table
# page's snapshots, no JS errors). Screenshots: build/artifacts/serve/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=$WORK/serve
ART=$PWD/build/artifacts/serve
mkdir -p "$D" "$ART"
TOKEN=tok-$RANDOM$RANDOM
START=2026-11-26T08:00:00Z
SETS=(--set stream.uri="spool:$D/spool" --set sim.image-width=96 --set sim.image-height=72
      --set pipeline.commit-interval=150ms)
CHECK=("$PY" "$INTEROP/serve_check.py")
CHROME=$(command -v chromium || command -v chromium-browser || true)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

# serve NAME ARGS...: start firn serve on a free port; sets BASE and SPID
serve() {
    local name=$1; shift
    "$FIRN" --warehouse "$D/wh" serve --listen 127.0.0.1:0 "${SETS[@]}" \
        --set server.state-dir="$D/state-$name" "$@" >"$D/$name.out" 2>"$D/$name.log" &
    SPID=$!
    PIDS+=("$SPID")
    local i
    for i in $(seq 100); do
        grep -q listening "$D/$name.out" 2>/dev/null && break
        sleep 0.05
    done
    BASE=$(sed -n 's/^firn serve: listening on \(http:[^ ]*\)\/$/\1/p' "$D/$name.out")
}
# started NAME: the last serve bound a port (serve runs outside check: it sets BASE)
started() { [ -n "$BASE" ] && kill -0 "$SPID" 2>/dev/null || { cat "$D/$1.log"; return 1; }; }
scan_all() { # DIR: firn scan of every table into DIR/<table>.jsonl
    mkdir -p "$1"
    local t
    for t in production.parking_entry production.parking_exit staging.parking_entry_untrusted \
             staging.parking_exit_untrusted staging.dead_letter firn.commits; do
        "$FIRN" --warehouse "$D/wh" scan "$t" >"$1/$t.jsonl" || return 1
    done
}
alive() { kill -0 "$SPID" 2>/dev/null || { echo "server $SPID died"; tail -5 "$D/main.log"; return 1; }; }
# chrome PAGE HASH: dump the DOM after the JS ran, and a screenshot (also at phone width)
chrome() {
    local page=$1 hash=$2
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600 \
        --virtual-time-budget=4000 --enable-logging=stderr --v=0 --dump-dom "$BASE/$hash" \
        >"$D/dom-$page.html" 2>"$D/chrome-$page.log" || { tail -5 "$D/chrome-$page.log"; return 1; }
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600 \
        --virtual-time-budget=4000 --screenshot="$ART/$page.png" "$BASE/$hash" >/dev/null 2>&1 || return 1
    if [ "$page" = overview ] || [ "$page" = data ]; then
        timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=390,844 \
            --virtual-time-budget=4000 --screenshot="$ART/$page-phone.png" "$BASE/$hash" >/dev/null 2>&1 || return 1
    fi
    if grep -E 'CONSOLE.*(Uncaught|Error)' "$D/chrome-$page.log"; then return 1; fi
    "${CHECK[@]}" dom "$D/dom-$page.html" "$D/scan1" "$page"
}

check "firn run drains 300 simulated events" \
    "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --sim-events 300 --bad-ratio 0.1 --seed 5 \
    --sim-start "$START" --until-drained
check "firn scan of every table" scan_all "$D/scan1"
serve main --set server.tokens="other,$TOKEN" --set server.max-body=1MiB
check "firn serve starts on a free port" started main
check "every API endpoint and /metrics agree with firn scan" "${CHECK[@]}" api "$BASE" "$D/scan1"
"$FIRN" sim --count 60 --seed 99 --bad-ratio 0.3 --start 2026-11-26T09:00:00Z --size 96x72 \
    --truth "$D/ingest-truth.jsonl" --ndjson --quiet >"$D/ingest.ndjson"
check "ingest needs the bearer token; reads do not" "${CHECK[@]}" auth "$BASE" "$TOKEN" "$D/ingest.ndjson"
check "413 over server.max-body, 400 for unparseable bodies" "${CHECK[@]}" limits "$BASE" "$TOKEN"
check "300 malformed requests never crash the server" "${CHECK[@]}" fuzz "$BASE" 300
check "the server is still running after the fuzz loop" alive
check "ingest: single, NDJSON and multipart events; retries acknowledged once" \
    "${CHECK[@]}" ingest "$BASE" "$TOKEN" "$D/ingest.ndjson" "$D/ingest-truth.jsonl" "$D/posted.json"
grafana_metrics() { # every metric the Grafana dashboard queries is on /metrics
    "$PY" - "$BASE" deploy/grafana/firn.json <<'PYEOF'
import json, re, sys, urllib.request
have = {l.split("{")[0].split(" ")[0] for l in urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode().splitlines() if l and l[0] != "#"}
want = {m for p in json.load(open(sys.argv[2]))["panels"] for t in p["targets"] for m in re.findall(r"firn_[a-z_]+", t["expr"])}
missing = sorted(want - have)
if missing: sys.exit(f"not on /metrics: {missing}")
print(f"{len(want)} metrics of the Grafana dashboard are served")
PYEOF
}
check "every metric of deploy/grafana/firn.json is on /metrics" grafana_metrics
check "requests are logged with status and duration" \
    grep -qE '^firn serve: 127\.0\.0\.1 POST /v1/events 202 [0-9]+B [0-9.]+ms$' "$D/main.log"
kill "$SPID"; wait "$SPID" 2>/dev/null
serve main --set server.tokens="$TOKEN"
check "firn serve restarts on the same state" started main
check "the dedupe window survives a restart" "${CHECK[@]}" retry "$BASE" "$TOKEN" "$D/ingest.ndjson" "$D/posted.json"
check "firn run without the simulator drains the ingested events" \
    "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --until-drained
check "firn scan after the drain" scan_all "$D/scan2"
check "each ingested event lands once; retries are not doubled" \
    "${CHECK[@]}" drained "$D/scan1" "$D/scan2" "$D/posted.json"
kill "$SPID"; wait "$SPID" 2>/dev/null

# read-auth and rate limits, each on its own server
serve ro --set server.tokens="$TOKEN" --set server.read-auth=true
check "firn serve with server.read-auth" started ro
check "read-auth: API and /metrics need the token" "${CHECK[@]}" auth-read "$BASE" "$TOKEN"
kill "$SPID"; wait "$SPID" 2>/dev/null
serve rate --set server.rate-limit=0.5 --set server.rate-burst=3
check "firn serve with server.rate-limit" started rate
check "429 over the rate limit" "${CHECK[@]}" rate "$BASE"
kill "$SPID"; wait "$SPID" 2>/dev/null

# the dashboard in a real browser, on the warehouse as scan1 saw it
rm -rf "$D/scan1" && scan_all "$D/scan1"
serve web
check "firn serve for the browser" started web
if [ -n "$CHROME" ]; then
    check "browser: overview chart has one point per firn.commits row; counts = firn scan" \
        chrome overview '#/'
    check "browser: the table page lists the snapshots" chrome table '#/table/production.parking_entry'
    check "browser: camera images decode at their size in the data browser" \
        chrome data '#/data/production.parking_entry?limit=8'
    check "browser: untrusted rows grouped by rule" chrome untrusted '#/untrusted'
else
    check "chromium is installed (scripts/deps.sh)" false
fi
finish
