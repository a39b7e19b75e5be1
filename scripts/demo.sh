#!/usr/bin/env bash
# demo.sh - `make demo`: firn's main job on embedded defaults. `firn run` simulates the
# paper's parking lot at a gentle rate, routes the events by type, validates them,
# publishes trusted rows with Write-Audit-Publish, quarantines the rest, keeps the tables
# healthy and serves the dashboard. It runs until Ctrl-C and resumes where it stopped
# when started again (the spool, the tables and the simulator's seed are durable state).
#   FIRN_DEMO_RATE   events per second (default 20)
#   FIRN_DEMO_LISTEN dashboard address (default 127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "$0")/.."
FIRN=$PWD/${FIRN_BUILD:-build}/firn
RATE=${FIRN_DEMO_RATE:-20}
LISTEN=${FIRN_DEMO_LISTEN:-127.0.0.1:8080}
mkdir -p data
cd data
cat <<TXT
firn demo: simulating the parking lot at $RATE events/s (5% bad events), in $PWD
  spool (the durable log)   $PWD/data/spool
  warehouse (Iceberg)       $PWD/warehouse, catalog sqlite:$PWD/warehouse/catalog.db
  dashboard                 http://$LISTEN/
Query it while it runs (from $PWD):
  $FIRN table list production
  $FIRN scan production.parking_entry --limit 5 --columns eventId,timeStamp,carId,slotId
  $FIRN scan staging.parking_entry_untrusted --columns failed_rules --limit 5
  $FIRN inspect production.parking_entry snapshots
  $FIRN scan firn.commits --format table
  DuckDB/Spark/Trino/PyIceberg: the JDBC catalog in warehouse/catalog.db (catalog name "default")
Ctrl-C stops it (the open batch is published first); run 'make demo' again to resume.
TXT
exec "$FIRN" run --sim-events 100000000 --sim-rate "$RATE" --bad-ratio 0.05 --listen "$LISTEN"
