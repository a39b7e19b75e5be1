#!/usr/bin/env bash
# publish.test.sh - `firn publish`: the catalog-wide merge of a branch into main
# (all or none). Rows are read back with `firn scan` and, independently, by
# DuckDB through the table's manifests (cli_rows.mjs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WH=$WORK/wh
count() { fc scan "$1" ${2:+--ref "$2"} | wc -l; }

cat >"$WORK/s.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}
JSON
printf 'id\n1\n2\n' >"$WORK/a.csv"
printf 'id\n3\n' >"$WORK/b.csv"
setup() {
    fc namespace create production >/dev/null &&
    fc table create production.a --schema "$WORK/s.json" >/dev/null &&
    fc table create production.b --schema "$WORK/s.json" >/dev/null &&
    fc append production.a "$WORK/a.csv" >/dev/null &&
    fc append production.b "$WORK/a.csv" >/dev/null &&
    fc branch create production.a dev >/dev/null &&
    fc branch create production.b dev >/dev/null &&
    fc append production.a "$WORK/b.csv" --branch dev >/dev/null &&
    fc append production.b "$WORK/b.csv" --branch dev >/dev/null
}
check "setup: two tables with dev ahead of main" setup
check "dev rows are invisible on main" eq "$(count production.a)/$(count production.a dev)" "2/3"
check "dry run publishes nothing" bash -c "'$FIRN' --warehouse '$WH' publish --dry-run | grep -q 'would publish 2 tables' && [ \$('$FIRN' --warehouse '$WH' scan production.a | wc -l) = 2 ]"
check "publish fast-forwards both" bash -c "'$FIRN' --warehouse '$WH' publish | grep -q 'published 2 tables'"
check "main has the dev rows (firn scan)" eq "$(count production.a)/$(count production.b)" "3/3"
check "main has the dev rows (DuckDB through the manifests)" eq "$(ref_rows production b main 'SELECT count(*) AS n FROM t')" '{"n":"3"}'
check "nothing left to publish" bash -c "'$FIRN' --warehouse '$WH' publish | grep -q 'published 0 tables'"
# main of b moves on its own: publishing again is all or none
moved() {
    fc append production.a "$WORK/b.csv" --branch dev >/dev/null &&
    fc append production.b "$WORK/b.csv" --branch dev >/dev/null &&
    fc append production.b "$WORK/b.csv" >/dev/null || return 1
    if fc publish 2>"$WORK/err"; then echo "publish succeeded"; return 1; fi
    grep -q "main has moved" "$WORK/err" || { cat "$WORK/err"; return 1; }
    eq "$(count production.a)" 3
}
check "a table whose main moved blocks the whole publish" moved
finish
