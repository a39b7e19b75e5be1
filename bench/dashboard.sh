#!/usr/bin/env bash
# dashboard.sh - `make bench-dashboard`: firn serve's dashboard pages and API on a
# table with 10,000 snapshots, cold (right after a commit) and warm, against
# reading + parsing the table's metadata.json with jansson (bench/bench_dashboard.c).
# A real table (bench.events: 20,000 rows over 20 days in 40 fast appends, through
# firn's writer) is built first; bench_dashboard puts synthetic older snapshots in
# front of its metadata.
#   BENCH_SNAPSHOTS (default 10000)   snapshots of the table
#   BENCH_DIR (default build/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FIRN_BUILD:-build}
N=${BENCH_SNAPSHOTS:-10000}
DIR=${BENCH_DIR:-$BUILD/bench-data}/dashboard
rm -rf "$DIR"
mkdir -p "$DIR"
"$BUILD/bench/bench_scan" build "$DIR" 20000 20 40 >/dev/null
"$BUILD/bench/bench_dashboard" "$DIR" "$N"
rm -rf "$DIR"
