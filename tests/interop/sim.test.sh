#!/usr/bin/env bash
# sim.test.sh - `firn sim` end to end: the same seed gives byte-identical NDJSON and
# directories, another seed differs; Python's standard library (sim_check.py) reads
# every good event and its image independently (PNG inflated row by row, JPEG walked
# to its SOF and EOI) and checks the lot and the ground-truth counts; `file` names
# the format and size of the Replicator-layout frames. --stream is not exercised
# here: the spool and Kafka transports are built elsewhere.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START=2025-11-26T08:00:00Z
sim() { "$FIRN" sim --start "$START" "$@"; }
differ() { ! cmp -s "$1" "$2"; }
expect_fail() { # CODE PATTERN CMD...: exits with CODE and stderr holds PATTERN
    local code=$1 pat=$2; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || { echo "exit $rc, want $code: $out"; return 1; }
    grep -qF -- "$pat" <<<"$out" || { echo "output lacks '$pat': $out"; return 1; }
}

# ---------------------------------------------------------------- determinism
sim --seed 1 --count 300 --size 160x120 --bad-ratio 0.1 --ndjson >"$WORK/a.ndjson" 2>"$WORK/a.err"
sim --seed 1 --count 300 --size 160x120 --bad-ratio 0.1 --ndjson >"$WORK/b.ndjson" 2>/dev/null
sim --seed 2 --count 300 --size 160x120 --bad-ratio 0.1 --ndjson >"$WORK/c.ndjson" 2>/dev/null
check "same seed, byte-identical NDJSON" cmp "$WORK/a.ndjson" "$WORK/b.ndjson"
check "another seed differs" differ "$WORK/a.ndjson" "$WORK/c.ndjson"
check "300 lines" eq "$(wc -l <"$WORK/a.ndjson")" 300
ids() { grep -ao '"eventId":"[0-9a-f-]*"' "$1" | sort -u; }
check "seeds 1 and 2 share no eventId" eq "$(comm -12 <(ids "$WORK/a.ndjson") <(ids "$WORK/c.ndjson") | wc -l)" 0
check "another start shifts the timestamps" \
    bash -c "'$FIRN' sim --start 2025-11-27T08:00:00Z --seed 1 --count 5 --size 160x120 --ndjson 2>/dev/null | grep -c '\"timeStamp\":\"2025-11-27T08:00:0' | grep -qx 5"

# ------------------------------------------- independent read, JPEG and PNG
for fmt in jpeg png; do
    sim --seed 3 --count 400 --slots 15 --format $fmt --bad-ratio 0.15 --ndjson \
        --truth "$WORK/$fmt.truth" >"$WORK/$fmt.ndjson" 2>"$WORK/$fmt.err"
    check "$fmt: python reads every good event and image (640x480), lot consistent, counts match" \
        bash -c "'$PY' '$INTEROP/sim_check.py' '$WORK/$fmt.ndjson' '$WORK/$fmt.truth' 640 480 15 <'$WORK/$fmt.err'"
    check "$fmt: all 12 bad kinds present" \
        bash -c "'$PY' '$INTEROP/sim_check.py' '$WORK/$fmt.ndjson' '$WORK/$fmt.truth' 640 480 15 <'$WORK/$fmt.err' | grep -q 'bad-kinds 12$'"
done
sim --seed 4 --count 40 --size 320x240 --ndjson --truth "$WORK/s.truth" >"$WORK/s.ndjson" 2>"$WORK/s.err"
check "--size 320x240 honoured" \
    bash -c "'$PY' '$INTEROP/sim_check.py' '$WORK/s.ndjson' '$WORK/s.truth' 320 240 200 <'$WORK/s.err'"

# ---------------------------------------------------- Replicator directory
sim --seed 5 --count 60 --bad-ratio 0.3 --out "$WORK/d1" --truth "$WORK/d1.truth" 2>/dev/null
sim --seed 5 --count 60 --bad-ratio 0.3 --out "$WORK/d2" 2>/dev/null
check "same seed, identical directories" diff -r "$WORK/d1" "$WORK/d2"
check "one sidecar JSON per frame" eq "$(ls "$WORK/d1"/rgb_*.json | wc -l)" 60
check "no temporary files left" eq "$(ls -A "$WORK/d1" | grep -c '^\.')" 0
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    t = json.loads(l)
    if t["truth"] == "good": print("rgb_%04d" % t["seq"])' "$WORK/d1.truth" >"$WORK/d1.good"
jpeg_frames() { # every good frame is a 640x480 JPEG to file(1); at least 30 of them
    local n=0 f
    while read -r f; do
        file -b "$WORK/d1/$f.jpg" | grep -q '^JPEG image data.* 640x480,' ||
            { echo "$f: $(file -b "$WORK/d1/$f.jpg")"; return 1; }
        n=$((n + 1))
    done <"$WORK/d1.good"
    [ "$n" -ge 30 ] || { echo "only $n good frames"; return 1; }
}
check "file(1): every good frame is a 640x480 JPEG" jpeg_frames
check "sidecar equals the NDJSON event without its image" bash -c "
    '$FIRN' sim --start $START --seed 5 --count 60 --bad-ratio 0.3 --ndjson 2>/dev/null | sed -n 1p |
    '$PY' -c 'import json,sys; e=json.loads(sys.stdin.read()); del e[\"image\"]; s=json.load(open(\"$WORK/d1/rgb_0000.json\")); sys.exit(e != s)'"
check "image bytes in the directory equal the NDJSON base64" bash -c "
    '$FIRN' sim --start $START --seed 5 --count 60 --bad-ratio 0.3 --ndjson 2>/dev/null | sed -n 1p |
    '$PY' -c 'import json,sys,base64; e=json.loads(sys.stdin.read()); sys.exit(base64.b64decode(e[\"image\"]) != open(\"$WORK/d1/rgb_0000.jpg\",\"rb\").read())'"
sim --seed 6 --count 3 --format png --out "$WORK/p" 2>/dev/null
check "file(1): PNG frames" bash -c "file -b '$WORK/p/rgb_0002.png' | grep -q '^PNG image data, 640 x 480, 8-bit/color RGB'"

sim --seed 7 --count 120 --bad-ratio 0.3 --size 100x80 --image-max-bytes 30000 --out "$WORK/m" \
    --truth "$WORK/m.truth" 2>/dev/null
size_frames() { # image:size frames: a JPEG of 100x80 to file(1), over 30,000 bytes
    local n=0 f
    for f in $(grep -o '"seq":[0-9]*,[^}]*"truth":"image:size"' "$WORK/m.truth" | sed 's/"seq":\([0-9]*\),.*/\1/'); do
        f=$(printf '%s/rgb_%04d.jpg' "$WORK/m" "$f")
        file -b "$f" | grep -q '^JPEG image data.* 100x80,' || { echo "$f: $(file -b "$f")"; return 1; }
        [ "$(stat -c %s "$f")" -gt 30000 ] || { echo "$f: $(stat -c %s "$f") bytes"; return 1; }
        n=$((n + 1))
    done
    [ "$n" -ge 2 ] || { echo "only $n image:size frames"; return 1; }
}
check "--image-max-bytes: padded images still JPEGs of the size, over the limit" size_frames

# ----------------------------------------------------------------- the CLI
check "no destination is a usage error" expect_fail 2 "--ndjson, --out DIR or --stream" "$FIRN" sim
check "bad --size" expect_fail 2 "--size" "$FIRN" sim --size 640 --ndjson
check "bad --bad-ratio" expect_fail 2 "--bad-ratio" "$FIRN" sim --bad-ratio 2 --ndjson
check "too small an image" expect_fail 1 "32..8192" "$FIRN" sim --size 8x8 --ndjson
check "bad --start" expect_fail 1 "YYYY-MM-DD" "$FIRN" sim --start tomorrow --ndjson
check "--rate paces the events" bash -c "
    s=\$(date +%s%N); '$FIRN' sim --rate 50 --count 20 --size 64x48 --ndjson --quiet >/dev/null
    e=\$(date +%s%N); [ \$(( (e - s) / 1000000 )) -ge 360 ]"
check "--duration bounds the run" bash -c "
    '$FIRN' sim --rate 100 --duration 0.3 --size 64x48 --ndjson --quiet | wc -l | awk '{ exit !(\$1 >= 20 && \$1 <= 31) }'"
interrupted() { # SIGINT: the events so far are whole lines, and the summary is printed
    "$FIRN" sim --count 0 --rate 200 --size 64x48 --ndjson >"$WORK/int.nd" 2>"$WORK/int.err" &
    local pid=$!
    sleep 0.5
    kill -INT "$pid"
    wait "$pid" || { echo "exit $?"; return 1; }
    [ -s "$WORK/int.nd" ] && [ "$(tail -c 1 "$WORK/int.nd" | od -An -c | tr -d ' ')" = '\n' ] &&
        "$PY" -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/int.nd" &&
        grep -q "^firn sim: $(wc -l <"$WORK/int.nd") events" "$WORK/int.err"
}
check "Ctrl-C ends --count 0 cleanly" interrupted
check "live clock without --start" bash -c "
    '$FIRN' sim --count 1 --size 64x48 --ndjson --quiet | grep -q \"\\\"timeStamp\\\":\\\"\$(date -u +%Y-%m-%d)T\""
finish
