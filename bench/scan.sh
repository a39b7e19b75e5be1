#!/usr/bin/env bash
# scan.sh - `make bench-scan`: a table partitioned by day(ts) (ts timestamptz, id long,
# name string, value double, flag boolean), written through firn's table API (data
# writer + fast append, bench_scan build), then:
#   - a selective filter (one day, a predicate on ts) through firn_ice_scan must read under
#     5% of the bytes a full scan reads. Bytes are the scan's own counter
#     (firn_ice_scan_stats.bytes_read, counted at the read calls: footers and the column
#     chunks read, nothing estimated).
#   - a full scan (every column decoded, every value folded into aggregates) must run
#     within 1.5x of DuckDB's read_parquet over the same data files (listed from the
#     table), DuckDB single-threaded (SET threads=1) computing the same aggregates.
#     firn's time covers planning (manifest list, manifests) and reading; DuckDB's covers
#     its query over the listed files (footers and column chunks). Both sides' results
#     must agree, or the run fails. Each side: best of 5, wall time and CPU time
#     (user + system of the process; DuckDB's node process counts all its threads).
#   BENCH_ROWS (default 10000000)  rows
#   BENCH_DAYS (default 60)        days the rows span (one partition each)
#   BENCH_COMMITS (default 10)     appends (rows arrive in time order)
#   BENCH_DIR (default: a new temp dir, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FIRN_BUILD:-build}
ROWS=${BENCH_ROWS:-10000000}
DAYS=${BENCH_DAYS:-60}
COMMITS=${BENCH_COMMITS:-10}
if [ -n "${BENCH_DIR:-}" ]; then
    DIR=$BENCH_DIR/scan
    rm -rf "$DIR"
    mkdir -p "$DIR"
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/firn-bench-scan.XXXXXX")
fi
trap 'rm -rf "$DIR"' EXIT
B=$BUILD/bench/bench_scan

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }

# The aggregates of two result lines agree (sum_value to 1e-9 relative).
same_result() {
    local k
    for k in rows sum_id sum_ts count_name sum_name_len count_value count_flag; do
        [ "$(field $k "$1")" = "$(field $k "$2")" ] || { echo "bench: $k differs: firn $(field $k "$1"), duckdb $(field $k "$2")" >&2; return 1; }
    done
    awk -v a="$(field sum_value "$1")" -v b="$(field sum_value "$2")" \
        'BEGIN { d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); exit !(d <= 1e-9 * m + 1e-6) }' ||
        { echo "bench: sum_value differs: firn $(field sum_value "$1"), duckdb $(field sum_value "$2")" >&2; return 1; }
}

echo "rows: $ROWS over $DAYS days in $COMMITS commits; dir: $DIR"
built=$($B build "$DIR" "$ROWS" "$DAYS" "$COMMITS")
echo "built: $built"
$B files "$DIR" >"$DIR/files.txt"

# full scan, best of 5 (wall and CPU time each)
full=$($B scan "$DIR")
fs=$(field seconds "$full"); fc=$(field cpu_seconds "$full")
for _ in 2 3 4 5; do
    again=$($B scan "$DIR")
    fs=$(min "$fs" "$(field seconds "$again")"); fc=$(min "$fc" "$(field cpu_seconds "$again")")
done
duck=$(node bench/duckdb_scan.mjs "$DIR/files.txt" 5)
echo "firn full scan:   $full"
echo "duckdb full scan: $duck"
same_result "$full" "$duck" || { echo "bench: firn's and DuckDB's full scans disagree" >&2; exit 1; }

# one day in the middle of the range
day=$((DAYS / 2))
lo=$(date -u -d "2024-01-01 + $day days" +%Y-%m-%dT00:00:00+00:00)
hi=$(date -u -d "2024-01-01 + $((day + 1)) days" +%Y-%m-%dT00:00:00+00:00)
where="ts >= '$lo' and ts < '$hi'"
sel=$($B scan "$DIR" "$where")
duck_sel=$(node bench/duckdb_scan.mjs "$DIR/files.txt" 1 "$where")
echo "firn selective scan ($where): $sel"
echo "duckdb selective scan:        $duck_sel"
same_result "$sel" "$duck_sel" || { echo "bench: firn's and DuckDB's selective scans disagree" >&2; exit 1; }

ds=$(field seconds "$duck"); dc=$(field cpu_seconds "$duck")
fb=$(field bytes_read "$full"); sb=$(field bytes_read "$sel")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall times suffer on a busy machine; CPU times less)"
echo "bench scan-full-rate: $(rate "$ROWS" "$fs") rows/s vs duckdb $(rate "$ROWS" "$ds") rows/s = $(ratio "$(rate "$ROWS" "$fs")" "$(rate "$ROWS" "$ds")")x"
echo "bench scan-full-time: $fs s vs duckdb read_parquet $ds s = $(ratio "$fs" "$ds")x (target <= 1.5x)"
echo "bench scan-full-cpu: $fc s vs duckdb read_parquet $dc s = $(ratio "$fc" "$dc")x (target <= 1.5x)"
echo "bench scan-selective-bytes: $sb bytes vs full scan $fb bytes = $(ratio "$sb" "$fb")x (target < 0.05x)"
