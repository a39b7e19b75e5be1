#!/usr/bin/env bash
# run.sh - firn's test suite: the unit tests, then every interop test script in
# tests/interop/*.test.sh (each prints "ok NAME" / "FAIL NAME" lines and ends
# with its own "N passed, N failed"). The last line is the total:
# "N passed, N failed". FIRN_TEST_LONG=1 runs the large sizes.
set -u
cd "$(dirname "$0")/.."
export FIRN_BUILD=${FIRN_BUILD:-build}
export FIRN_TEST_TMP=${FIRN_TEST_TMP:-$(mktemp -d /tmp/firn-test.XXXXXX)}
total_pass=0
total_fail=0

# limited SECONDS CMD...: run CMD in its own process group; past SECONDS the whole
# group (the script and whatever it started: servers, workers) is killed, so a hung
# suite fails instead of holding up CI
limited() {
    local secs=$1; shift
    setsid "$@" & local pid=$!
    ( sleep "$secs"; echo "timeout: killed after ${secs} s" >&2; kill -TERM -- -"$pid" 2>/dev/null
      sleep 10; kill -KILL -- -"$pid" 2>/dev/null ) >/dev/null 2>&1 &
    local dog=$!
    wait "$pid"; local rc=$?
    kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null
    return $rc
}

run_suite() { # name, command...
    local name=$1; shift
    echo "== $name"
    local out rc
    out=$(limited "${FIRN_SUITE_TIMEOUT:-1200}" "$@" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
    local last p f
    last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$last" ]; then
        echo "FAIL $name: suite did not report a result (exit $rc)"
        total_fail=$((total_fail + 1))
        return
    fi
    p=${last%% passed*}; f=${last#*, }; f=${f%% failed*}
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exited with $rc"
        total_fail=$((total_fail + 1))
    fi
}

run_suite unit "$FIRN_BUILD/firn-tests"
for t in tests/interop/*.test.sh; do
    [ -e "$t" ] || continue
    run_suite "$(basename "$t" .test.sh)" bash "$t"
done
if [ -n "${FIRN_TEST_LONG:-}" ]; then
    for t in tests/interop/*.long.sh; do
        [ -e "$t" ] || continue
        run_suite "$(basename "$t" .long.sh) (long)" bash "$t"
    done
fi
rm -rf "$FIRN_TEST_TMP"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
