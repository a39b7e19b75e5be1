// pq_fixture_compare.mjs - round trip through firn's own writer and reader:
// `firn parquet cat` of a file written by tests/tools/pq_fixture must hold
// exactly the rows pq_fixture says it wrote (EXPECTED.json, its canonical
// forms converted to cat's).
//
//   node pq_fixture_compare.mjs FIRN FILE EXPECTED.json
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [firn, file, expectedPath] = process.argv.slice(2);
const lines = readFileSync(expectedPath, 'utf8').split('\n').filter((l) => l.length);
const header = JSON.parse(lines[0]);
const cols = header.columns;
const expected = lines.slice(1).map((l) => JSON.parse(l));

const run = spawnSync(firn, ['parquet', 'cat', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
if (run.status !== 0) {
  console.log(`firn parquet cat exited ${run.status}: ${run.stderr}`);
  process.exit(1);
}
if (run.stderr.trim()) {
  console.log(`unexpected stderr: ${run.stderr.trim()}`);
  process.exit(1);
}

// Number tokens keep their text (64-bit integers); [key, {t, v}] pairs.
function parseLine(s) {
  const out = [];
  let i = 1;
  const str = () => {
    let j = i + 1;
    while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    const v = JSON.parse(s.slice(i, j + 1));
    i = j + 1;
    return v;
  };
  if (s[0] !== '{') throw new Error('not an object: ' + s.slice(0, 100));
  if (s[1] === '}') return out;
  for (;;) {
    const k = str();
    i++; // ':'
    let tok;
    if (s[i] === '"') tok = { t: 'str', v: str() };
    else {
      const m = /^(true|false|null|-?[0-9][0-9.eE+-]*)/.exec(s.slice(i));
      if (!m) throw new Error('bad value in ' + s.slice(0, 100));
      i += m[0].length;
      tok = m[0] === 'null' ? { t: 'null' } : m[0] === 'true' || m[0] === 'false' ? { t: 'bool', v: m[0] } : { t: 'num', v: m[0] };
    }
    out.push([k, tok]);
    if (s[i] === ',') { i++; continue; }
    break;
  }
  return out;
}
const got = run.stdout.split('\n').filter((l) => l.length).map(parseLine);

// pq_fixture's canonical value -> cat's rendering
function civil(z) { // days since 1970-01-01 -> [y, m, d] (H. Hinnant)
  z += 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  return [yoe + era * 400n + (m <= 2n ? 1n : 0n), m, d];
}
const pad = (v, n) => String(v).padStart(n, '0');
function dateStr(days) {
  const [y, m, d] = civil(BigInt(days));
  const ys = y >= 0n && y <= 9999n ? pad(y, 4) : (y < 0n ? '-' : '+') + pad(y < 0n ? -y : y, 4);
  return `${ys}-${pad(m, 2)}-${pad(d, 2)}`;
}
function timeStr(units, per) {
  const secs = units / per, frac = units % per;
  return `${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}:${pad(secs % 60n, 2)}.${pad(frac, per === 1000000n ? 6 : 9)}`;
}
function tsStr(v, per, tz) {
  const day = per * 86400n;
  let days = v / day, rem = v % day;
  if (rem < 0n) { rem += day; days -= 1n; }
  return `${dateStr(days)}T${timeStr(rem, per)}${tz ? '+00:00' : ''}`;
}

let failures = 0;
const fail = (msg) => { if (++failures <= 30) console.log('MISMATCH ' + msg); };
if (got.length !== expected.length) fail(`firn printed ${got.length} rows, pq_fixture wrote ${expected.length}`);
for (let r = 0; r < Math.min(got.length, expected.length); r++) {
  const row = got[r];
  if (row.length !== cols.length) { fail(`row ${r}: ${row.length} columns, expected ${cols.length}`); continue; }
  for (let c = 0; c < cols.length; c++) {
    const col = cols[c], [key, tok] = row[c], exp = expected[r][c];
    if (key !== col.name) { fail(`row ${r} column ${c}: key ${key}, expected ${col.name}`); continue; }
    const bad = (want) => fail(`row ${r} ${col.name} (${col.type}): firn ${JSON.stringify(tok)}, expected ${JSON.stringify(want)} (pq_fixture ${JSON.stringify(exp)})`);
    if (exp === null) { if (tok.t !== 'null') bad(null); continue; }
    switch (col.type) {
      case 'boolean': if (tok.t !== 'bool' || tok.v !== String(exp)) bad(exp); break;
      case 'int': case 'long': if (tok.t !== 'num' || BigInt(tok.v) !== BigInt(exp)) bad(exp); break;
      case 'float': case 'double': {
        if (exp === 'NaN' || exp === 'Infinity' || exp === '-Infinity') { if (tok.t !== 'str' || tok.v !== exp) bad(exp); break; }
        const want = Number(exp);
        const have = tok.t === 'num' ? (col.type === 'float' ? Math.fround(Number(tok.v)) : Number(tok.v)) : NaN;
        if (!Object.is(have, want)) bad(exp);
        break;
      }
      case 'decimal': case 'string': if (tok.t !== 'str' || tok.v !== exp) bad(exp); break;
      case 'date': { const w = dateStr(exp); if (tok.v !== w) bad(w); break; }
      case 'time': { const w = timeStr(BigInt(exp), 1000000n); if (tok.v !== w) bad(w); break; }
      case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns': {
        const w = tsStr(BigInt(exp), col.type.endsWith('_ns') ? 1000000000n : 1000000n, col.type.startsWith('timestamptz'));
        if (tok.v !== w) bad(w);
        break;
      }
      case 'uuid': if (tok.t !== 'str' || tok.v.replace(/-/g, '') !== exp || tok.v.length !== 36) bad(exp); break;
      case 'fixed': case 'binary': if (tok.t !== 'str' || tok.v !== exp) bad(exp); break;
      default: bad(`(no rule for type ${col.type})`);
    }
  }
}
if (failures) { console.log(`${failures} mismatches`); process.exit(1); }
console.log(`${file}: ${got.length} rows x ${cols.length} columns match pq_fixture's`);
