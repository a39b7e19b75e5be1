#!/usr/bin/env bash
# commit.sh - `make bench-commit`: 1,000 sequential appends of a 1-row data file to a
# table on the SQLite catalog, with fast append and with merge append: median and
# p99 commit latency against the targets (p50 10 ms, p99 50 ms), and the latency of
# the last commits against commits 6..15 ("commit 1,000 within 2x of commit 10").
#
# Each mode runs twice: with the metadata budget firn has without maintenance
# (write.metadata.previous-versions-max=100 with delete-after-commit, and merge
# append in merge mode: the snapshot list grows with every commit), and with
# snapshot expiry on top (the bench commits remove-snapshots keeping the last
# BENCH_KEEP snapshots whenever 10% more have accumulated; those commits are timed
# apart). Fast append never merges, so its manifest list keeps one entry per
# commit (1,000 at the end) whatever the metadata budget: its growth figure shows
# that; merge append with expiry is the budgeted configuration the 2x target is
# about. Wall-clock figures move with other load on the machine; the cpu_* fields
# (process CPU time per commit) do not, and are printed alongside.
#   BENCH_COMMITS (default 1000)   commits per run
#   BENCH_KEEP (default 100)       snapshots kept by expiry
#   BENCH_DIR (default build/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FIRN_BUILD:-build}
N=${BENCH_COMMITS:-1000}
KEEP=${BENCH_KEEP:-100}
DIR=${BENCH_DIR:-$BUILD/bench-data}/commit
rm -rf "$DIR"
mkdir -p "$DIR"
B=$BUILD/bench/bench_commit

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "commits: $N per run; dir: $DIR; expiry keeps the last $KEEP snapshots"
for mode in fast merge; do
    out=$($B "$mode" "$N" "$DIR")
    echo "$out"
    exp=$($B "$mode" "$N" "$DIR" "$KEEP")
    echo "$exp"
    p50=$(field p50_ms "$out"); p99=$(field p99_ms "$out")
    echo "bench commit-p50-$mode: $p50 ms vs target 10 ms = $(ratio "$p50" 10)x"
    echo "bench commit-p99-$mode: $p99 ms vs target 50 ms = $(ratio "$p99" 50)x"
    p50=$(field p50_ms "$exp"); p99=$(field p99_ms "$exp")
    echo "bench commit-p50-$mode-expiry: $p50 ms vs target 10 ms = $(ratio "$p50" 10)x"
    echo "bench commit-p99-$mode-expiry: $p99 ms vs target 50 ms = $(ratio "$p99" 50)x"
    for run in out exp; do
        r=${!run}; tag=$mode; [ "$run" = exp ] && tag=$mode-expiry
        first=$(field first_ms "$r"); last=$(field last_ms "$r")
        cfirst=$(field cpu_first_ms "$r"); clast=$(field cpu_last_ms "$r")
        echo "bench commit-growth-$tag: commit $N $last ms vs commit 10 $first ms = $(ratio "$last" "$first")x (target 2x)"
        echo "bench commit-growth-cpu-$tag: commit $N $clast ms vs commit 10 $cfirst ms = $(ratio "$clast" "$cfirst")x (CPU time)"
    done
done
rm -rf "$DIR"
