#!/usr/bin/env bash
# atomicity.test.sh - `firn append` killed with SIGKILL (FIRN_CRASH_AT) at each named
# step of a commit: afterwards the table loads (`firn table show`), it is exactly the
# old or the new version (which one depends on whether the catalog swap happened), no
# file the current metadata references (manifest list, manifests, data files) is
# missing, and the next normal append adds its rows exactly once.
# Then concurrency: 4 processes append 50 one-row commits each to one table at once.
# The table is read back by independent readers: cli_rows.mjs walks metadata ->
# manifest list -> manifests with avsc and DuckDB reads the listed data files;
# Python reads the metadata JSON and the catalog.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WH=$WORK/wh

# rows TABLE: row count DuckDB reads through main's manifests (fails when a manifest
# list or manifest is missing)
rows() { node "$INTEROP/cli_rows.mjs" "$(md_of db "$1")" main "SELECT count(*) AS n FROM t" |
         sed -E 's/.*"n":"?([0-9]+)"?.*/\1/'; }
# files_present TABLE: every file the current metadata references exists: the metadata
# file itself, each snapshot's manifest list (all snapshots), main's manifests (read by
# cli_rows) and main's live data files
files_present() {
    local md; md=$(md_of db "$1")
    [ -f "${md#file:}" ] || { echo "metadata $md missing"; return 1; }
    "$PY" - "${md#file:}" <<'PY' || return 1
import json, os, sys
md = json.load(open(sys.argv[1]))
bad = [s["manifest-list"] for s in md.get("snapshots", [])
       if not os.path.exists(s["manifest-list"].replace("file://", "").replace("file:", ""))]
if bad: print("missing manifest lists:", bad); sys.exit(1)
PY
    local f files
    files=$(node "$INTEROP/cli_rows.mjs" "$md" main --files) || { echo "cannot walk manifests"; return 1; }
    for f in $files; do [ -f "$f" ] || { echo "data file $f missing"; return 1; }; done
}
# total_records TABLE: main's snapshot summary total-records
total_records() {
    "$PY" - "$(md_of db "$1")" <<'PY'
import json, sys
md = json.load(open(sys.argv[1].replace("file://", "").replace("file:", "")))
cur = md.get("current-snapshot-id", -1)
s = [s for s in md.get("snapshots", []) if s["snapshot-id"] == cur]
print(s[0]["summary"]["total-records"] if s else 0)
PY
}

cat >"$WORK/schema.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"name","required":false,"type":"string"}]}
JSON
# csv FROM N: N rows with ids FROM..FROM+N-1
csv() { echo "id,name"; for ((i = $1; i < $1 + $2; i++)); do echo "$i,r$i"; done; }

check "namespace create" fc namespace create db
# previous-versions-max=2 so that every commit deletes a metadata file (cleanup step);
# min-count-to-merge=2 so that every append is a merge append that rewrites the
# parent's manifests (EXISTING entries) as well as writing its own
check "table create" fc table create db.t --schema "$WORK/schema.json" \
    --property write.metadata.previous-versions-max=2 --property commit.manifest.min-count-to-merge=2
csv 0 3 >"$WORK/first.csv"
check "first append" fc append db.t "$WORK/first.csv"
check "first append: 3 rows" eq "$(rows t)" 3

# Crash points of an append commit, in order, and whether the catalog swap has
# happened when the process dies there (then the table must be the new version).
# io.create.* are hit by every file created; :N picks the Nth (data file, new
# manifest, merged manifest, manifest list, metadata file, version hint).
points=(
    "write.after-data-files old"
    "io.create.before-publish:1 old"
    "io.create.after-publish:1 old"
    "io.create.before-publish:2 old"
    "append.after-manifest-write old"
    "io.create.before-publish:3 old"
    "io.create.before-publish:4 old"
    "append.after-manifest-list-write old"
    "io.create.before-publish:5 old"
    "commit.after-metadata-write old"
    "catalog.commit.before-sql-commit old"
    "catalog.commit.after-sql-commit new"
    "commit.after-catalog-swap new"
    "io.create.before-publish:6 new"
    "commit.after-version-hint new"
    "commit.after-metadata-cleanup new"
)
expect=3
next=1000
for entry in "${points[@]}"; do
    p=${entry% *}; want=${entry##* }
    csv "$next" 2 >"$WORK/crash.csv"
    # (braces: the shell's "Killed" notice goes to /dev/null, firn's stderr to crash.out)
    { FIRN_CRASH_AT=$p "$FIRN" --warehouse "$WH" append db.t "$WORK/crash.csv" >"$WORK/crash.out" 2>&1; rc=$?; } 2>/dev/null
    check "$p: killed by SIGKILL (137)" eq "$rc" 137
    [ "$want" = new ] && expect=$((expect + 2))
    next=$((next + 100))
    check "$p: table loads" fc table show db.t
    check "$p: $want version ($expect rows by DuckDB)" eq "$(rows t)" "$expect"
    check "$p: summary total-records" eq "$(total_records t)" "$expect"
    check "$p: no committed file missing" files_present t
    csv "$next" 1 >"$WORK/after.csv"
    check "$p: next append succeeds" fc append db.t "$WORK/after.csv"
    expect=$((expect + 1))
    check "$p: next append's row once" eq \
        "$(node "$INTEROP/cli_rows.mjs" "$(md_of db t)" main "SELECT count(*) AS n FROM t WHERE id = $next" |
           sed -E 's/.*"n":"?([0-9]+)"?.*/\1/')" 1
    check "$p: $expect rows" eq "$(rows t)" "$expect"
    next=$((next + 100))
done
check "no duplicate ids" eq \
    "$(node "$INTEROP/cli_rows.mjs" "$(md_of db t)" main "SELECT count(*) - count(DISTINCT id) AS n FROM t" |
       sed -E 's/.*"n":"?([0-9]+)"?.*/\1/')" 0

check "every append merged: main's manifest list holds one manifest" "$PY" - "$(md_of db t)" <<'PY'
import json, sys, avro.datafile, avro.io
md = json.load(open(sys.argv[1].replace("file://", "").replace("file:", "")))
cur = [s for s in md["snapshots"] if s["snapshot-id"] == md["current-snapshot-id"]][0]
path = cur["manifest-list"].replace("file://", "").replace("file:", "")
with avro.datafile.DataFileReader(open(path, "rb"), avro.io.DatumReader()) as r:
    mfs = list(r)
if len(mfs) != 1: sys.exit(f"{len(mfs)} manifests")
if mfs[0]["existing_files_count"] < 1: sys.exit("no EXISTING entries in the merged manifest")
PY

# ------------------------------------------------------------------ concurrency
P=4 N=${FIRN_CONC_COMMITS:-50}
# Java's default retry policy (4 retries, 100 ms doubling, 10% jitter): each attempt
# starts from the catalog's latest metadata and a retry runs under the catalog's commit
# lock, so no commit loses 5 races in a row to the 3 other writers.
check "concurrency table create" fc table create db.c --schema "$WORK/schema.json"
for ((w = 0; w < P; w++)); do
    for ((k = 0; k < N; k++)); do csv $((w * 10000 + k)) 1 >"$WORK/c-$w-$k.csv"; done
done
conc_start=$(date +%s)
for ((w = 0; w < P; w++)); do
    (
        fails=0
        for ((k = 0; k < N; k++)); do
            fc append db.c "$WORK/c-$w-$k.csv" >/dev/null 2>>"$WORK/c-$w.err" || fails=$((fails + 1))
        done
        echo "$fails" >"$WORK/c-$w.fails"
    ) &
done
wait
echo "    concurrency: $((P * N)) commits in $(( $(date +%s) - conc_start )) s"
check "concurrency: every append succeeded" eq "$(cat "$WORK"/c-*.fails | paste -sd+ | bc)" 0
check "concurrency: table loads" fc table show db.c
# ancestry of main: count, sequence numbers strictly decreasing walking back
check "concurrency: $((P * N)) snapshots on main's ancestry, sequence numbers increasing" \
    "$PY" - "$(md_of db c)" $((P * N)) <<'PY'
import json, sys
md = json.load(open(sys.argv[1].replace("file://", "").replace("file:", "")))
snaps = {s["snapshot-id"]: s for s in md["snapshots"]}
cur, chain = md["refs"]["main"]["snapshot-id"], []
while cur is not None and cur in snaps:
    chain.append(snaps[cur]); cur = snaps[cur].get("parent-snapshot-id")
if len(chain) != int(sys.argv[2]): sys.exit(f"ancestry has {len(chain)} snapshots")
seqs = [s["sequence-number"] for s in reversed(chain)]
if any(b <= a for a, b in zip(seqs, seqs[1:])): sys.exit(f"sequence numbers not increasing: {seqs}")
if seqs[-1] != md["last-sequence-number"]: sys.exit("last-sequence-number mismatch")
PY
check "concurrency: every row exactly once" eq \
    "$(node "$INTEROP/cli_rows.mjs" "$(md_of db c)" main "SELECT count(*) AS n, count(DISTINCT id) AS d FROM t")" \
    "{\"n\":\"$((P * N))\",\"d\":\"$((P * N))\"}"
check "concurrency: no committed file missing" files_present c
finish
