#!/usr/bin/env bash
# serve_live.test.sh - the server inside `firn run --listen` (small simulation,
# maintenance every second): the overview's operations panels in headless
# Chromium show what /metrics says (source lag per topic/partition, freshness
# per table, maintenance runs and what they reclaimed, rows committed, failed
# audits), no JS errors, screenshots at laptop and phone width in
# build/artifacts/serve/; then the admin endpoints (maintain, publish) with
# admin, ingest and no tokens.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=$WORK/live
ART=$PWD/build/artifacts/serve
mkdir -p "$D" "$ART"
ADMIN=adm-$RANDOM$RANDOM
INGEST=ing-$RANDOM$RANDOM
CHECK=("$PY" "$INTEROP/serve_live_check.py")
CHROME=$(command -v chromium || command -v chromium-browser || true)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

"$FIRN" --warehouse "$D/wh" run --listen 127.0.0.1:0 --set stream.uri="spool:$D/spool" \
    --set server.state-dir="$D/state" --set server.tokens="$INGEST" --set server.admin-tokens="$ADMIN" \
    --set sim.image-width=64 --set sim.image-height=48 --set sim.rate=200 \
    --set pipeline.commit-interval=150ms --sim-events 300 --bad-ratio 0.1 --seed 11 \
    --set maintain.compact-interval=1s --set maintain.compact-min-files=2 \
    --set maintain.expire-interval=1s --set maintain.expire-older-than=0s \
    --set maintain.expire-retain-last=1 --set maintain.rewrite-manifests-interval=1s \
    --set maintain.orphans-interval=0s >"$D/run.out" 2>"$D/run.log" &
RPID=$!
PIDS+=("$RPID")
for i in $(seq 100); do
    grep -q "serving the dashboard" "$D/run.log" 2>/dev/null && break
    sleep 0.05
done
PORT=$(sed -n 's/.*(port \([0-9]*\))$/\1/p' "$D/run.log")
BASE=http://127.0.0.1:$PORT
started() { [ -n "$PORT" ] && kill -0 "$RPID" 2>/dev/null || { cat "$D/run.log"; return 1; }; }
check "firn run --listen serves on a free port" started
check "the 300 simulated events are committed, lag 0, maintenance reclaimed bytes" \
    "${CHECK[@]}" drained "$BASE" 300

# the overview in a real browser; /metrics before and after the dump bound what moves
overview() {
    curl -sf "$BASE/metrics" >"$D/metrics-before.txt" || return 1
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600 \
        --virtual-time-budget=4000 --enable-logging=stderr --v=0 --dump-dom "$BASE/#/" \
        >"$D/dom.html" 2>"$D/chrome.log" || { tail -5 "$D/chrome.log"; return 1; }
    curl -sf "$BASE/metrics" >"$D/metrics-after.txt" || return 1
    if grep -E 'CONSOLE.*(Uncaught|Error)' "$D/chrome.log"; then return 1; fi
    "${CHECK[@]}" dom "$D/dom.html" "$D/metrics-before.txt" "$D/metrics-after.txt"
}
shots() {
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,3000 \
        --virtual-time-budget=4000 --screenshot="$ART/live-overview.png" "$BASE/#/" >/dev/null 2>&1 &&
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=390,3000 \
        --virtual-time-budget=4000 --screenshot="$ART/live-overview-phone.png" "$BASE/#/" >/dev/null 2>&1 &&
    [ -s "$ART/live-overview.png" ] && [ -s "$ART/live-overview-phone.png" ]
}
if [ -n "$CHROME" ]; then
    check "browser: lag, freshness, maintenance, ingest and audit panels match /metrics; no JS errors" overview
    check "browser: screenshots of the live overview (laptop and phone)" shots
else
    check "chromium is installed (scripts/deps.sh)" false
fi

check "admin maintain: 401 without or with a wrong token, 403 with the ingest token, 200 JSON" \
    "${CHECK[@]}" admin "$BASE" "$ADMIN" "$INGEST"
cat >"$D/s.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}
JSON
printf 'id\n1\n2\n' >"$D/a.csv"
printf 'id\n3\n' >"$D/b.csv"
fc() { "$FIRN" --warehouse "$D/wh" "$@" >/dev/null; }
dev_ahead() {
    fc namespace create pub && fc table create pub.a --schema "$D/s.json" && fc append pub.a "$D/a.csv" &&
    fc branch create pub.a dev && fc append pub.a "$D/b.csv" --branch dev
}
check "a table with dev ahead of main" dev_ahead
check "admin publish: 401, 403, dry run, fast-forward of main to dev, then nothing" \
    "${CHECK[@]}" publish "$BASE" "$ADMIN" "$INGEST" pub "$FIRN" --warehouse "$D/wh" scan pub.a
check "firn run still serves after the admin calls" curl -sf "$BASE/healthz"
finish
