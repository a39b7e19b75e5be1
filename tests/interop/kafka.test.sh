#!/usr/bin/env bash
# kafka.test.sh - firn's Kafka transport against an independent client (kcat)
# on librdkafka's mock cluster (build/tools/mock_kafka): kcat produces and
# firn's consumer reads the same bytes, keys, headers and timestamps; firn
# produces and kcat reads them; firn's murmur2 partitioning agrees with
# librdkafka's Java-compatible murmur2_random partitioner; a binary value
# survives both ways byte for byte.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IO=$TOOLS/kafka_io

mock_kafka_start
URI=kafka://$BOOT
KCAT=(kcat -b "$BOOT" -q -X log_level=0)

check "mock cluster started" test -n "$BOOT"
for t in kin:3 kout:3 kmur:3 kbin:2 kbin2:3; do
    check "create ${t%%:*}" mock create "${t%%:*}" "${t##*:}" 3
done

# 300 keyed records with random printable values
for i in $(seq 1 300); do
    printf 'key-%d\t%s\n' "$((i % 37))" "$(head -c 30 /dev/urandom | base64 | tr -d '\n/+=')$i"
done >"$WORK/lines"

kcat_to_firn() {
    "${KCAT[@]}" -P -t kin -K '\t' -H src=kcat -H n=1 -X topic.partitioner=murmur2_random <"$WORK/lines" || return 1
    "$IO" consume "$URI" kin 3 300 --check-keys >"$WORK/firn_read" || return 1
    "${KCAT[@]}" -C -t kin -e -f '%p %o %T %k\t%s|%h\n' >"$WORK/kcat_read" || return 1
    [ "$(wc -l <"$WORK/firn_read")" -eq 300 ] || { echo "firn read $(wc -l <"$WORK/firn_read") lines"; return 1; }
    diff <(sort "$WORK/kcat_read") <(sort "$WORK/firn_read") || return 1
    # the values themselves, in per-key order
    diff <(cut -f2 "$WORK/lines" | sort) <(cut -f2 "$WORK/firn_read" | sed 's/|.*//' | sort)
}
check "kcat -P, firn consumer: same partitions, offsets, timestamps, keys, values, headers (murmur2 agrees)" kcat_to_firn

firn_to_kcat() {
    "$IO" produce "$URI" kout -H src=firn -H trace=abc -T 1700000000123 <"$WORK/lines" >"$WORK/po" || return 1
    [ "$(wc -l <"$WORK/po")" -eq 300 ] || return 1
    paste -d ' ' "$WORK/po" <(sed 's/^/1700000000123 /; s/$/|src=firn,trace=abc/' "$WORK/lines") | sort >"$WORK/expect"
    "${KCAT[@]}" -C -t kout -e -f '%p %o %T %k\t%s|%h\n' | sort >"$WORK/kcat_out" || return 1
    diff "$WORK/expect" "$WORK/kcat_out" || return 1
    # the same keys through librdkafka's murmur2_random land in the same partitions
    "${KCAT[@]}" -P -t kmur -K '\t' -X topic.partitioner=murmur2_random <"$WORK/lines" || return 1
    diff <("${KCAT[@]}" -C -t kout -e -f '%k %p\n' | sort -u) <("${KCAT[@]}" -C -t kmur -e -f '%k %p\n' | sort -u)
}
check "firn produces, kcat -C reads the same bytes, offsets and headers" firn_to_kcat

binary_both_ways() {
    head -c 200000 /dev/urandom >"$WORK/blob"
    "${KCAT[@]}" -P -t kbin -p 1 "$WORK/blob" || return 1
    mkdir -p "$WORK/raw"
    "$IO" consume "$URI" kbin 2 1 --raw "$WORK/raw" || return 1
    cmp "$WORK/blob" "$WORK/raw/1-0" || return 1
    [ "$("$IO" produce "$URI" kbin2 -p 2 "$WORK/blob")" = "2 0" ] || return 1
    "${KCAT[@]}" -C -t kbin2 -p 2 -c 1 -e -D '' -f '%s' >"$WORK/blob_back" || return 1
    cmp "$WORK/blob" "$WORK/blob_back"
}
check "a 200 KB binary value, kcat to firn and firn to kcat, byte for byte" binary_both_ways

faults() {
    # a leader moves and produce requests fail (retriable) during a firn append
    mock leader kout 0 2 && mock leader kout 1 3 && mock error 0 6 2 || return 1
    "$IO" produce "$URI" kout <"$WORK/lines" >"$WORK/po2" || return 1
    "${KCAT[@]}" -C -t kout -e -f '%p %o\n' | sort >"$WORK/all_offsets"
    [ "$(wc -l <"$WORK/all_offsets")" -eq 600 ] || { echo "$(wc -l <"$WORK/all_offsets") records"; return 1; }
    diff <(sort "$WORK/po" "$WORK/po2") "$WORK/all_offsets"
}
check "append under a leader change and injected produce errors: every returned offset, once" faults
finish
