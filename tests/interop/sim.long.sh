#!/usr/bin/env bash
# sim.long.sh - `firn sim` at the issue's size (make test-long): 50,000 events with 5% bad,
# twice with the same seed (byte-identical), every good event and image read back by
# sim_check.py (Python's standard library), the lot consistent over the whole run, every
# bad kind present (thirteen with --image-max-bytes) and the counts per rule equal to the
# summary. Images are 160x120 to keep the files near 200 MB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${FIRN_SIM_LONG_EVENTS:-50000}
args=(sim --start 2025-11-26T08:00:00Z --seed 2026 --count "$N" --bad-ratio 0.05 --size 160x120
      --image-max-bytes 65536 --ndjson)
"$FIRN" "${args[@]}" --truth "$WORK/t1" >"$WORK/e1" 2>"$WORK/s1"
"$FIRN" "${args[@]}" >"$WORK/e2" 2>/dev/null
check "$N events, same seed twice: byte-identical" cmp "$WORK/e1" "$WORK/e2"
rm -f "$WORK/e2"
check "every good event and image reads back; lot consistent; counts per rule match" \
    bash -c "'$PY' '$INTEROP/sim_check.py' '$WORK/e1' '$WORK/t1' 160 120 200 <'$WORK/s1' | tee /dev/stderr | grep -q 'bad-kinds 13$'"
nbad=$("$PY" -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["truth"] != "good"))' "$WORK/t1")
within() { echo "bad $1 of $N"; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# binomial: sd = sqrt(N * 0.05 * 0.95) (49 at 50,000); allow 4 sd
sd4=$(awk -v n="$N" 'BEGIN { printf "%d", 4 * sqrt(n * 0.05 * 0.95) + 1 }')
check "about 5% bad" within "$nbad" $((N / 20 - sd4)) $((N / 20 + sd4))
finish
