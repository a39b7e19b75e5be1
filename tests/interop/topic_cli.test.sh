#!/usr/bin/env bash
# topic_cli.test.sh - `firn topic` on the spool: create, list, describe, produce, consume.
source "$(dirname "$0")/lib.sh"
S="--stream spool:$WORK/spool"
check "create a topic with 3 partitions" bash -c "'$FIRN' topic create events -p 3 $S | grep -q 'created topic events with 3 partitions'"
check "create again with the same count is fine" "$FIRN" topic create events -p 3 $S
check "create again with another count fails" bash -c "! '$FIRN' topic create events -p 2 $S"
check "invalid topic name refused" bash -c "! '$FIRN' topic create ../x $S"
check "list" bash -c "[ \"\$('$FIRN' topic list $S)\" = events ]"
seq 1 200 | awk '{ printf "car-%d:value-%d\n", $1 % 7, $1 }' > "$WORK/lines"
check "produce 200 keyed lines" bash -c "'$FIRN' topic produce events -K : $S < '$WORK/lines' 2>&1 | grep -q 'produced 200 records'"
check "describe counts 200 records" bash -c "'$FIRN' topic describe events $S | awk '/partition [0-9]:/ { n += \$NF } END { exit n != 200 }'"
check "consume prints every record once with its key" bash -c "'$FIRN' topic consume events $S | awk -F'\t' '{ print \$2 \":\" \$3 }' | sort > '$WORK/got'; sort '$WORK/lines' | cmp - '$WORK/got'"
check "one key stays in one partition, in order" bash -c "'$FIRN' topic consume events $S | awk -F'\t' '\$2 == \"car-3\" { split(\$1, a, \":\"); p[a[1]] = 1; sub(/value-/, \"\", \$3); v = \$3 + 0; if (v <= last) bad = 1; last = v } END { exit bad || length(p) != 1 }'"
check "-p -o -c select records" bash -c "[ \"\$('$FIRN' topic consume events -p 1 -o 2 -c 3 $S | cut -f1 | tr '\n' ' ')\" = '1:2 1:3 1:4 ' ]"
check "-o -2 prints the last two of each partition" bash -c "[ \"\$('$FIRN' topic consume events -o -2 $S | wc -l)\" -eq 6 ]"
check "produce without key goes to partition 0" bash -c "echo plain | '$FIRN' topic produce events $S 2>/dev/null && '$FIRN' topic consume events -p 0 -o -1 $S | grep -q '^0:[0-9]*		plain\$'"
check "consume -f sees a later produce" bash -c "
    ('$FIRN' topic consume events -p 2 -o end -f -c 1 $S > '$WORK/follow') & pid=\$!
    sleep 0.3; echo late | '$FIRN' topic produce events -p 2 $S 2>/dev/null
    wait \$pid; grep -q 'late' '$WORK/follow'"
check "missing topic is an error" bash -c "'$FIRN' topic consume nope $S 2>&1 | grep -q \"no topic 'nope'\""
check "help prints the command's doc page" bash -c "'$FIRN' help topic | cmp - docs/cli/topic.md"
finish
