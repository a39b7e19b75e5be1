"""badcorpus_check.py - where `firn run` put each case of the bad-event corpus.

  badcorpus_check.py CORPUS_DIR OFFSETS SCAN_DIR

OFFSETS: "NAME PARTITION OFFSET" lines (append_events' output: each case's raw
record). SCAN_DIR: JSON Lines scans of the production, untrusted, dead-letter and
firn.commits tables. Each MANIFEST case must land exactly where MANIFEST says:
ok -> trusted in its type's production table (image bytes identical);
redelivery -> untrusted with duplicate:eventId (inside the pipeline a repeat is a
duplicate the source sent); parse:* and route:* -> staging.dead_letter at its raw
offset with that reason; rule,rule -> its type's untrusted table with exactly those
failed_rules and its payload byte for byte. Nothing else is in the tables.
"""
import collections, json, sys

corpus, offsets_path, scan_dir = sys.argv[1:4]
def scan(t):
    try:
        with open(f"{scan_dir}/{t}.jsonl") as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []

cases = []
for line in open(f"{corpus}/MANIFEST"):
    if line.startswith('#') or not line.strip():
        continue
    name, want = line.split()
    if name != 'now':
        cases.append((name, want))
offs = {}
for line in open(offsets_path):
    name, p, o = line.split()
    offs[name] = (int(p), int(o))

def text(b):  # the untrusted table's payload column: the record value as text
    return b.decode('utf-8', 'replace')

def read(name, ext):
    try:
        return open(f"{corpus}/{name}.{ext}", 'rb').read()
    except FileNotFoundError:
        return None

bad = []
want_trusted, want_unt, want_dl = collections.Counter(), collections.Counter(), {}
images = {}
for name, want in cases:
    js = read(name, 'json')
    if want.startswith('parse:') or want.startswith('route:'):
        want_dl[offs[name]] = (name, want)
        continue
    ev = json.loads(js)
    table = ev['eventType'].replace('-', '_')
    if want == 'ok':
        want_trusted[(table, ev['eventId'])] += 1
        img = read(name, 'image')
        if img is not None:
            images[(table, ev['eventId'])] = img.hex()
    else:
        rules = 'duplicate:eventId' if want == 'redelivery' else want
        want_unt[(table, rules, text(js))] += 1

got_trusted = collections.Counter()
for table in ('parking_entry', 'parking_exit'):
    for r in scan(f"production.{table}"):
        got_trusted[(table, r['eventId'])] += 1
        if (table, r['eventId']) in images and images[(table, r['eventId'])] != r['image']:
            bad.append(f"trusted {table} {r['eventId']}: image bytes differ from the corpus'")
if got_trusted != want_trusted:
    bad.append(f"trusted rows: unexpected {dict(got_trusted - want_trusted)}, missing {dict(want_trusted - got_trusted)}")

got_unt = collections.Counter()
for table in ('parking_entry', 'parking_exit'):
    for r in scan(f"staging.{table}_untrusted"):
        got_unt[(table, r['failed_rules'], r['payload'])] += 1
if got_unt != want_unt:
    names = {v: k for k, v in ((n, text(read(n, 'json'))) for n, _ in cases)}
    show = lambda c: [(t, rules, names.get(p, p[:40])) for (t, rules, p) in c]
    bad.append(f"untrusted rows: unexpected {show(got_unt - want_unt)}, missing {show(want_unt - got_unt)}")

dl = scan('staging.dead_letter')
seen = set()
for r in dl:
    key = (int(r['raw_partition']), int(r['raw_offset']))
    if key in seen:
        bad.append(f"raw offset {key} dead-lettered twice")
    seen.add(key)
    if key not in want_dl:
        bad.append(f"unexpected dead letter at {key}: {r['reason']}")
        continue
    name, want = want_dl[key]
    if r['reason'].split(' ')[0] != want:
        bad.append(f"{name}: dead letter reason '{r['reason']}', MANIFEST says {want}")
for key, (name, want) in want_dl.items():
    if key not in seen:
        bad.append(f"{name} ({want}): no dead letter")

hist = scan('firn.commits')
sums = [sum(int(r[k]) for r in hist) for k in ('rows_trusted', 'rows_untrusted', 'rows_dead_letter')]
if sums != [sum(want_trusted.values()), sum(want_unt.values()), len(want_dl)]:
    bad.append(f"firn.commits sums {sums}")
for b in bad:
    print(b)
print(f"{len(cases)} cases: {sum(got_trusted.values())} trusted, {sum(got_unt.values())} untrusted, "
      f"{len(dl)} dead letters")
sys.exit(1 if bad else 0)
