#!/usr/bin/env bash
# badcorpus.test.sh - the bad-event corpus (tests/data/bad-events/: malformed JSON,
# invalid UTF-8, deep nesting, huge fields, wrong types, missing fields, truncated and
# fake images, duplicates, clock skew, oversized events) through the whole pipeline:
# each case appended to the raw topic in MANIFEST order (images as the `image` header,
# record timestamps = MANIFEST's "now", the validator's clock), then `firn run
# --until-drained` with the corpus' own firn.yaml. Each case lands where MANIFEST says
# (badcorpus_check.py) and firn exits cleanly. With an ASan build present
# (build/asan/firn, `make asan`), the same run under ASan/UBSan.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CORPUS=$PWD/tests/data/bad-events
# corpus BIN DIR: append the corpus to DIR's spool, drain it with BIN, check the tables
corpus() {
    local bin=$1 dir=$2 t
    mkdir -p "$dir/scan"
    "$TOOLS/append_events" "spool:$dir/spool" events "$CORPUS" >"$dir/offsets" || return 1
    "$bin" --warehouse "$dir/wh" run --config "$CORPUS/firn.yaml" --set stream.uri="spool:$dir/spool" \
        --set stream.partitions=1 --until-drained >"$dir.log" 2>&1 || { tail -5 "$dir.log"; return 1; }
    grep -q '64 consumed' "$dir.log" || { tail -3 "$dir.log"; return 1; }
    for t in production.parking_entry production.parking_exit staging.parking_entry_untrusted \
             staging.parking_exit_untrusted staging.dead_letter firn.commits; do
        "$FIRN" --warehouse "$dir/wh" scan "$t" >"$dir/scan/$t.jsonl" || return 1
    done
    "$PY" "$INTEROP/badcorpus_check.py" "$CORPUS" "$dir/offsets" "$dir/scan"
}
check "every corpus case lands where MANIFEST says (dead-letter reason, untrusted rules, trusted)" \
    corpus "$FIRN" "$WORK/plain"
# the same corpus appended again: every parseable case is now a duplicate (the
# window holds the first round), nothing crashes, nothing is lost
again() {
    local dir=$WORK/plain n
    "$TOOLS/append_events" "spool:$dir/spool" events "$CORPUS" >/dev/null || return 1
    "$FIRN" --warehouse "$dir/wh" run --config "$CORPUS/firn.yaml" --set stream.uri="spool:$dir/spool" \
        --set stream.partitions=1 --until-drained >"$dir.2.log" 2>&1 || { tail -5 "$dir.2.log"; return 1; }
    n=0
    for t in production.parking_entry production.parking_exit staging.parking_entry_untrusted \
             staging.parking_exit_untrusted staging.dead_letter; do
        n=$((n + $("$FIRN" --warehouse "$dir/wh" scan "$t" | wc -l)))
    done
    [ "$n" = 128 ] || { echo "$n rows for 128 records"; return 1; }
    [ "$("$FIRN" --warehouse "$dir/wh" scan production.parking_entry | wc -l)" = \
      "$(grep -c '"parking-entry"' "$dir/scan/production.parking_entry.jsonl")" ] ||
        { echo "trusted rows grew on the repeat"; return 1; }
}
check "the corpus again: 128 rows for 128 records, no new trusted row" again
if [ -x build/asan/firn ]; then
    check "the same under ASan/UBSan: no crash, same placement" corpus "$PWD/build/asan/firn" "$WORK/asan"
fi
finish
