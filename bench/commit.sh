#!/usr/bin/env bash
# commit.sh - `make bench-commit`: 1,000 sequential appends of a 1-row data file to a
# table on the SQLite catalog, with fast append and with merge append: median and
# p99 commit latency against the targets (p50 10 ms, p99 50 ms), and the latency of
# the last commits against commits 6..15 ("commit 1,000 within 2x of commit 10").
# Metadata budget: merge append (merge mode), write.metadata.previous-versions-max=100
# and delete-after-commit (firn's defaults). Snapshot expiry is not implemented yet:
# the snapshot list in the metadata JSON grows with every commit.
#   BENCH_COMMITS (default 1000)   commits per mode
#   BENCH_DIR (default build/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FIRN_BUILD:-build}
N=${BENCH_COMMITS:-1000}
DIR=${BENCH_DIR:-$BUILD/bench-data}/commit
rm -rf "$DIR"
mkdir -p "$DIR"
B=$BUILD/bench/bench_commit

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "commits: $N per mode; dir: $DIR (snapshot expiry: not implemented, snapshots accumulate)"
for mode in fast merge; do
    out=$($B "$mode" "$N" "$DIR")
    echo "$out"
    p50=$(field p50_ms "$out"); p99=$(field p99_ms "$out")
    first=$(field first_ms "$out"); last=$(field last_ms "$out")
    echo "bench commit-p50-$mode: $p50 ms vs target 10 ms = $(ratio "$p50" 10)x"
    echo "bench commit-p99-$mode: $p99 ms vs target 50 ms = $(ratio "$p99" 50)x"
    echo "bench commit-growth-$mode: commit $N $last ms vs commit 10 $first ms = $(ratio "$last" "$first")x (target 2x)"
done
rm -rf "$DIR"
