#!/usr/bin/env bash
# maintain.test.sh - `firn maintain` on tables written by `firn append`:
#  - correctness: after compact, rewrite-manifests, expire-snapshots and remove-orphans every
#    ref (main, a tag, a branch) scans exactly the same rows as before (full scans compared),
#    icebird reads main (ib_check.mjs), and every file reachable from a remaining snapshot
#    exists (Python + avro walk: manifest lists, manifests, live data files);
#  - dry runs list exactly what the real runs delete;
#  - crash: SIGKILL (FIRN_CRASH_AT) at each step of a compaction and of an expiry: the table
#    loads, every row is there, no committed file is missing; a later remove-orphans
#    --older-than 0s leaves exactly the files the table references;
#  - concurrency: two writers append one-row commits in a loop while compaction, expiry and
#    orphan removal (10 s margin) run in a loop: no row lost or doubled.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WH=$WORK/wh
# rows TABLE REF: the ref's rows, sorted
rows() { fc scan "db.$1" --ref "$2" --format csv | sort; }
# refs_rows TABLE REF...: every ref's rows, one block each
refs_rows() { local t=$1 r; shift; for r; do echo "== $r"; rows "$t" "$r"; done; }
# walk TABLE [all]: every file the table's snapshots reach must exist; prints the data
# files of live entries (with "all", also the files of DELETED entries that still exist:
# orphan removal keeps what any entry names), sorted
walk() {
    "$PY" - "$(md_path db "$1")" "${2:-live}" <<'PY'
import json, os, sys, avro.datafile, avro.io
loc = lambda p: p.replace("file://", "").replace("file:", "")
md = json.load(open(sys.argv[1]))
files, seen, bad = set(), set(), []
def read(p):
    with avro.datafile.DataFileReader(open(loc(p), "rb"), avro.io.DatumReader()) as r:
        return list(r)
for s in md.get("snapshots", []):
    if not os.path.exists(loc(s["manifest-list"])): bad.append(s["manifest-list"]); continue
    for m in read(s["manifest-list"]):
        if m["manifest_path"] in seen: continue
        seen.add(m["manifest_path"])
        if not os.path.exists(loc(m["manifest_path"])): bad.append(m["manifest_path"]); continue
        for e in read(m["manifest_path"]):
            f = loc(e["data_file"]["file_path"])
            if e["status"] != 2:
                files.add(f)
                if not os.path.exists(f): bad.append(f)
            elif sys.argv[2] == "all" and os.path.exists(f): files.add(f)
if bad: sys.exit("missing: %s" % bad)
print("\n".join(sorted(files)))
PY
}
present() { walk "$1" >/dev/null; }
body() { local f; for f; do tail -n +2 "$f"; done; }

cat >"$WORK/schema.json" <<'JSON'
{"type":"struct","schema-id":0,"fields":[
 {"id":1,"name":"id","required":true,"type":"long"},
 {"id":2,"name":"cat","required":false,"type":"string"}]}
JSON
# csv FILE FROM N: N rows with ids FROM.., cat c0..c2
csv() { { echo "id,cat"; for ((i = $2; i < $2 + $3; i++)); do echo "$i,c$((i % 3))"; done; } >"$1"; }

check "namespace create" fc namespace create db
check "table create" fc table create db.t --schema "$WORK/schema.json" --partition-by cat \
    --property commit.retry.num-retries=20
mains=()
for k in 0 1 2 3 4 5 6 7; do
    csv "$WORK/a$k.csv" $((k * 10)) 4; mains+=("$WORK/a$k.csv")
    fc append db.t "$WORK/a$k.csv" >/dev/null || echo "append $k failed"
    if [ $k = 3 ]; then
        fc tag create db.t v1 >/dev/null
        fc branch create db.t b >/dev/null
        csv "$WORK/b.csv" 500 3; fc append db.t "$WORK/b.csv" --branch b >/dev/null
    fi
done
refs_rows t main v1 b >"$WORK/before.txt"
check "setup: 32 rows on main, 16 on v1, 19 on b (+ the header line)" eq \
    "$(rows t main | wc -l) $(rows t v1 | wc -l) $(rows t b | wc -l)" "33 17 20"

# ------------------------------------------------------------------ each operation
op_check() {
    local name=$1
    check "$name: every ref reads the same rows" eq "$(refs_rows t main v1 b)" "$(cat "$WORK/before.txt")"
    check "$name: every reachable file exists" present t
    check "$name: icebird reads main" node "$INTEROP/ib_check.mjs" "$WH/db/t" "$(basename "$(md_path db t)")" id "${mains[@]}"
}
check "compact dry run rewrites 24 files" bash -c \
    "'$FIRN' --warehouse '$WH' maintain compact db.t --target-size 1000000 --dry-run | grep -q 'files-rewritten=24 '"
check "compact" bash -c "'$FIRN' --warehouse '$WH' maintain compact db.t --target-size 1000000 | grep -q 'files-written=3 '"
op_check compact
check "rewrite-manifests" fc maintain rewrite-manifests db.t
op_check rewrite-manifests
fc maintain expire-snapshots db.t --older-than 0s --retain-last 1 --dry-run | grep '^delete ' | sort >"$WORK/dry.txt"
fc maintain expire-snapshots db.t --older-than 0s --retain-last 1 --verbose | grep '^delete ' | sort >"$WORK/real.txt"
check "expire: dry run lists exactly what the real run deletes" eq "$(cat "$WORK/dry.txt")" "$(cat "$WORK/real.txt")"
check "expire: something was deleted" test -s "$WORK/real.txt"
check "expire: the deleted files are gone" bash -c \
    "! sed 's#^delete file:##' '$WORK/real.txt' | xargs -r ls 2>/dev/null | grep -q ."
op_check expire-snapshots
echo junk >"$WH/db/t/data/junk.parquet"
mkdir -p "$WH/db/t2/data"; echo keep >"$WH/db/t2/data/x.parquet"
fc maintain remove-orphans db.t --older-than 0s --dry-run | grep '^delete ' >"$WORK/odry.txt"
check "remove-orphans dry run: exactly the junk file" eq "$(cat "$WORK/odry.txt")" "delete file:$WH/db/t/data/junk.parquet"
check "remove-orphans dry run deleted nothing" test -f "$WH/db/t/data/junk.parquet"
check "remove-orphans --older-than 3d keeps the new junk" bash -c \
    "'$FIRN' --warehouse '$WH' maintain remove-orphans db.t | grep -q 'orphans-deleted=0 '"
check "remove-orphans" bash -c "'$FIRN' --warehouse '$WH' maintain remove-orphans db.t --older-than 0s | grep -q 'orphans-deleted=1 '"
check "remove-orphans: junk gone, t2's file kept" bash -c "! test -e '$WH/db/t/data/junk.parquet' && test -f '$WH/db/t2/data/x.parquet'"
op_check remove-orphans
check "bad duration is a usage error" bash -c "'$FIRN' --warehouse '$WH' maintain remove-orphans db.t --older-than 3w; test \$? -eq 2"

# ------------------------------------------------------------------ crashes
check "crash table create" fc table create db.c --schema "$WORK/schema.json" --partition-by cat
next=0
add_small() { local k; for k in 1 2; do csv "$WORK/s.csv" $next 3; next=$((next + 3)); fc append db.c "$WORK/s.csv" >/dev/null; done; }
count() { fc scan db.c --format csv | tail -n +2 | wc -l; }
distinct() { fc scan db.c --format csv | tail -n +2 | sort -u | wc -l; }
crash_run() { # LABEL POINT CMD...
    local p="$1 $2" at=$2; shift 2
    { FIRN_CRASH_AT=$at "$FIRN" --warehouse "$WH" "$@" >"$WORK/crash.out" 2>&1; rc=$?; } 2>/dev/null
    check "$p: killed (137)" eq "$rc" 137
    check "$p: table loads" fc table show db.c
    check "$p: all $next rows, once" eq "$(count) $(distinct)" "$next $next"
    check "$p: every reachable file exists" present c
}
for p in write.after-data-files io.create.before-publish:1 io.create.after-publish:1 \
         append.after-manifest-write append.after-manifest-list-write compact.after-write \
         commit.after-metadata-write catalog.commit.before-sql-commit \
         catalog.commit.after-sql-commit commit.after-catalog-swap compact.after-commit; do
    add_small
    crash_run compact "$p" maintain compact db.c --target-size 1000000 
done
for p in commit.after-metadata-write catalog.commit.after-sql-commit expire.after-commit \
         expire.after-delete:1 expire.after-delete:4; do
    add_small
    fc maintain compact db.c --target-size 1000000 >/dev/null
    crash_run expire "$p" maintain expire-snapshots db.c --older-than 0s --retain-last 1
done
check "after the crashes: remove-orphans" fc maintain remove-orphans db.c --older-than 0s
check "after the crashes: the data directory holds exactly the referenced files" eq \
    "$(find "$WH/db/c/data" -type f | sort)" "$(walk c all)"
check "after the crashes: nothing more to remove" bash -c \
    "'$FIRN' --warehouse '$WH' maintain remove-orphans db.c --older-than 0s --dry-run | grep -q 'orphans-deleted=0 '"
check "after the crashes: all $next rows, once" eq "$(count) $(distinct)" "$next $next"

# ------------------------------------------------------------------ concurrency
N=${FIRN_MAINTAIN_COMMITS:-25}
check "concurrency table create" fc table create db.w --schema "$WORK/schema.json" --partition-by cat \
    --property commit.retry.num-retries=30 --property commit.retry.min-wait-ms=5
for w in 0 1; do for ((k = 0; k < N; k++)); do csv "$WORK/w-$w-$k.csv" $((w * 10000 + k)) 1; done; done
for w in 0 1; do
    (
        fails=0
        for ((k = 0; k < N; k++)); do
            fc append db.w "$WORK/w-$w-$k.csv" >/dev/null 2>>"$WORK/w-$w.err" || fails=$((fails + 1))
        done
        echo "$fails" >"$WORK/w-$w.fails"
    ) &
done
mfails=0 rounds=0
while [ ! -f "$WORK/w-0.fails" ] || [ ! -f "$WORK/w-1.fails" ]; do
    fc maintain compact db.w --target-size 1000000 >/dev/null 2>>"$WORK/m.err" || mfails=$((mfails + 1))
    fc maintain expire-snapshots db.w --older-than 0s --retain-last 2 >/dev/null 2>>"$WORK/m.err" || mfails=$((mfails + 1))
    fc maintain remove-orphans db.w --older-than 10s >/dev/null 2>>"$WORK/m.err" || mfails=$((mfails + 1))
    rounds=$((rounds + 1))
done
wait
echo "    concurrency: $((2 * N)) appends beside $rounds maintenance rounds"
check "concurrency: every append succeeded" eq "$(cat "$WORK"/w-*.fails | paste -sd+ | bc)" 0
check "concurrency: every maintenance run succeeded" eq "$mfails" 0
check "concurrency: more than one maintenance round" test "$rounds" -gt 1
check "concurrency: every row exactly once" eq \
    "$(fc scan db.w --format csv | tail -n +2 | wc -l) $(fc scan db.w --format csv | tail -n +2 | sort -u | wc -l)" \
    "$((2 * N)) $((2 * N))"
check "concurrency: every reachable file exists" present w
check "concurrency: a final compaction and expiry keep every row" bash -c \
    "'$FIRN' --warehouse '$WH' maintain all db.w --older-than 0s >/dev/null &&
     test \$('$FIRN' --warehouse '$WH' scan db.w --format csv | tail -n +2 | sort -u | wc -l) -eq $((2 * N))"
[ -s "$WORK/m.err" ] && sed 's/^/    maintain: /' "$WORK/m.err" | head -5
finish
