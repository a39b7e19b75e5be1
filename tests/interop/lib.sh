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
