#!/usr/bin/env bash
# unknown_types.test.sh - event types the config does not name: by default they go to
# dead letters with route:unknown-type; with pipeline.unknown-types=create the type gets
# its own topic, tables (production.<type>, staging.<type>_untrusted) and dev branch, with
# a schema inferred from its first events. Rows are read back with firn scan and DuckDB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fill() { # DIR: 40 gate-alarm events and one parking-entry event missing fields
    "$FIRN" topic create events --partitions 4 --stream "spool:$1/spool" >/dev/null &&
    "$PY" -c '
import json
for i in range(40):
    print(json.dumps({"eventId": "a%04d" % i, "eventType": "gate-alarm",
                      "timeStamp": "2026-11-26T08:%02d:00.000000Z" % (i % 60),
                      "level": i % 3, "temp": 20.5 + i, "ok": i % 2 == 0}))
print(json.dumps({"eventId": "b1", "eventType": "parking-entry"}))' |
    "$FIRN" topic produce events --stream "spool:$1/spool" >/dev/null
}
run() { local d=$1; shift; "$FIRN" --warehouse "$d/wh" run --set stream.uri="spool:$d/spool" --until-drained "$@"; }
count() { "$FIRN" --warehouse "$1/wh" scan "$2" | wc -l; }
eq() { [ "$1" = "$2" ] || { printf 'got:  %s\nwant: %s\n' "$1" "$2"; return 1; }; }

D=$WORK/default
check "default policy: the run drains" bash -c "$(declare -f fill run); FIRN='$FIRN' PY='$PY'; fill '$D' && run '$D' 2>/dev/null"
check "unknown types are dead letters with route:unknown-type" eq \
    "$("$FIRN" --warehouse "$D/wh" scan staging.dead_letter --columns reason | grep -c 'route:unknown-type')" 40
C=$WORK/create
check "create policy: the run drains" bash -c "$(declare -f fill run); FIRN='$FIRN' PY='$PY'; fill '$C' && run '$C' --set pipeline.unknown-types=create 2>'$C.err'"
check "the new type's topic exists" bash -c "'$FIRN' topic list --stream 'spool:$C/spool' | grep -q gate-alarm"
check "its production table holds every event" eq "$(count "$C" production.gate_alarm)" 40
check "with inferred column types" bash -c "'$FIRN' --warehouse '$C/wh' table show production.gate_alarm | grep -Eq 'level +long' &&
    '$FIRN' --warehouse '$C/wh' table show production.gate_alarm | grep -Eq 'temp +double' &&
    '$FIRN' --warehouse '$C/wh' table show production.gate_alarm | grep -Eq 'timeStamp +timestamptz'"
check "partitioned by day of its timestamp" bash -c "'$FIRN' --warehouse '$C/wh' table show production.gate_alarm | grep -q 'day(timeStamp)'"
check "published through its dev branch" bash -c "'$FIRN' --warehouse '$C/wh' branch list production.gate_alarm | grep -q '^dev '"
check "nothing dead-lettered" eq "$(count "$C" staging.dead_letter)" 0
check "the configured type still judges its events" bash -c "'$FIRN' --warehouse '$C/wh' scan staging.parking_entry_untrusted --columns failed_rules | grep -q required:"
md=$("$PY" -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT metadata_location FROM iceberg_tables WHERE table_name=?", ("gate_alarm",)).fetchone()[0])' "$C/wh/catalog.db")
check "DuckDB reads the new table through its manifests" eq \
    "$(node "$INTEROP/cli_rows.mjs" "$md" main 'SELECT count(*) AS n, sum(level) AS l FROM t')" '{"n":"40","l":"39"}'
finish
