#!/usr/bin/env bash
# unknown_types.test.sh - event types the config does not name: by default they go to
# dead letters with route:unknown-type; with pipeline.unknown-types=create the type gets
# its own topic, tables (production.<type>, staging.<type>_untrusted) and dev branch, with
# a schema inferred from its first events, which evolves: a field first seen later gets a
# column before the event carrying it is written (nested values and mixed kinds as JSON
# text), and a restarted run keeps the types of columns added earlier. Rows are read back
# with firn scan and DuckDB.
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
# schema evolution: the run above inferred 6 fields; later events bring new ones
more() { # DIR: 20 events with new fields (one with a string level), then 30 where `lane`
         # appears at the 11th and `note` at the 21st
    "$PY" -c '
import json
for i in range(20):
    e = {"eventId": "c%04d" % i, "eventType": "gate-alarm", "timeStamp": "2026-11-26T09:%02d:00.000000Z" % i,
         "level": i % 3, "temp": 1.5, "ok": True, "zone": "Z%d" % i, "speed": 3.25,
         "tags": ["x", i], "meta": {"k": i}, "seenAt": "2026-11-26T09:00:00Z"}
    if i == 7: e["level"] = "high"
    print(json.dumps(e))' | "$FIRN" topic produce events --stream "spool:$1/spool" >/dev/null || return 1
    "$PY" -c '
import json
for i in range(30):
    e = {"eventId": "d%04d" % i, "eventType": "gate-alarm", "timeStamp": "2026-11-26T10:%02d:00.000000Z" % i,
         "level": "low" if i == 3 else i, "zone": "Y%d" % i}
    if i >= 10: e["lane"] = i
    if i >= 20: e["note"] = "n%d" % i
    if i == 25: e["meta"] = 5  # meta stays a json field after the restart
    print(json.dumps(e))' > "$1/third.ndjson"
}
check "new fields: the restarted run drains" bash -c "$(declare -f more run); FIRN='$FIRN' PY='$PY'; more '$C' && run '$C' --set pipeline.unknown-types=create 2>'$C.err2'"
check "the tables evolved with typed columns" bash -c "s=\$('$FIRN' --warehouse '$C/wh' table show production.gate_alarm) &&
    grep -Eq 'zone +string' <<<\"\$s\" && grep -Eq 'speed +double' <<<\"\$s\" && grep -Eq 'tags +string' <<<\"\$s\" &&
    grep -Eq 'meta +string' <<<\"\$s\" && grep -Eq 'seenAt +timestamptz' <<<\"\$s\" && grep -Eq '^ +4 +level +long' <<<\"\$s\""
check "the run said which fields it added" bash -c "grep -q 'new field zone (string)' '$C.err2' && grep -q 'new field tags (json)' '$C.err2'"
check "new rows carry the new fields, nested values as JSON text" eq \
    "$("$FIRN" --warehouse "$C/wh" scan production.gate_alarm --columns eventId,zone,tags,meta --where "eventId = 'c0005'")" \
    '{"eventId":"c0005","zone":"Z5","tags":"[\"x\", 5]","meta":"{\"k\": 5}"}'
check "rows written before the change read the new column as null" eq \
    "$("$FIRN" --warehouse "$C/wh" scan production.gate_alarm --columns eventId,zone --where "eventId = 'a0003'")" \
    '{"eventId":"a0003","zone":null}'
check "a value of the wrong kind in an evolved type is untrusted under type:level" eq \
    "$("$FIRN" --warehouse "$C/wh" scan staging.gate_alarm_untrusted --columns eventId,zone,failed_rules)" \
    '{"eventId":"c0007","zone":"Z7","failed_rules":"type:level"}'
check "every event is in a table once" eq "$(count "$C" production.gate_alarm)" 59
check "third run: fields appearing mid-stream" bash -c "'$FIRN' topic produce events --stream 'spool:$C/spool' <'$C/third.ndjson' >/dev/null &&
    FIRN='$FIRN'; $(declare -f run); run '$C' --set pipeline.unknown-types=create 2>'$C.err3'"
check "columns added earlier keep their types after a restart" bash -c "s=\$('$FIRN' --warehouse '$C/wh' table show production.gate_alarm) &&
    grep -Eq '^ +4 +level +long' <<<\"\$s\" && grep -Eq 'lane +long' <<<\"\$s\" && grep -Eq 'note +string' <<<\"\$s\""
check "rows before a field appeared have null, rows after have it" eq \
    "$("$FIRN" --warehouse "$C/wh" scan production.gate_alarm --columns eventId,lane,note --where "eventId >= 'd0008' AND eventId <= 'd0011'" | sort)" \
    "$(printf '%s\n' '{"eventId":"d0008","lane":null,"note":null}' '{"eventId":"d0009","lane":null,"note":null}' '{"eventId":"d0010","lane":10,"note":null}' '{"eventId":"d0011","lane":11,"note":null}')"
check "a json field stays json after a restart" eq \
    "$("$FIRN" --warehouse "$C/wh" scan production.gate_alarm --columns eventId,meta --where "eventId = 'd0025'")" \
    '{"eventId":"d0025","meta":"5"}'
check "all 90 events landed once: 88 trusted, 2 untrusted" eq \
    "$(count "$C" production.gate_alarm) $(count "$C" staging.gate_alarm_untrusted)" "88 2"
md2=$("$PY" -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT metadata_location FROM iceberg_tables WHERE table_name=?", ("gate_alarm",)).fetchone()[0])' "$C/wh/catalog.db")
check "DuckDB reads the evolved table's files through its manifests" eq \
    "$(node "$INTEROP/cli_rows.mjs" "$md2" main 'SELECT count(*) AS n, count(zone) AS z, count(lane) AS l, sum(lane) AS sl FROM t')" \
    '{"n":"88","z":"48","l":"20","sl":"390"}'
finish
