#!/usr/bin/env bash
# spool_crash.test.sh - kill -9 against the spool: writers (two processes on the same
# partition at once) append in a loop and print each acknowledged offset; each round
# kills them with SIGKILL at a random moment. Afterwards every acknowledged record
# must be in the log, intact, exactly once, and the offsets dense.
# ROUNDS (default 6; 30 under FIRN_TEST_LONG).
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-6}
[ -n "${FIRN_TEST_LONG:-}" ] && ROUNDS=30
DIR=$WORK/spool
RANDOM=42
: > "$WORK/acked"
run=0
for round in $(seq 1 "$ROUNDS"); do
    pids=()
    for w in 1 2; do
        run=$((run + 1))
        "$TOOLS/spool_append" "$DIR" crash "$run" > "$WORK/acks.$run" 2> "$WORK/err.$run" &
        pids+=($!)
    done
    sleep "0.$((RANDOM % 6 + 1))$((RANDOM % 10))"
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
done
cat "$WORK"/acks.* | awk 'NF == 3' | sort -n > "$WORK/acked"
# a writer after the crashes appends after the repaired tail
check "append after $ROUNDS kill -9 rounds" bash -c "'$TOOLS/spool_append' '$DIR' crash 999 100 >> '$WORK/acked.after'"
check "log verifies (CRC, bytes, dense offsets)" bash -c "'$TOOLS/spool_append' --verify '$DIR' crash > '$WORK/log'"
check "writers were acknowledged before being killed" test "$(wc -l < "$WORK/acked")" -gt 50
check "every acknowledged record is in the log at its offset" \
    bash -c "cat '$WORK/acked' '$WORK/acked.after' | sort > '$WORK/a.sorted'; sort '$WORK/log' > '$WORK/l.sorted'; [ -z \"\$(comm -23 '$WORK/a.sorted' '$WORK/l.sorted')\" ]"
check "no record twice in the log" bash -c "[ -z \"\$(awk '{print \$2, \$3}' '$WORK/log' | sort | uniq -d)\" ]"
check "no writer failed with an error" bash -c "! grep -h 'spool_append:' '$WORK'/err.*"
echo "acknowledged before kills: $(wc -l < "$WORK/acked"), records in log: $(wc -l < "$WORK/log")"
echo "torn tails repaired: $(cat "$WORK"/err.* | grep -c 'truncated a torn tail')"
finish
