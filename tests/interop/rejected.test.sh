#!/usr/bin/env bash
# rejected.test.sh - one failed audit among good batches (FIRN_WAP_AUDIT_FAIL=records:1@TABLE,
# the first audit of that table): a production table's batch is re-read from the stream and
# quarantined, and every batch after it is audited as usual; a dead-letter batch (no
# untrusted table to quarantine into) is read again and published, never dropped. Batches of one record
# (pipeline.commit-max-bytes=1) publish in the middle of a poll of several partitions, so
# the re-read polls while the poll's other records are still to be added: they must be
# read again from the stream, not from the poll the re-read replaced. Checks: one rejected
# batch, its rows the only audit:* rows, every simulated event with an id once, every
# unparseable one dead-lettered once. Before the fix the run never drained: the re-read had
# polled past the batch and nothing sought back; and a rejected dead-letter batch was lost.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=300
START=2026-11-26T08:00:00Z

# run_once DIR TABLE: firn run, the first audit of TABLE failing
run_once() {
    D=$WORK/$1
    FIRN_WAP_AUDIT_FAIL=records:1@$2 timeout 120 "$FIRN" --warehouse "$D/wh" run --set stream.uri="spool:$D/spool" \
        --set sim.image-width=32 --set sim.image-height=32 --sim-start "$START" --seed 7 \
        --bad-ratio 0.05 --set pipeline.commit-max-bytes=1 --sim-events "$N" --until-drained \
        >"$D.log" 2>&1 || { tail -5 "$D.log"; return 1; }
}
# verify_once DIR REJECTED: REJECTED (0 or 1) batches quarantined, every event where it belongs
verify_once() {
    D=$WORK/$1
    "$FIRN" sim --count "$N" --seed 7 --bad-ratio 0.05 --start "$START" --size 32x32 \
        --truth "$WORK/truth.jsonl" --ndjson --quiet >/dev/null || return 1
    mkdir -p "$D/scan"
    for t in production.parking_entry production.parking_exit staging.parking_entry_untrusted \
             staging.parking_exit_untrusted staging.dead_letter firn.commits; do
        "$FIRN" --warehouse "$D/wh" scan "$t" >"$D/scan/$t.jsonl" || return 1
    done
    "$PY" - "$D/scan" "$WORK/truth.jsonl" "$2" <<'PY'
import collections, json, sys
d, truth_path, want_rejected = sys.argv[1], sys.argv[2], int(sys.argv[3])
def scan(t):
    return [json.loads(l) for l in open(f"{d}/{t}.jsonl") if l.strip()]
truth = [json.loads(l) for l in open(truth_path)]
bad = []
prod = scan("production.parking_entry") + scan("production.parking_exit")
unt = scan("staging.parking_entry_untrusted") + scan("staging.parking_exit_untrusted")
dl = scan("staging.dead_letter")
hist = scan("firn.commits")
rejected = [r for r in hist if r["outcome"] == "rejected"]
audit_rows = [r for r in unt if r["failed_rules"].startswith("audit:")]
if len(rejected) != want_rejected:
    bad.append(f"{len(rejected)} rejected batches, want {want_rejected}: "
               f"{collections.Counter(r['failed_rules'].split(':')[1] for r in audit_rows)}")
elif rejected and int(rejected[0]["rows_untrusted"]) != len(audit_rows):
    bad.append(f"{len(audit_rows)} audit:* rows, the rejected batch quarantined {rejected[0]['rows_untrusted']}")
if any(not r["failed_rules"].startswith("audit:records") for r in audit_rows):
    bad.append("audit rows other than the injected audit:records")
unparseable = collections.Counter(t['rule'] for t in truth if t['truth'].startswith('parse:'))
got_dl = collections.Counter(r['reason'].split(' ')[0] for r in dl)
if not unparseable:
    bad.append("the simulation has no unparseable event")
if got_dl != unparseable:
    bad.append(f"dead letters per reason {dict(got_dl)}, simulated {dict(unparseable)}")
if any(n > 1 for n in collections.Counter((r['raw_partition'], r['raw_offset']) for r in dl).values()):
    bad.append("a raw offset is dead-lettered twice")
ids = collections.Counter(t["eventId"] for t in truth if not t["truth"].startswith("parse:")
                          and t.get("rule") != "required:eventId")
got = collections.Counter(r.get("eventId") for r in prod + unt if r.get("eventId"))
if ids != got:
    diff = {k: (got[k], ids[k]) for k in set(ids) | set(got) if got[k] != ids[k]}
    bad.append(f"eventIds landed differ from the simulated ones (got, want): {list(diff.items())[:5]}")
trusted = collections.Counter(r["eventId"] for r in prod)
if any(n > 1 for n in trusted.values()):
    bad.append("an eventId trusted twice")
for b in bad:
    print(b)
print(f"{len(prod)} trusted, {len(unt)} untrusted ({len(audit_rows)} by the audit), {len(dl)} dead "
      f"letters of {len(truth)} events; {len(hist)} history rows")
sys.exit(1 if bad else 0)
PY
}
check "firn run drains $N events, the first audit of parking_entry failing" \
    run_once entry production.parking_entry
check "one batch quarantined by the audit, every other published, each event once" verify_once entry 1
check "firn run drains $N events, the first audit of the dead letters failing" \
    run_once dl staging.dead_letter
dl_reread() {
    verify_once dl 0 || return 1
    grep -q 'with no untrusted table it is read again' "$WORK/dl.log" || { echo "no dead-letter batch was rejected"; return 1; }
}
check "the rejected dead-letter batch was read again: no rejection, every dead letter once" dl_reread
finish
