# lib.sh - helpers for interop test scripts: ok/fail lines and the summary.
# Source it, call check NAME COMMAND..., then finish.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
FIRN_BUILD=${FIRN_BUILD:-build}
FIRN=$PWD/$FIRN_BUILD/firn
TOOLS=$PWD/$FIRN_BUILD/tools
INTEROP=$PWD/tests/interop
WORK=$(mktemp -d "${FIRN_TEST_TMP:-/tmp}/interop.XXXXXX")
PY=/usr/bin/python3
_pass=0
_fail=0
# check NAME CMD...: runs CMD; passes when it exits 0. Output shown on failure.
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then
        echo "ok   $name"; _pass=$((_pass + 1))
    else
        echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/    /' | tail -n 30
        _fail=$((_fail + 1))
    fi
}
finish() {
    rm -rf "$WORK"
    echo "$_pass passed, $_fail failed"
    [ "$_fail" -eq 0 ]
}

# ---------------------------------------------------------------- shared helpers
# (a suite may define its own function of the same name after sourcing lib.sh)

# eq GOT WANT: passes when the two strings are equal; else prints both (each on
# lines of its own when either spans lines)
eq() {
    [ "$1" = "$2" ] && return 0
    case "$1$2" in
    *$'\n'*) printf 'got:\n%s\nwant:\n%s\n' "$1" "$2" ;;
    *) printf 'got:  %s\nwant: %s\n' "$1" "$2" ;;
    esac
    return 1
}
# expect_fail PATTERN CMD...: CMD fails and its output (stdout and stderr) holds
# the fixed string PATTERN
expect_fail() {
    local pat=$1; shift
    local out
    if out=$("$@" 2>&1); then echo "succeeded, want failure: $out"; return 1; fi
    grep -qF -- "$pat" <<<"$out" || { echo "output lacks '$pat': $out"; return 1; }
}
# fc ARGS...: firn on the suite's warehouse $WH
fc() { "$FIRN" --warehouse "$WH" "$@"; }
# sqlite_query DB SQL: the rows of SQL on the SQLite file DB, one a line, columns
# tab-separated (Python's sqlite3: independent of firn)
sqlite_query() { "$PY" -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("\t".join(map(str, r)))' \
    "$1" "$2"; }
# sql SQL: sqlite_query on the SQL catalog of $WH
sql() { sqlite_query "$WH/catalog.db" "$1"; }
# md_of NS TABLE: the table's metadata location as the catalog of $WH holds it
# (a file: URI); md_path NS TABLE: the same as a local path
md_of() { sql "SELECT metadata_location FROM iceberg_tables WHERE table_namespace='$1' AND table_name='$2'"; }
md_path() { md_of "$1" "$2" | sed -E 's#^file:(//)?##'; }
# ref_rows NS TABLE REF SQL: what an independent reader (cli_rows.mjs: avsc and
# DuckDB) sees at REF of the table: SQL's rows, one JSON object a line
ref_rows() { node "$INTEROP/cli_rows.mjs" "$(md_of "$1" "$2")" "$3" "$4"; }
# wait_for_file FILE: waits up to 5 s for FILE to exist and be non-empty
wait_for_file() {
    local _
    for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
    return 1
}
# mock_kafka_start: librdkafka's mock cluster (build/tools/mock_kafka, 3 brokers)
# as coprocess MOCK, stopped on exit (trap EXIT; a suite that sets its own EXIT
# trap calls mock_kafka_stop from it); sets MOCK_PIDS (bash unsets the
# coprocess's own MOCK_PID once it exits) and BOOT (its bootstrap servers).
# Its stderr goes to $WORK/mock_kafka.err.
mock_kafka_start() {
    coproc MOCK { exec "$TOOLS/mock_kafka" --brokers 3 2>>"$WORK/mock_kafka.err"; }
    MOCK_PIDS=$MOCK_PID
    trap mock_kafka_stop EXIT
    read -r -t 10 BOOT <&"${MOCK[0]}" ||
        { echo "mock_kafka did not start: $(tail -3 "$WORK/mock_kafka.err" 2>/dev/null)"; return 1; }
}
mock_kafka_stop() { kill "$MOCK_PIDS" 2>/dev/null; wait "$MOCK_PIDS" 2>/dev/null; }
# mock COMMAND...: send one command to the mock cluster, fail unless it answers "ok"
mock() {
    local reply
    echo "$*" >&"${MOCK[1]}"
    read -r -t 10 reply <&"${MOCK[0]}"
    [ "$reply" = ok ] || { echo "mock: $*: $reply"; return 1; }
}
# pipe_verify SCAN_DIR TRUTH EVENTS FIRN_OPTION...: firn scan (with the options
# given: --warehouse, --catalog) of the pipeline's six tables into
# SCAN_DIR/<table>.jsonl, then pipe_check.py: the tables hold exactly the
# simulator's events (TRUTH: `firn sim --truth`, EVENTS: its NDJSON)
pipe_verify() {
    local scan=$1 truth=$2 events=$3 t; shift 3
    mkdir -p "$scan"
    for t in production.parking_entry production.parking_exit staging.parking_entry_untrusted \
             staging.parking_exit_untrusted staging.dead_letter firn.commits; do
        "$FIRN" "$@" scan "$t" >"$scan/$t.jsonl" || return 1
    done
    "$PY" "$INTEROP/pipe_check.py" "$scan" "$truth" "$events"
}
