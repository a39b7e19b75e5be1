// ib_check.mjs - icebird (npm) reads a firn table from disk and must return exactly the
// rows of the CSV files that were appended (in order; later CSVs may lack columns added
// later: those read as null). icebird reads through fetch: globalThis.fetch is replaced by
// one that serves file: URLs from the local disk (file_fetch.mjs), since every path in
// firn's metadata is a file: URI.
//
//   node ib_check.mjs TABLE_DIR METADATA_FILE_NAME|- KEY_COLUMN ROWS.csv...
//   ("-": icebird finds the latest metadata itself through metadata/version-hint.text)
//
// Normalisation of icebird's values (hyparquet decoding) against the CSV text:
//   long, time      -> BigInt (time: microseconds of the day)
//   int, float, double -> Number (float: the CSV value rounded to float32)
//   decimal(P,S)    -> icebird gives a JS Number (unscaled * 10^-S, so 14.20 reads
//                      14.200000000000001): P <= 15: Number.toFixed(S) must equal the CSV digits
//                      exactly; P > 15 cannot be exact in a Number: relative error <= 1e-15
//                      (exact digits are checked with DuckDB in icebird.test.sh)
//   date            -> Date at UTC midnight
//   timestamp(tz)   -> Date: icebird/hyparquet truncates microseconds to milliseconds toward
//                      zero (BigInt division); the CSV value (offset applied) is truncated the same
//   uuid, fixed     -> Uint8Array, compared as hex (CSV: uuid text, fixed/binary hex)
//   binary          -> icebird decodes BYTE_ARRAY as UTF-8 text (hyparquet's utf8 default,
//                      icebird passes no option): compared with the CSV bytes decoded as UTF-8
// IB_STRICT=decimal,timestamp,binary (any of them) turns a normalisation off: exact digits,
// microseconds, bytes. icebird.test.sh uses it to show what icebird lacks.
import { readFile } from 'node:fs/promises'
import { installFileFetch } from './file_fetch.mjs'

const [tableDir, mdName, key, ...csvs] = process.argv.slice(2)
installFileFetch()
const { icebergRead, icebergMetadata } = await import('icebird')

function parseCsv(text) {
  const rows = []; let row = [], f = '', q = false, i = 0
  for (; i < text.length; i++) {
    const c = text[i]
    if (q) { if (c === '"') { if (text[i + 1] === '"') { f += '"'; i++ } else q = false } else f += c }
    else if (c === '"') q = true
    else if (c === ',') { row.push(f); f = '' }
    else if (c === '\n') { row.push(f); rows.push(row); row = []; f = '' }
    else if (c !== '\r') f += c
  }
  if (f !== '' || row.length) { row.push(f); rows.push(row) }
  const [head, ...body] = rows
  return body.map(r => Object.fromEntries(head.map((h, j) => [h, r[j]])))
}
const strict = new Set((process.env.IB_STRICT ?? '').split(',').filter(Boolean))
const prec = type => type.match(/decimal\((\d+),\s*(\d+)\)/).slice(1).map(Number)
const num = n => (Object.is(n, -0) ? '-0' : String(n)) // keeps the sign of zero
const hex = s => Uint8Array.from(s.match(/../g) ?? [], h => parseInt(h, 16))
const toHex = u => Buffer.from(u).toString('hex')
function micros(s) { // ISO date-time with optional fraction and offset -> BigInt µs since epoch
  const m = s.match(/^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)?$/)
  if (!m) throw new Error(`bad timestamp ${s}`)
  let sec = BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000)
  if (m[8] && m[8] !== 'Z') sec -= BigInt((m[8][0] === '-' ? -1 : 1) * (+m[8].slice(1, 3) * 3600 + +m[8].slice(4) * 60))
  return sec * 1000000n + BigInt((m[7] ?? '').padEnd(6, '0'))
}
// expected value of a CSV cell, in the form icebird returns, as a comparable string
function expect(type, v) {
  if (v === undefined || v === '') return 'null'
  if (type === 'long') return `${BigInt(v)}n`
  if (type === 'int' || type === 'double') return num(Number(v))
  if (type === 'float') return num(Math.fround(Number(v)))
  if (type === 'boolean') return String(v === 'true')
  if (type === 'string') return JSON.stringify(v)
  if (type === 'date') return new Date(v + 'T00:00:00Z').toISOString()
  if (type === 'time') { const [h, mi, s] = v.split(':'); return `${BigInt(Math.round((+h * 3600 + +mi * 60 + +s) * 1e6))}n` }
  if (type === 'timestamp' || type === 'timestamptz')
    return strict.has('timestamp') ? `${micros(v)}us` : new Date(Number(micros(v) / 1000n)).toISOString()
  if (type === 'uuid') return v.replace(/-/g, '').toLowerCase()
  if (type === 'binary') return strict.has('binary') ? v.toLowerCase() : JSON.stringify(new TextDecoder().decode(hex(v)))
  if (type.startsWith('fixed')) return v.toLowerCase()
  if (type.startsWith('decimal')) {
    const [p, sc] = prec(type), neg = v.startsWith('-'), [a, b = ''] = v.replace(/^[-+]/, '').split('.')
    const exact = (neg ? '-' : '') + (a.replace(/^0+(?=\d)/, '') || '0') + (sc ? '.' + b.padEnd(sc, '0') : '')
    return p <= 15 || strict.has('decimal') ? exact : `~${Number(v)}`
  }
  throw new Error(`type ${type} not handled`)
}
function got(type, v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (v instanceof Date) return strict.has('timestamp') && type !== 'date' ? `${BigInt(v.getTime()) * 1000n}us` : v.toISOString()
  if (v instanceof Uint8Array) return toHex(v)
  if (type.startsWith('decimal')) {
    const [p, sc] = prec(type)
    return p <= 15 || strict.has('decimal') ? (typeof v === 'number' ? v.toFixed(sc) : String(v)) : `~${v}`
  }
  if (type === 'binary' && strict.has('binary')) return typeof v === 'string' ? Buffer.from(v, 'utf8').toString('hex') : toHex(v)
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') return num(v)
  return String(v)
}
const same = (type, e, g) => {
  if (e === g) return true
  if (type.startsWith('decimal') && e[0] === '~' && g[0] === '~') {
    const a = Number(e.slice(1)), b = Number(g.slice(1))
    return Math.abs(a - b) <= 1e-15 * Math.max(Math.abs(a), Math.abs(b))
  }
  return false
}

const tableUrl = 'file://' + tableDir
const opts = { tableUrl, ...(mdName === '-' ? {} : { metadataFileName: mdName }) }
const md = await icebergMetadata(opts)
const schema = md.schemas.find(s => s['schema-id'] === md['current-schema-id'])
const rows = await icebergRead({ ...opts, metadata: md })
const expected = []
for (const f of csvs) expected.push(...parseCsv(await readFile(f, 'utf8')))
const bad = []
if (rows.length !== expected.length) bad.push(`icebird read ${rows.length} rows, want ${expected.length}`)
const keyType = schema.fields.find(f => f.name === key).type
const byKey = new Map(rows.map(r => [got(keyType, r[key]), r]))
for (const e of expected) {
  const k = expect(keyType, e[key]), r = byKey.get(k)
  if (!r) { bad.push(`row ${key}=${k}: missing`); continue }
  for (const f of schema.fields) {
    const ev = expect(f.type, e[f.name]), gv = got(f.type, r[f.name])
    if (!same(f.type, ev, gv)) bad.push(`row ${key}=${k} column ${f.name} (${f.type}): got ${gv}, want ${ev}`)
  }
  const extra = Object.keys(r).filter(c => !schema.fields.some(f => f.name === c))
  if (extra.length) bad.push(`row ${key}=${k}: extra columns ${extra}`)
}
if (bad.length) { console.error(bad.join('\n')); process.exit(1) }
console.log(`icebird: ${rows.length} rows, ${schema.fields.length} columns match`)
