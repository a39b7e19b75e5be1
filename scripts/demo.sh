#!/usr/bin/env bash
# demo.sh - `make demo`: what firn can do today, on embedded defaults.
# Until the pipeline lands, this writes sample parking-lot events as a Parquet
# file with firn's own writer and reads them back with firn's own reader.
set -euo pipefail
cd "$(dirname "$0")/.."
FIRN=${FIRN_BUILD:-build}/firn
mkdir -p data/demo
rm -f data/demo/events.parquet
"$FIRN" sample data/demo/events.parquet --rows 12
echo
echo "== schema (firn parquet schema)"
"$FIRN" parquet schema data/demo/events.parquet
echo
echo "== rows (firn parquet cat)"
"$FIRN" parquet cat data/demo/events.parquet
