"""pipe_check.py - what `firn run` published, against the simulator's ground truth.

  pipe_check.py DIR TRUTH.jsonl EVENTS.ndjson

DIR holds one JSON Lines scan per table (production.parking_entry.jsonl, ...,
firn.commits.jsonl), binary columns as hex. Checks: every simulated event
lands exactly once - good ones in their production table, rule breakers in
their untrusted table with the rule the simulator injected, unparseable ones
in staging.dead_letter; an injected duplicate is untrusted while its original
is trusted; images read back byte-identical (sha256 of the bytes = the
image_sha256 column = sha256 of the simulator's image); firn.commits adds up
to the same totals.
"""
import base64, collections, hashlib, json, sys

d, truth_path, events_path = sys.argv[1:4]
def scan(t):
    with open(f"{d}/{t}.jsonl") as f:
        return [json.loads(l) for l in f if l.strip()]

truth = [json.loads(l) for l in open(truth_path)]
sim_images = {}
for line in open(events_path, 'rb'):
    try:
        ev = json.loads(line)
    except Exception:
        continue
    if isinstance(ev, dict) and isinstance(ev.get('image'), str) and isinstance(ev.get('eventId'), str):
        sim_images.setdefault(ev['eventId'], hashlib.sha256(base64.b64decode(ev['image'])).hexdigest())

bad = []
trusted, untrusted = {}, collections.Counter()
unt_by_id = collections.defaultdict(set)
for typ in ('entry', 'exit'):
    for r in scan(f"production.parking_{typ}"):
        if r['eventId'] in trusted:
            bad.append(f"eventId {r['eventId']} trusted twice")
        trusted[r['eventId']] = (typ, r)
        img = bytes.fromhex(r['image'])
        h = hashlib.sha256(img).hexdigest()
        if h != r['image_sha256']:
            bad.append(f"{r['eventId']}: image bytes hash {h}, column says {r['image_sha256']}")
        if sim_images.get(r['eventId']) not in (None, h):
            bad.append(f"{r['eventId']}: image differs from the simulator's")
        if r['eventType'] != f"parking-{typ}":
            bad.append(f"{r['eventId']}: eventType {r['eventType']} in parking_{typ}")
    for r in scan(f"staging.parking_{typ}_untrusted"):
        untrusted[r['failed_rules']] += 1
        unt_by_id[r.get('eventId')].add(r['failed_rules'])

good = [t for t in truth if t['truth'] == 'good']
good_ids = collections.Counter(t['eventId'] for t in good)
if set(trusted) != set(good_ids):
    bad.append(f"trusted ids: {len(set(trusted) - set(good_ids))} unexpected, {len(set(good_ids) - set(trusted))} missing")

# rule breakers: one untrusted row each, naming exactly the rule the simulator broke
rule_events = [t for t in truth if t['truth'] != 'good' and not t['truth'].startswith('parse:')]
want_rules = collections.Counter(t['rule'] for t in rule_events)
if untrusted != want_rules:
    diff = {k: (untrusted[k], want_rules[k]) for k in set(untrusted) | set(want_rules) if untrusted[k] != want_rules[k]}
    bad.append(f"untrusted rows per rule differ from the injected ones (got, want): {diff}")
unt_rows = sum(untrusted.values())
for t in rule_events:
    if t['rule'] != 'required:eventId' and t['rule'] not in unt_by_id.get(t['eventId'], ()):
        bad.append(f"{t['eventId']}: no untrusted row with {t['rule']}")
for t in (t for t in truth if t['truth'] == 'duplicate'):
    if t['eventId'] not in trusted:
        bad.append(f"duplicate {t['eventId']}: its original is not trusted")

dl = scan('staging.dead_letter')
unparseable = collections.Counter(t['rule'] for t in truth if t['truth'].startswith('parse:'))
got_dl = collections.Counter(r['reason'].split(' ')[0] for r in dl)
if got_dl != unparseable:
    bad.append(f"dead letters per reason {dict(got_dl)}, simulated {dict(unparseable)}")
offs = collections.Counter((r['raw_partition'], r['raw_offset']) for r in dl)
if any(n > 1 for n in offs.values()):
    bad.append("a raw offset is dead-lettered twice")

hist_all = scan('firn.commits')
# publishes without atomic multi-table commits (a REST server without
# transactions/commit) add an "intent" row first and, when fenced out, an
# "aborted" row; neither counts rows. Every intent is completed exactly once.
intents = collections.Counter(r.get('batch') for r in hist_all if r['outcome'] == 'intent')
done = collections.Counter(r.get('batch') for r in hist_all if r['outcome'] != 'intent' and r.get('batch'))
for b, n in intents.items():
    if n != 1 or done[b] != 1:
        bad.append(f"intent {b}: {n} intent rows, {done[b]} completion rows (want 1 and 1)")
for b, n in done.items():
    if b not in intents or n != 1:
        bad.append(f"batch {b}: {n} completion rows, {intents[b]} intent rows")
for r in hist_all:
    if r['outcome'] in ('intent', 'aborted') and any(int(r[k]) for k in ('rows_trusted', 'rows_untrusted', 'rows_dead_letter')):
        bad.append(f"{r['outcome']} row of batch {r.get('batch')} counts rows")
hist = [r for r in hist_all if r['outcome'] not in ('intent', 'aborted')]
sums = {k: sum(int(r[k]) for r in hist) for k in ('rows_trusted', 'rows_untrusted', 'rows_dead_letter')}
if sums != {'rows_trusted': len(trusted), 'rows_untrusted': unt_rows, 'rows_dead_letter': len(dl)}:
    bad.append(f"firn.commits sums {sums}, tables hold {len(trusted)}/{unt_rows}/{len(dl)}")
total = len(trusted) + unt_rows + len(dl)
if total != len(truth):
    bad.append(f"{total} rows in all, {len(truth)} events simulated")
for b in bad[:20]:
    print(b)
print(f"{len(trusted)} trusted, {unt_rows} untrusted, {len(dl)} dead letters of {len(truth)} events; "
      f"{len(hist)} publishes, {sum(intents.values())} through intents")
sys.exit(1 if bad else 0)
