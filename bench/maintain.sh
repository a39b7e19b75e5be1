#!/usr/bin/env bash
# maintain.sh - `make bench-maintain`: a table from many small commits before and after
# maintenance, against the same rows written in one commit, and a soak with the policy run
# every EVERY commits (bench/bench_maintain.c). Sizes: FIRN_BENCH_COMMITS (default 1000;
# the issue's 20,000 takes far longer on 2 shared cores), FIRN_BENCH_ROWS (50 a commit),
# FIRN_BENCH_EVERY (200).
set -eu
cd "$(dirname "$0")/.."
BUILDDIR=${BUILDDIR:-build}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-maintain.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$BUILDDIR/bench/bench_maintain" "$dir" "${FIRN_BENCH_COMMITS:-1000}" "${FIRN_BENCH_ROWS:-50}" \
    "${FIRN_BENCH_EVERY:-200}"
