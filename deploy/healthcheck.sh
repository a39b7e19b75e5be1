#!/bin/bash
# firn-healthcheck [URL] - the image's HEALTHCHECK: exit 0 when GET URL answers 200, else 1.
# URL defaults to $FIRN_HEALTH_URL or http://127.0.0.1:8080/healthz. Plain HTTP over bash's
# /dev/tcp, so the runtime image needs no curl or wget (deploy/runtime-packages.txt).
url=${1:-${FIRN_HEALTH_URL:-http://127.0.0.1:8080/healthz}}
rest=${url#http://}
[ "$rest" != "$url" ] || { echo "firn-healthcheck: only http:// URLs: $url" >&2; exit 1; }
hostport=${rest%%/*}
path=/${rest#*/}
[ "$hostport" != "$rest" ] || path=/
host=${hostport%:*}
port=${hostport##*:}
[ "$port" != "$hostport" ] || port=80
exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || { echo "firn-healthcheck: cannot connect to $hostport" >&2; exit 1; }
printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
IFS= read -r -t 3 status <&3 || { echo "firn-healthcheck: no answer from $url" >&2; exit 1; }
exec 3<&-
case $status in
    "HTTP/1."[01]" 200 "*) exit 0 ;;
    *) echo "firn-healthcheck: $url: ${status%$'\r'}" >&2; exit 1 ;;
esac
