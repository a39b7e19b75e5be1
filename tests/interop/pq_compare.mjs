// pq_compare.mjs - check `firn parquet cat FILE` against what DuckDB reads
// from the same file: every row, every flat column, exactly (floats by value,
// everything else by its canonical text; see `firn parquet help`).
//
//   node pq_compare.mjs FIRN FILE [--columns a,b]
// Exits 0 when they agree, else prints the first differences and exits 1.
// Nested columns (struct/list/map) must be absent from firn's output and
// named on its stderr; all flat columns present, in file order.
import { DuckDBInstance } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';

const [firn, file, opt, optv] = process.argv.slice(2);
const columnsArg = opt === '--columns' ? optv : null;

// ---------------------------------------------------------- firn's rows

const args = ['parquet', 'cat', file];
if (columnsArg) args.push('--columns', columnsArg);
const run = spawnSync(firn, args, { maxBuffer: 1 << 30, encoding: 'utf8' });
if (run.status !== 0) {
  console.log(`firn parquet cat exited ${run.status}: ${run.stderr}`);
  process.exit(1);
}

// A JSON object scanner that keeps numbers as their text (JSON.parse would
// round 64-bit integers) and returns [key, {t, v}] pairs in order.
function parseLine(s) {
  let i = 0;
  const fail = (what) => { throw new Error(`bad JSON line (${what} at ${i}): ${s.slice(0, 200)}`); };
  const str = () => {
    if (s[i] !== '"') fail('string expected');
    let j = i + 1;
    while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) fail('unterminated string');
    const v = JSON.parse(s.slice(i, j + 1));
    i = j + 1;
    return v;
  };
  const out = [];
  if (s[i++] !== '{') fail('{ expected');
  if (s[i] === '}') return out;
  for (;;) {
    const k = str();
    if (s[i++] !== ':') fail(': expected');
    let tok;
    if (s[i] === '"') tok = { t: 'str', v: str() };
    else if (s.startsWith('true', i)) { tok = { t: 'bool', v: 'true' }; i += 4; }
    else if (s.startsWith('false', i)) { tok = { t: 'bool', v: 'false' }; i += 5; }
    else if (s.startsWith('null', i)) { tok = { t: 'null', v: null }; i += 4; }
    else {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(s.slice(i));
      if (!m) fail('value expected');
      tok = { t: 'num', v: m[0] };
      i += m[0].length;
    }
    out.push([k, tok]);
    if (s[i] === ',') { i++; continue; }
    if (s[i] === '}') { i++; break; }
    fail(', or } expected');
  }
  if (i !== s.length) fail('trailing bytes');
  return out;
}

const lines = run.stdout.split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const firnRows = lines.map(parseLine);

// ---------------------------------------------------------- DuckDB's rows

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run("SET TimeZone='UTC'");
await con.run('SET threads=1');
const src = `read_parquet('${file.replace(/'/g, "''")}')`;
const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
const q = (n) => '"' + n.replace(/"/g, '""') + '"';
const nested = (t) => /^(STRUCT|MAP|UNION)/.test(t) || /\]$/.test(t);

let cols = desc.filter((d) => !nested(d.column_type));
const nestedCols = desc.filter((d) => nested(d.column_type)).map((d) => d.column_name);
if (columnsArg) {
  const want = columnsArg.split(',');
  cols = want.map((w) => cols.find((d) => d.column_name === w) || (() => { throw new Error(`no flat column ${w}`); })());
}

// How each DuckDB type is expected in firn's output: kind + SQL to render it.
function canon(d) {
  const c = q(d.column_name), t = d.column_type;
  if (t === 'BOOLEAN') return { kind: 'bool', sql: `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END` };
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$/.test(t)) return { kind: 'num', sql: `${c}::VARCHAR` };
  if (t === 'UBIGINT' || t === 'HUGEINT' || t.startsWith('DECIMAL')) return { kind: 'str', sql: `${c}::VARCHAR` };
  if (t === 'FLOAT') return { kind: 'float', sql: `${c}::DOUBLE` };
  if (t === 'DOUBLE') return { kind: 'double', sql: c };
  if (t === 'DATE') return { kind: 'str', sql: `${c}::VARCHAR` };
  if (t === 'TIME') return { kind: 'str', sql: `strftime(DATE '2000-01-01' + ${c}, '%H:%M:%S.%f')` };
  if (t === 'TIMESTAMP_NS') return { kind: 'str', sql: `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%n')` };
  if (/^TIMESTAMP(_MS|_S)?$/.test(t)) return { kind: 'str', sql: `strftime(${c}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f')` };
  if (t === 'TIMESTAMP WITH TIME ZONE') return { kind: 'str', sql: `strftime(${c}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f') || '+00:00'` };
  if (t === 'VARCHAR' || t.startsWith('ENUM')) return { kind: 'str', sql: `${c}::VARCHAR` };
  if (t === 'BLOB') return { kind: 'str', sql: `lower(hex(${c}))` };
  if (t === 'UUID') return { kind: 'str', sql: `${c}::VARCHAR` };
  if (t === 'INTERVAL') return { kind: 'interval', sql: c };
  throw new Error(`comparator has no rendering for DuckDB type ${t} (column ${d.column_name})`);
}
const canons = cols.map(canon);
const sql = `SELECT ${canons.map((k) => k.sql).join(', ') || '1'} FROM ${src}`;
const duckRows = (await con.runAndReadAll(sql)).getRows();

// ---------------------------------------------------------- compare

const problems = [];
const report = (msg) => { if (problems.length < 12) problems.push(msg); else problems.length++; };

if (run.stderr.trim() && !nestedCols.length) report(`unexpected stderr: ${run.stderr.trim()}`);
for (const n of nestedCols) {
  if (!columnsArg && !run.stderr.includes(`skipping column '${n}`))
    report(`nested column ${n} not reported as skipped on stderr`);
}
if (firnRows.length !== duckRows.length) report(`firn printed ${firnRows.length} rows, DuckDB has ${duckRows.length}`);

function leHex(v, bytes) {
  let s = '';
  let x = BigInt.asUintN(8 * bytes, BigInt(v));
  for (let k = 0; k < bytes; k++) { s += (x & 0xffn).toString(16).padStart(2, '0'); x >>= 8n; }
  return s;
}

function check(row, name, kind, tok, exp) {
  const bad = (why) => report(`row ${row} column ${name}: firn ${JSON.stringify(tok)} vs DuckDB ${String(exp)} (${why})`);
  if (exp === null || exp === undefined) {
    if (tok.t !== 'null') bad('expected null');
    return;
  }
  if (tok.t === 'null') return bad('unexpected null');
  switch (kind) {
    case 'bool':
    case 'num':
    case 'str':
      if (tok.t !== kind || tok.v !== exp) bad('differs');
      return;
    case 'float':
    case 'double': {
      if (Number.isNaN(exp)) { if (!(tok.t === 'str' && tok.v === 'NaN')) bad('NaN expected'); return; }
      if (exp === Infinity || exp === -Infinity) {
        if (!(tok.t === 'str' && tok.v === (exp > 0 ? 'Infinity' : '-Infinity'))) bad('infinity expected');
        return;
      }
      if (tok.t !== 'num') return bad('number expected');
      const got = kind === 'float' ? Math.fround(Number(tok.v)) : Number(tok.v);
      if (!Object.is(got, exp)) bad('value differs');
      return;
    }
    case 'interval': {
      const want = leHex(exp.months, 4) + leHex(exp.days, 4) + leHex(exp.micros / 1000n, 4);
      if (tok.t !== 'str' || tok.v !== want) bad(`hex ${want} expected`);
      return;
    }
  }
}

const names = cols.map((d) => d.column_name);
for (let r = 0; r < Math.min(firnRows.length, duckRows.length); r++) {
  const fr = firnRows[r];
  if (fr.length !== names.length || fr.some(([k], j) => k !== names[j])) {
    report(`row ${r}: firn's keys ${fr.map(([k]) => k).join(',')} are not DuckDB's flat columns ${names.join(',')}`);
    continue;
  }
  for (let j = 0; j < names.length; j++) check(r, names[j], canons[j].kind, fr[j][1], duckRows[r][j]);
}

if (problems.length) {
  console.log(`${file}: ${problems.length} problem(s)`);
  for (const p of problems.slice(0, 12)) console.log('  ' + p);
  process.exit(1);
}
console.log(`${file}: ${firnRows.length} rows x ${names.length} columns agree`);
