#!/usr/bin/env bash
# serve_tls.test.sh - `firn serve` over HTTPS (server.tls-cert, server.tls-key)
# with a self-signed certificate made here by openssl: curl --cacert reads
# /healthz and /api/v1/tables, plain HTTP and an unknown CA are refused, an
# event ingested over TLS lands in its table; clear errors for a missing key,
# an unreadable or non-PEM file; the admin endpoints answer 403 when no admin
# token is configured.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=$WORK/tls
mkdir -p "$D"
TOKEN=tok-$RANDOM$RANDOM
SETS=(--set stream.uri="spool:$D/spool" --set sim.image-width=64 --set sim.image-height=48
      --set pipeline.commit-interval=150ms)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

check "openssl makes a self-signed certificate for 127.0.0.1" \
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$D/key.pem" -out "$D/cert.pem"
check "firn run fills a warehouse" "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --sim-events 40 \
    --bad-ratio 0 --seed 3 --until-drained
TLS=(--set server.tls-cert="$D/cert.pem" --set server.tls-key="$D/key.pem")
"$FIRN" --warehouse "$D/wh" serve --listen 127.0.0.1:0 "${SETS[@]}" "${TLS[@]}" \
    --set server.state-dir="$D/state" --set server.tokens="$TOKEN" >"$D/serve.out" 2>"$D/serve.log" &
SPID=$!
PIDS+=("$SPID")
for i in $(seq 100); do grep -q listening "$D/serve.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/^firn serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\)\/$/\1/p' "$D/serve.out")
B=https://127.0.0.1:$PORT
started() { [ -n "$PORT" ] && kill -0 "$SPID" 2>/dev/null || { cat "$D/serve.out" "$D/serve.log"; return 1; }; }
check "firn serve says it listens on https://" started
CURL=(curl -sS --max-time 10 --cacert "$D/cert.pem")
check "GET /healthz over TLS" bash -c "[ \"\$(${CURL[*]} $B/healthz)\" = ok ]"
has_tables() { "${CURL[@]}" "$B/api/v1/tables" | "$PY" -c '
import json, sys
names = {t["name"] for t in json.load(sys.stdin)["tables"]}
assert "production.parking_entry" in names, names
print(len(names), "tables")'; }
check "GET /api/v1/tables over TLS" has_tables
check "the same address over plain HTTP gets no answer" \
    bash -c "! curl -sS --max-time 5 http://127.0.0.1:$PORT/healthz"
check "a client that does not trust the certificate is refused" \
    bash -c "! curl -sS --max-time 5 https://127.0.0.1:$PORT/healthz"
"$FIRN" sim --count 1 --seed 77 --bad-ratio 0 --start 2026-11-27T09:00:00Z --size 64x48 --ndjson \
    --quiet >"$D/one.ndjson"
ID=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["eventId"])' "$D/one.ndjson")
ingest() {
    local code
    code=$("${CURL[@]}" -o "$D/ack.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/x-ndjson' --data-binary @"$D/one.ndjson" "$B/v1/events") || return 1
    [ "$code" = 202 ] && grep -q '"accepted":1' "$D/ack.json" || { echo "$code"; cat "$D/ack.json"; return 1; }
}
check "POST /v1/events over TLS answers 202" ingest
check "without the token over TLS: 401" bash -c \
    "[ \"\$(${CURL[*]} -o /dev/null -w '%{http_code}' --data-binary @$D/one.ndjson $B/v1/events)\" = 401 ]"
check "admin endpoints without server.admin-tokens: 403 even with the ingest token" bash -c \
    "[ \"\$(${CURL[*]} -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $TOKEN' $B/api/v1/admin/maintain)\" = 403 ]"
landed() {
    "$FIRN" --warehouse "$D/wh" run "${SETS[@]}" --until-drained >/dev/null 2>&1 || return 1
    local n
    n=$(for t in production.parking_entry production.parking_exit staging.parking_entry_untrusted \
                 staging.parking_exit_untrusted; do
            "$FIRN" --warehouse "$D/wh" scan "$t" --where "eventId = '$ID'"; done | wc -l)
    [ "$n" = 1 ] || { echo "event $ID found $n times"; return 1; }
}
check "the event ingested over TLS lands once (trusted or untrusted)" landed
kill "$SPID"; wait "$SPID" 2>/dev/null

# configuration errors say which file and what to do
fails_with() { # MESSAGE SETS...: firn serve refuses to start and says MESSAGE
    local msg=$1; shift
    if timeout 10 "$FIRN" --warehouse "$D/wh" serve --listen 127.0.0.1:0 "${SETS[@]}" \
        --set server.state-dir="$D/state2" "$@" >"$D/bad.out" 2>"$D/bad.log"; then
        echo "firn serve started"; return 1
    fi
    grep -qF "$msg" "$D/bad.log" || { cat "$D/bad.log"; return 1; }
}
check "a certificate without a key is refused" fails_with "only server.tls-cert is set" \
    --set server.tls-cert="$D/cert.pem"
check "an unreadable key file is named" fails_with "server.tls-key $D/nope.pem is unreadable" \
    --set server.tls-cert="$D/cert.pem" --set server.tls-key="$D/nope.pem"
check "a file that is not a PEM certificate is named" \
    fails_with "server.tls-cert $D/one.ndjson is not a PEM file holding a certificate" \
    --set server.tls-cert="$D/one.ndjson" --set server.tls-key="$D/key.pem"
finish
