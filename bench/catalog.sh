#!/usr/bin/env bash
# catalog.sh - `make bench-catalog`: catalog commit latency on PostgreSQL (a private
# PostgreSQL 15 started here on a free port, fsync on, over TCP on loopback) against
# the SQLite catalog (WAL, synchronous=FULL) on the same disk. BENCH_COMMITS (default 400).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FIRN_BUILD:-build}
PY=/usr/bin/python3
DIR=$(mktemp -d)
source tests/interop/pg_server.sh
PG_FSYNC=on pg_start >/dev/null
trap 'pg_stop; rm -rf "$DIR"' EXIT
"$BUILD/bench/bench_catalog" "${BENCH_COMMITS:-400}" "$DIR"
