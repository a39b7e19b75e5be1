#!/usr/bin/env bash
# collect.test.sh - `firn collect --watch DIR`: file-drop ingest of the Replicator
# layout `firn sim --out` writes, then `firn run --until-drained` (no simulator) on
# the same spool: every frame lands exactly once, checked against the simulator's
# truth (pipe_check.py). SIGKILL of collect at its named crash points and at a
# random moment mid-directory, restart: still exactly once. Lone and broken files
# go to DIR/.failed/ with a reason; a sidecar without image is an event without
# image (untrusted, required:image). make test: 2,000 frames; FIRN_TEST_LONG=1: 20,000.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=2000
[ -n "${FIRN_TEST_LONG:-}" ] && N=20000
# events within the last hours: the pipeline validates against the record
# timestamp, which collect sets to the time of collection
START=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)

# drop DIR N: the simulator writes N frames into DIR/drop, its truth and NDJSON beside
drop() {
    mkdir -p "$1"
    "$FIRN" sim --count "$2" --seed 7 --bad-ratio 0.05 --start "$START" --gap-ms 200 --size 96x72 \
        --truth "$1/truth.jsonl" --ndjson --out "$1/drop" --quiet >"$1/events.ndjson"
}
collect() { local dir=$1; shift; "$FIRN" collect --watch "$dir/drop" --stream "spool:$dir/spool" --grace 300ms "$@"; }
drain() {
    "$FIRN" --warehouse "$1/wh" run --set stream.uri="spool:$1/spool" \
        --set pipeline.commit-interval=200ms --until-drained
}
# verify DIR: the tables in DIR/wh hold exactly the events of DIR's simulation
verify() { pipe_verify "$1/scan" "$1/truth.jsonl" "$1/events.ndjson" --warehouse "$1/wh"; }
# all_done DIR N: the drop directory is empty, .done holds every frame's sidecar
all_done() {
    local left done_n
    left=$(find "$1/drop" -maxdepth 1 -type f ! -name '.*' | wc -l)
    done_n=$(find "$1/drop/.done" -name '*.json' | wc -l)
    [ "$left" = 0 ] && [ "$done_n" = "$2" ] || { echo "$left files left, $done_n sidecars done"; return 1; }
}
collect_all() { # DIR N: collect --once appends all N frames
    collect "$1" --once 2>"$1.err" && grep -q "^firn collect: $2 events appended" "$1.err" || { cat "$1.err"; return 1; }
}
collect_none() {
    collect "$1" --once 2>"$1.err" && grep -q "^firn collect: 0 events appended" "$1.err" || { cat "$1.err"; return 1; }
}

D=$WORK/plain
check "firn sim --out writes $N frames" drop "$D" "$N"
check "firn collect --once appends every frame" collect_all "$D" "$N"
check "... and moves every pair to .done/" all_done "$D" "$N"
check "firn run --until-drained (no simulator) publishes them" drain "$D"
check "every frame lands exactly once, rules as injected, images identical" verify "$D"
check "collect again: nothing new to append" collect_none "$D"

# crash scenarios start from a copy of one smaller drop
NC=1000
drop "$WORK/template" "$NC"
copy_drop() { mkdir -p "$1" && cp -a "$WORK/template/." "$1/"; }
# crash at each named point (on the Kth batch), restart: exactly once
crash_then_restart() {
    local point=$1 dir=$WORK/crash-${1//[:.]/-} rc N=$NC
    copy_drop "$dir" || return 1
    FIRN_CRASH_AT=$point collect "$dir" --once >"$dir.log" 2>&1; rc=$?
    [ "$rc" = 137 ] || { echo "collect with FIRN_CRASH_AT=$point exited $rc, want 137"; cat "$dir.log"; return 1; }
    [ -f "$dir/drop/.collect.pending" ] || { echo "no pending batch after the crash"; return 1; }
    collect "$dir" --once >>"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
    case $point in collect.after-pending*) ;; *)
        grep -q 'recovered after a restart' "$dir.log" && ! grep -q ' 0 recovered' "$dir.log" ||
            { echo "the restart recovered nothing"; cat "$dir.log"; return 1; } ;;
    esac
    all_done "$dir" "$N" && drain "$dir" >>"$dir.log" 2>&1 && verify "$dir"
}
for p in collect.after-pending:3 collect.after-append:5 collect.mid-move:7; do
    check "SIGKILL collect at $p, restart: exactly once" crash_then_restart "$p"
done
# SIGKILL at a random moment while collect works through the directory, twice
midway() {
    local dir=$WORK/kill9 pid delay N=$NC
    copy_drop "$dir" || return 1
    for delay in 0.03 0.08; do
        "$FIRN" collect --watch "$dir/drop" --stream "spool:$dir/spool" >>"$dir.log" 2>&1 & pid=$!
        sleep "$delay"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
    local left
    left=$(find "$dir/drop" -maxdepth 1 -name '*.json' | wc -l)
    [ "$left" -gt 0 ] || echo "note: collect finished before the kill" >&2
    collect "$dir" --once >>"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
    all_done "$dir" "$N" && drain "$dir" >>"$dir.log" 2>&1 && verify "$dir"
}
check "SIGKILL collect mid-directory twice, restart: exactly once" midway

# lone and broken files: never lost, never appended twice
odd() {
    local dir=$WORK/odd d
    d=$dir/drop
    mkdir -p "$d"
    "$FIRN" sim --count 3 --seed 3 --start "$START" --size 64x48 --out "$d" --quiet || return 1
    mv "$d/rgb_0001.json" "$dir/late.json"          # image whose sidecar comes late
    rm "$d/rgb_0002.jpg" "$d/rgb_0002.png" 2>/dev/null # sidecar alone (written last: final)
    cp "$d/rgb_0000.jpg" "$d/lone_0007.jpg"         # image that never gets one
    ln -s /nonexistent "$d/broken_0001.jpg"         # unreadable image
    echo '{"eventId":"x"}' >"$d/broken_0001.json"
    cp "$d/rgb_0000.json" "$d/two_0001.json"; cp "$d/rgb_0000.jpg" "$d/two_0001.jpg"
    cp "$d/rgb_0000.jpg" "$d/two_0001.png"          # two images for one sidecar
    head -c 300000 /dev/urandom >"$d/big_0001.jpg"; cp "$d/rgb_0000.json" "$d/big_0001.json"
    printf 'limits:\n  max-event-bytes: 256KiB\n' >"$dir/firn.yaml"
    ( sleep 0.1; mv "$dir/late.json" "$d/rgb_0001.json" ) &
    "$FIRN" collect --watch "$d" --stream "spool:$dir/spool" --config "$dir/firn.yaml" \
        --grace 1s --once 2>"$dir.err" || { cat "$dir.err"; return 1; }
    wait
    cat "$dir.err"
    grep -q '^firn collect: 3 events appended (1 sidecars without image), 0 recovered after a restart, 4 failed, 0 waiting' "$dir.err" || return 1
    for f in rgb_0000.json rgb_0000.jpg rgb_0001.json rgb_0001.jpg rgb_0002.json; do
        [ -f "$d/.done/$f" ] || { echo "$f not in .done"; return 1; }
    done
    for f in lone_0007.jpg broken_0001.jpg broken_0001.json two_0001.json two_0001.jpg two_0001.png big_0001.jpg big_0001.json; do
        [ -e "$d/.failed/$f" ] || [ -L "$d/.failed/$f" ] || { echo "$f not in .failed"; return 1; }
    done
    grep -q 'image without sidecar' "$d/.failed/lone_0007.reason" &&
    grep -q 'unreadable image' "$d/.failed/broken_0001.reason" &&
    grep -q 'ambiguous' "$d/.failed/two_0001.reason" &&
    grep -q 'limits.max-event-bytes' "$d/.failed/big_0001.reason" || { head "$d"/.failed/*.reason; return 1; }
    [ "$(find "$d" -maxdepth 1 -type f ! -name '.*' | wc -l)" = 0 ] || { ls "$d"; return 1; }
    # the image-less sidecar is an event without image: untrusted, required:image
    "$FIRN" --warehouse "$dir/wh" run --set stream.uri="spool:$dir/spool" --until-drained >/dev/null 2>&1 || return 1
    "$FIRN" --warehouse "$dir/wh" scan staging.parking_entry_untrusted --columns failed_rules >"$dir/u1" 2>/dev/null
    "$FIRN" --warehouse "$dir/wh" scan staging.parking_exit_untrusted --columns failed_rules >>"$dir/u1" 2>/dev/null
    grep -q 'required:image' "$dir/u1" || { echo "no required:image row"; cat "$dir/u1"; return 1; }
}
check "lone, unreadable, ambiguous and oversized frames go to .failed/ with a reason" odd

two_collectors() {
    local dir=$WORK/two pid out
    mkdir -p "$dir/drop"
    "$FIRN" collect --watch "$dir/drop" --stream "spool:$dir/spool" >/dev/null 2>&1 & pid=$!
    sleep 0.3
    out=$(collect "$dir" --once 2>&1); local rc=$?
    kill "$pid"; wait "$pid"
    [ "$rc" != 0 ] && grep -q 'another firn collect' <<<"$out" || { echo "rc=$rc: $out"; return 1; }
}
check "a second collector on the same directory is refused" two_collectors
finish
