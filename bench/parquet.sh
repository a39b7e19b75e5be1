#!/usr/bin/env bash
# parquet.sh - `make bench-parquet`: firn's Parquet writer and reader against
# DuckDB (threads=1, so the ratio is per core) on the same rows, and firn's
# media writes against plain write() of the same bytes to the same disk.
#   BENCH_ROWS (default 10000000)   event rows
#   BENCH_MEDIA_BYTES (default 2 GiB) bytes of 100 KiB binaries
#   BENCH_DIR (default build/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FIRN_BUILD:-build}
ROWS=${BENCH_ROWS:-10000000}
MEDIA=${BENCH_MEDIA_BYTES:-$((2 * 1024 * 1024 * 1024))}
DIR=${BENCH_DIR:-$BUILD/bench-data}
mkdir -p "$DIR"
B=$BUILD/bench/bench_parquet

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
mibs() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s / 1048576 }'; }

echo "rows: $ROWS; media: $MEDIA bytes; dir: $DIR"
fw=$($B write-events "$ROWS" "$DIR/firn.parquet")
dw=$(node bench/duckdb_parquet.mjs write-events "$ROWS" "$DIR/duckdb.parquet")
echo "firn write:   $fw"
echo "duckdb write: $dw"
node bench/duckdb_parquet.mjs check-same "$DIR/firn.parquet" "$DIR/duckdb.parquet" >/dev/null ||
    { echo "bench: firn's and DuckDB's files hold different rows" >&2; exit 1; }
fr=$($B read-events "$DIR/firn.parquet")
dr=$(node bench/duckdb_parquet.mjs read-events "$DIR/duckdb.parquet")
fx=$($B read-events "$DIR/duckdb.parquet")
echo "firn read (firn file):     $fr"
echo "duckdb read (duckdb file): $dr"
echo "firn read (duckdb file):   $fx"
sync
mw=$($B write-media "$MEDIA" "$DIR/media.parquet")
rm -f "$DIR/media.parquet"; sync
rw=$($B raw-write "$MEDIA" "$DIR/raw.bin")
rm -f "$DIR/raw.bin"
echo "firn media write: $mw"
echo "raw write():      $rw"

fwr=$(rate "$ROWS" "$(field seconds "$fw")"); dwr=$(rate "$ROWS" "$(field seconds "$dw")")
frr=$(rate "$ROWS" "$(field seconds "$fr")"); drr=$(rate "$ROWS" "$(field seconds "$dr")")
fxr=$(rate "$ROWS" "$(field seconds "$fx")")
fb=$(field bytes "$fw"); db=$(field bytes "$dw")
mr=$(mibs "$(field payload "$mw")" "$(field seconds "$mw")")
rr=$(mibs "$(field payload "$rw")" "$(field seconds "$rw")")
echo "bench parquet-write: $fwr rows/s vs duckdb $dwr rows/s = $(ratio "$fwr" "$dwr")x"
echo "bench parquet-read: $frr rows/s vs duckdb $drr rows/s = $(ratio "$frr" "$drr")x"
echo "bench parquet-read-duckdb-file: $fxr rows/s vs duckdb $drr rows/s = $(ratio "$fxr" "$drr")x"
echo "bench parquet-file-size: $fb bytes vs duckdb $db bytes = $(ratio "$fb" "$db")x"
echo "bench parquet-media-write: $mr MiB/s vs write() $rr MiB/s = $(ratio "$mr" "$rr")x"
