"""cli_scan_check.py - input rows and what `firn scan` prints, compared in Python.

  gen OUT1.jsonl OUT2.jsonl OUT3.jsonl   three batches of rows in Iceberg's JSON forms
  same EXPECTED.jsonl GOT.jsonl [COLS]   same multiset of rows (optionally projected)
  filter IN.jsonl... -- PYEXPR           rows of the inputs where PYEXPR (r = the row) holds
  csv GOT.csv EXPECTED.jsonl             the CSV has the rows (null = empty field)
"""
import csv, json, sys
from decimal import Decimal


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [json.loads(l) for l in f if l.strip()]
    return rows


def key(r):
    return json.dumps(r, sort_keys=True)


def gen(outs):
    rid = 0
    for n, out in enumerate(outs):
        with open(out, 'w') as f:
            for i in range(7 if n != 2 else 3):
                rid += 1
                r = {
                    'id': rid,
                    'name': None if rid % 5 == 0 else ['ann', 'bob', "o'neil, \"q\"", 'zoë'][rid % 4] + str(rid),
                    'amount': None if rid % 6 == 0 else f'{rid * 3.25 - 10:.2f}',
                    'ts': f'2025-11-{20 + rid % 3:02d}T{rid % 24:02d}:{rid * 7 % 60:02d}:00.{rid:06d}+00:00',
                    'day': f'2024-02-{1 + rid % 28:02d}',
                    'flag': None if rid % 7 == 0 else rid % 2 == 0,
                    'score': rid * 1.5 if rid % 4 else None,
                    'raw': None if rid % 3 == 0 else bytes([rid, 0, 255 - rid]).hex(),
                }
                f.write(json.dumps(r) + '\n')


def same(exp_path, got_path, cols=None):
    exp, got = load([exp_path]), load([got_path])
    if cols:
        cs = cols.split(',')
        exp = [{c: r.get(c) for c in cs} for r in exp]
        for r in got:
            if list(r.keys()) != cs:
                sys.exit(f'columns {list(r.keys())}, want {cs}')
    e, g = sorted(map(key, exp)), sorted(map(key, got))
    if e != g:
        print('missing:', [x for x in e if x not in g][:5])
        print('unexpected:', [x for x in g if x not in e][:5])
        sys.exit(f'{len(g)} rows, want {len(e)}')


def filt(args):
    sep = args.index('--')
    expr = args[sep + 1]
    for r in load(args[:sep]):
        D = lambda s: None if s is None else Decimal(s)
        try:
            ok = eval(expr, {'D': D, 'r': r})
        except TypeError:  # a comparison with null: unknown, not returned
            ok = False
        if ok:
            print(json.dumps(r))


def csvcheck(got_path, exp_path):
    exp = load([exp_path])
    with open(got_path, newline='') as f:
        rd = csv.reader(f)
        header = next(rd)
        got = list(rd)
    def cell(v):
        if v is None:
            return ''
        if isinstance(v, bool):
            return 'true' if v else 'false'
        return str(v)
    e = sorted(json.dumps([cell(r[c]) for c in header]) for r in exp)
    g = sorted(json.dumps(row) for row in got)
    if e != g:
        print('want', e[:3], '\ngot ', g[:3])
        sys.exit('csv differs')


cmd = sys.argv[1]
if cmd == 'gen':
    gen(sys.argv[2:])
elif cmd == 'same':
    same(*sys.argv[2:])
elif cmd == 'filter':
    filt(sys.argv[2:])
elif cmd == 'csv':
    csvcheck(*sys.argv[2:])
