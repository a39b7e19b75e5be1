// pq_check.mjs - checks a Parquet file written by firn (tests/tools/pq_fixture)
// against the rows it should hold (EXPECTED.json), with an independent reader.
//
//   node pq_check.mjs duckdb    FILE EXPECTED.json   rows, schema, metadata, stats
//   node pq_check.mjs hyparquet FILE EXPECTED.json   rows (logical and physical)
//   node pq_check.mjs arrow     FILE EXPECTED.json   rows and field ids, read by arrow-rs
//                                                    (parquet-wasm) into Arrow JS
//   node pq_check.mjs firn      FILE EXPECTED.json   rows as `$FIRN parquet cat` prints them
//                                                    (firn's own reader; long columns skipped:
//                                                    JSON numbers lose digits in JavaScript)
//
// Exits 0 when everything matches; prints every mismatch (up to a limit) otherwise.
import { readFileSync, statSync } from 'node:fs'

const [mode, file, expectedPath] = process.argv.slice(2)
const lines = readFileSync(expectedPath, 'utf8').split('\n').filter(l => l.length)
const header = JSON.parse(lines[0])
const cols = header.columns
const expected = lines.slice(1).map(l => JSON.parse(l))
let failures = 0
function fail(msg) {
  failures++
  if (failures <= 40) console.log('MISMATCH ' + msg)
}
function done() {
  if (failures) {
    console.log(`${failures} mismatches`)
    process.exit(1)
  }
  console.log(`${mode}: ${expected.length} rows x ${cols.length} columns match`)
}

// ------------------------------------------------------------ canonical forms
const hex = b => Buffer.from(b).toString('hex')
function canonFloat(x) {
  if (typeof x === 'string') {
    if (x === 'NaN' || x === 'nan' || x === '-nan') return 'NaN'
    if (x === 'Infinity' || x === 'inf') return 'Infinity'
    if (x === '-Infinity' || x === '-inf') return '-Infinity'
    if (x === '-0') return '-0'
    x = Number(x)
  }
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (Object.is(x, -0)) return '-0'
  return String(x)
}
const decimalToUnscaled = s => BigInt(s.replace('.', ''))
function unscaledFromBytes(b) {
  let v = 0n
  for (const byte of b) v = (v << 8n) | BigInt(byte)
  if (b.length && b[0] & 0x80) v -= 1n << BigInt(8 * b.length)
  return v
}
// the expected canonical value, as the reader under test should show it
function same(col, exp, act) {
  if (exp === null) return act === null || act === undefined
  if (act === null || act === undefined) return false
  switch (col.type) {
  case 'float':
  case 'double':
    return canonFloat(exp) === canonFloat(act)
  default:
    return exp === act
  }
}

// ---------------------------------------------------------------- duckdb
async function checkDuckdb() {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
  const con = await inst.connect()
  await con.run("SET TimeZone = 'UTC'")
  const q = async sql => (await con.runAndReadAll(sql)).getRowObjectsJson()
  const f = file.replace(/'/g, "''")

  // schema: field ids, physical, logical and converted types
  const schema = await q(`SELECT * FROM parquet_schema('${f}')`)
  const byName = new Map(schema.map(r => [r.name, r]))
  const duckType = c => ({
    boolean: 'BOOLEAN', int: 'INTEGER', long: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
    decimal: `DECIMAL(${c.precision},${c.scale})`, date: 'DATE', time: 'TIME', timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMP WITH TIME ZONE', timestamp_ns: 'TIMESTAMP_NS',
    timestamptz_ns: 'TIMESTAMP WITH TIME ZONE', string: 'VARCHAR', uuid: 'UUID', fixed: 'BLOB', binary: 'BLOB',
  })[c.type]
  const converted = c => ({
    string: 'UTF8', decimal: 'DECIMAL', date: 'DATE', time: 'TIME_MICROS', timestamp: 'TIMESTAMP_MICROS',
    timestamptz: 'TIMESTAMP_MICROS',
  })[c.type] ?? null
  const logical = c => ({
    string: 'StringType()', decimal: `DecimalType(scale=${c.scale}, precision=${c.precision})`, date: 'DateType()',
    time: 'TimeType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
    timestamp: 'TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
    timestamptz: 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
    timestamp_ns: 'TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=<null>, NANOS=NanoSeconds()))',
    timestamptz_ns: 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=<null>, NANOS=NanoSeconds()))',
    uuid: 'UUIDType()',
  })[c.type] ?? null
  if (schema[0].field_id !== null) fail('root has a field_id')
  for (const c of cols) {
    const s = byName.get(c.name)
    if (!s) { fail(`schema: no column ${c.name}`); continue }
    if (s.field_id !== String(c.field_id)) fail(`schema ${c.name}: field_id ${s.field_id} != ${c.field_id}`)
    if (s.duckdb_type !== duckType(c)) fail(`schema ${c.name}: duckdb type ${s.duckdb_type} != ${duckType(c)}`)
    if (s.converted_type !== converted(c)) fail(`schema ${c.name}: converted ${s.converted_type} != ${converted(c)}`)
    if (s.logical_type !== logical(c)) fail(`schema ${c.name}: logical ${s.logical_type} != ${logical(c)}`)
    if (s.repetition_type !== (c.optional ? 'OPTIONAL' : 'REQUIRED')) fail(`schema ${c.name}: repetition ${s.repetition_type}`)
    const len = c.type === 'uuid' ? '16' : c.type === 'fixed' ? String(c.length)
      : c.type === 'decimal' && c.precision > 18 ? '16' : null
    if (s.type_length !== len) fail(`schema ${c.name}: type_length ${s.type_length} != ${len}`)
  }

  // rows, in file order, each column rendered canonically by SQL
  const expr = c => {
    const n = `"${c.name}"`
    switch (c.type) {
    case 'long': case 'timestamp_ns': return `CAST(${n} AS VARCHAR)`
    case 'time': return `CAST(epoch_us(DATE '1970-01-01' + ${n}) AS VARCHAR)`
    case 'timestamp': case 'timestamptz': case 'timestamptz_ns': return `CAST(epoch_us(${n}) AS VARCHAR)`
    case 'float': case 'double': return `CAST(CAST(${n} AS DOUBLE) AS VARCHAR)`
    case 'decimal': return `CAST(${n} AS VARCHAR)`
    case 'date': return `CAST(${n} - DATE '1970-01-01' AS INTEGER)`
    case 'uuid': return `replace(CAST(${n} AS VARCHAR), '-', '')`
    case 'fixed': case 'binary': return `lower(hex(${n}))`
    default: return n
    }
  }
  const exprNs = c => c.type === 'timestamp_ns' ? `CAST(epoch_ns("${c.name}") AS VARCHAR)` : expr(c)
  const sql = `SELECT ${cols.map((c, i) => `${exprNs(c)} AS c${i}`).join(', ')}
    FROM read_parquet('${f}', file_row_number = true) ORDER BY file_row_number`
  const rows = await q(sql)
  if (rows.length !== expected.length) fail(`row count ${rows.length} != ${expected.length}`)
  for (let r = 0; r < Math.min(rows.length, expected.length); r++) {
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]
      let exp = expected[r][i]
      let act = rows[r][`c${i}`]
      if (c.type === 'double' || c.type === 'float') act = act === null ? null : act
      if (c.type === 'timestamptz_ns' && exp !== null) exp = String(BigInt(exp) / 1000n) // DuckDB: micros
      if (c.type === 'date' && act !== null) act = Number(act)
      if (!same(c, exp, act)) fail(`row ${r} ${c.name}: ${JSON.stringify(act)} != expected ${JSON.stringify(exp)}`)
    }
  }

  // file metadata
  const fm = (await q(`SELECT * FROM parquet_file_metadata('${f}')`))[0]
  if (fm.num_rows !== String(expected.length)) fail(`num_rows ${fm.num_rows}`)
  if (!/^firn version /.test(fm.created_by)) fail(`created_by ${fm.created_by}`)
  if (fm.num_row_groups !== String(header.row_groups)) fail(`row groups ${fm.num_row_groups} != ${header.row_groups}`)
  const size = statSync(file).size
  if (size !== header.file_size) fail(`file size ${size} != reported ${header.file_size}`)
  const kv = await q(`SELECT key, value FROM parquet_kv_metadata('${f}')`)
  if (!kv.some(k => k.key === 'iceberg.schema')) fail('no iceberg.schema key/value')

  // column chunks: codec, null counts, min/max statistics per row group
  const md = await q(`SELECT * FROM parquet_metadata('${f}') ORDER BY row_group_id, column_id`)
  const codecName = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', lz4: 'LZ4_RAW' }[header.codec]
  let rowStart = 0
  const groups = [...new Set(md.map(m => m.row_group_id))]
  for (const g of groups) {
    const chunks = md.filter(m => m.row_group_id === g)
    const n = Number(chunks[0].row_group_num_rows)
    const first = Math.min(...chunks.map(m => Number(m.dictionary_page_offset ?? m.data_page_offset)))
    if (header.row_group_offsets[g] !== first) fail(`row group ${g} offset ${first} != reported ${header.row_group_offsets[g]}`)
    // the writer streams the first media byte-array column: its chunk starts the row group
    const streamed = cols.findIndex(c => c.media && (c.type === 'binary' || c.type === 'string'))
    if (streamed >= 0) {
      const sc = chunks.find(m => Number(m.column_id) === streamed)
      if (Number(sc.data_page_offset) !== first) fail(`row group ${g}: streamed column at ${sc.data_page_offset}, not ${first}`)
    }
    for (const m of chunks) {
      const i = Number(m.column_id)
      const c = cols[i]
      const what = `rg ${g} ${c.name}`
      const wantCodec = c.media ? 'UNCOMPRESSED' : codecName // media columns are never compressed
      if (m.compression !== wantCodec) fail(`${what}: codec ${m.compression} != ${wantCodec}`)
      if (m.num_values !== String(n)) fail(`${what}: num_values ${m.num_values} != ${n}`)
      const vals = expected.slice(rowStart, rowStart + n).map(row => row[i])
      const nulls = vals.filter(v => v === null).length
      if (m.stats_null_count !== String(nulls)) fail(`${what}: null_count ${m.stats_null_count} != ${nulls}`)
      if (c.media) { // no min/max for media
        if (m.stats_min_value !== null || m.stats_max_value !== null) fail(`${what}: media column has min/max`)
      } else {
        checkStats(c, vals.filter(v => v !== null), m, what)
      }
    }
    rowStart += n
  }
  if (rowStart !== expected.length) fail(`row groups hold ${rowStart} rows`)
}

// Expected statistics of a chunk (after truncation of long byte arrays) and
// DuckDB's rendering of them, both reduced to comparable keys.
function checkStats(c, vals, m, what) {
  let keyed // [sortKey compare fn, canonical of value]
  const utf8 = s => Buffer.from(s, 'utf8')
  switch (c.type) {
  case 'boolean': vals = vals.map(v => (v ? 1n : 0n)); break
  case 'int': case 'date': vals = vals.map(v => BigInt(v)); break
  case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
    vals = vals.map(v => BigInt(v)); break
  case 'decimal': vals = vals.map(decimalToUnscaled); break
  case 'float': case 'double': vals = vals.map(Number).filter(v => !Number.isNaN(v)); break
  case 'string': vals = vals.map(utf8); break
  default: vals = vals.map(v => Buffer.from(v, 'hex'))
  }
  const isBytes = Buffer.isBuffer(vals[0])
  let lo = null, hi = null
  for (const v of vals) {
    if (lo === null) { lo = hi = v; continue }
    if (isBytes ? Buffer.compare(v, lo) < 0 : v < lo) lo = v
    if (isBytes ? Buffer.compare(v, hi) > 0 : v > hi) hi = v
  }
  let loExact = true, hiExact = true
  if (isBytes && lo !== null && (c.type === 'string' || c.type === 'binary')) {
    if (lo.length > 64) { lo = truncate(lo, c.type === 'string'); loExact = false }
    if (hi.length > 64) { hi = roundUp(hi, c.type === 'string'); hiExact = false }
    if (hi === null) lo = null
  }
  let actLo = parseStat(c, m.stats_min_value), actHi = parseStat(c, m.stats_max_value)
  if (c.type === 'timestamptz_ns') { // DuckDB keeps micros of these
    const us = v => (v === null ? null : v / 1000n)
    lo = us(lo); hi = us(hi); actLo = us(actLo); actHi = us(actHi)
  }
  const eq = (a, b) => (a === null || b === null ? a === b : isBytes ? Buffer.compare(a, b) === 0 : a === b)
  const infinite = v => typeof v === 'number' && !Number.isFinite(v)
  if (!(eq(lo, actLo) || (infinite(lo) && actLo === null)))
    fail(`${what}: min ${fmt(actLo)} != expected ${fmt(lo)}`)
  if (!(eq(hi, actHi) || (infinite(hi) && actHi === null)))
    fail(`${what}: max ${fmt(actHi)} != expected ${fmt(hi)}`)
  if (lo !== null && !loExact && m.min_is_exact !== false) fail(`${what}: min_is_exact ${m.min_is_exact}`)
  if (hi !== null && !hiExact && m.max_is_exact !== false) fail(`${what}: max_is_exact ${m.max_is_exact}`)
}
const fmt = v => (v === null ? 'null' : Buffer.isBuffer(v) ? v.toString('hex') : String(v))
function truncate(b, isString) {
  let cut = 64
  if (isString) while (cut > 0 && (b[cut] & 0xc0) === 0x80) cut--
  return b.subarray(0, cut)
}
function roundUp(b, isString) {
  if (isString) {
    const cps = [...truncate(b, true).toString('utf8')]
    for (let i = cps.length - 1; i >= 0; i--) {
      let cp = cps[i].codePointAt(0) + 1
      if (cp === 0xd800) cp = 0xe000
      if (cp <= 0x10ffff) return Buffer.from(cps.slice(0, i).join('') + String.fromCodePoint(cp), 'utf8')
    }
    return null
  }
  for (let i = 64; i > 0; i--) {
    if (b[i - 1] !== 0xff) {
      const r = Buffer.from(b.subarray(0, i))
      r[i - 1]++
      return r
    }
  }
  return null
}
// DuckDB renders statistics as its own values; back to comparable keys
function parseStat(c, s) {
  if (s === null || s === undefined) return null
  switch (c.type) {
  case 'boolean': return s === 'true' ? 1n : 0n
  case 'int': case 'long': return BigInt(s)
  case 'decimal': return decimalToUnscaled(s)
  case 'float': case 'double': return Number(s)
  case 'date': return BigInt(days(s))
  case 'time': return micros(s)
  case 'timestamp': case 'timestamptz': case 'timestamptz_ns': {
    const [d, t] = s.replace(/\+00$/, '').split(' ')
    const us = BigInt(days(d)) * 86400000000n + micros(t)
    return c.type === 'timestamptz_ns' ? us * 1000n : us // DuckDB shows micros
  }
  case 'timestamp_ns': {
    const [d, t] = s.split(' ')
    return BigInt(days(d)) * 86400000000000n + nanos(t)
  }
  case 'string': return Buffer.from(s, 'utf8')
  case 'uuid': return Buffer.from(s.replace(/-/g, ''), 'hex')
  default: { // blob: printable ASCII as is, other bytes \xHH
    const out = []
    for (let i = 0; i < s.length;) {
      if (s[i] === '\\' && s[i + 1] === 'x') { out.push(parseInt(s.slice(i + 2, i + 4), 16)); i += 4 }
      else { out.push(s.charCodeAt(i)); i++ }
    }
    return Buffer.from(out)
  }
  }
}
function days(d) {
  const [y, mo, da] = d.split('-').map(Number)
  const t = new Date(0)
  t.setUTCFullYear(y, mo - 1, da)
  return Math.round(t.getTime() / 86400000)
}
function frac(t, digits) {
  const [hms, f = ''] = t.split('.')
  const [h, mi, se] = hms.split(':').map(BigInt)
  return ((h * 60n + mi) * 60n + se) * 10n ** BigInt(digits) + BigInt((f + '000000000').slice(0, digits))
}
const micros = t => frac(t, 6)
const nanos = t => frac(t, 9)

// ------------------------------------------------------------- hyparquet
async function checkHyparquet() {
  const { parquetMetadata, parquetReadObjects } = await import('hyparquet')
  const { compressors } = await import('hyparquet-compressors')
  const buf = readFileSync(file)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const metadata = parquetMetadata(ab)
  for (let i = 0; i < cols.length; i++) {
    const el = metadata.schema[i + 1]
    if (el.field_id !== cols[i].field_id) fail(`hyparquet schema ${cols[i].name}: field_id ${el.field_id}`)
  }
  const id = v => v
  const parsers = { timestampFromMilliseconds: id, timestampFromMicroseconds: id, timestampFromNanoseconds: id, dateFromDays: id }
  const rows = await parquetReadObjects({ file: ab, compressors, parsers, metadata, utf8: false })
  if (rows.length !== expected.length) fail(`hyparquet row count ${rows.length} != ${expected.length}`)
  // physical values: the same metadata without logical/converted types
  const raw = structuredClone(metadata)
  for (const el of raw.schema) { delete el.logical_type; delete el.converted_type }
  const rawRows = await parquetReadObjects({ file: ab, compressors, metadata: raw, utf8: false })
  for (let r = 0; r < Math.min(rows.length, expected.length); r++) {
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]
      const exp = expected[r][i]
      let act = rows[r][c.name]
      const phys = rawRows[r][c.name]
      switch (c.type) {
      case 'long': case 'time': case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns':
        if (act !== null && act !== undefined) act = String(act); break
      case 'uuid': if (act) act = act.replace(/-/g, ''); break
      case 'fixed': case 'binary': if (act) act = hex(act); break
      case 'decimal': {
        // logical read is a float: near enough; the physical read must be exact
        if (exp === null) { if (act !== null && act !== undefined) fail(`hyparquet row ${r} ${c.name}: not null`); break }
        const rel = Math.abs(act - Number(exp)) / Math.max(1e-300, Math.abs(Number(exp)))
        if (!(rel < 1e-13 || act === Number(exp))) fail(`hyparquet row ${r} ${c.name}: ${act} != ${exp}`)
        const unscaled = phys instanceof Uint8Array ? unscaledFromBytes(phys) : BigInt(phys)
        if (unscaled !== decimalToUnscaled(exp)) fail(`hyparquet raw row ${r} ${c.name}: ${unscaled} != ${exp}`)
        continue
      }
      }
      if (c.type === 'date' && act !== null && act !== undefined) act = Number(act)
      if (!same(c, exp, act ?? null)) fail(`hyparquet row ${r} ${c.name}: ${JSON.stringify(act, (k, v) => typeof v === 'bigint' ? String(v) : v)} != expected ${JSON.stringify(exp)}`)
    }
  }
}

// ------------------------------------------------- arrow-rs (parquet-wasm)
async function checkArrow() {
  const arrow = await import('apache-arrow')
  const pw = await import('parquet-wasm/node')
  const table = arrow.tableFromIPC(pw.readParquet(new Uint8Array(readFileSync(file))).intoIPCStream())
  if (table.numRows !== expected.length) fail(`arrow row count ${table.numRows} != ${expected.length}`)
  const n = Math.min(table.numRows, expected.length)
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]
    const f = table.schema.fields[i]
    if (!f || f.name !== c.name) { fail(`arrow column ${i}: ${f?.name} != ${c.name}`); continue }
    if (f.metadata.get('PARQUET:field_id') !== String(c.field_id)) fail(`arrow ${c.name}: field_id ${f.metadata.get('PARQUET:field_id')}`)
    const vec = table.getChild(c.name)
    // 64-bit times: the stored integers (Arrow JS turns timestamps into float milliseconds)
    const raw = []
    for (const d of vec.data) {
      if (d.offset) fail(`arrow ${c.name}: sliced data`)
      for (let j = 0; j < d.length; j++) raw.push(d.values[j])
    }
    for (let r = 0; r < n; r++) {
      const exp = expected[r][i]
      let act = vec.get(r)
      if (act !== null && act !== undefined) {
        switch (c.type) {
        case 'long': case 'time': act = String(act); break
        case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns': act = String(raw[r]); break
        case 'date': act = act / 86400000; break
        case 'decimal': act = String(act); break
        case 'uuid': case 'fixed': case 'binary': act = hex(act); break
        }
      }
      const want = c.type === 'decimal' && exp !== null ? String(decimalToUnscaled(exp)) : exp
      if (!same(c, want, act ?? null)) fail(`arrow row ${r} ${c.name}: ${JSON.stringify(act, (k, v) => typeof v === 'bigint' ? String(v) : v)} != expected ${JSON.stringify(want)}`)
    }
  }
}

// ------------------------------------------------- firn's reader (parquet cat)
async function checkFirn() {
  const { execFileSync } = await import('node:child_process')
  const out = execFileSync(process.env.FIRN ?? 'build/firn', ['parquet', 'cat', file],
    { maxBuffer: 1 << 30, encoding: 'utf8' })
  const rows = out.split('\n').filter(l => l.length).map(l => JSON.parse(l))
  if (rows.length !== expected.length) fail(`firn row count ${rows.length} != ${expected.length}`)
  const f32 = x => canonFloat(typeof x === 'string' ? x : Math.fround(Number(x)))
  for (let r = 0; r < Math.min(rows.length, expected.length); r++) {
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]
      if (c.type === 'long') continue
      let exp = expected[r][i]
      let act = rows[r][c.name]
      if (act !== null && act !== undefined) {
        switch (c.type) {
        case 'float': act = f32(act); exp = exp === null ? null : f32(exp); break
        case 'date': act = days(act); break
        case 'time': act = String(micros(act)); break
        case 'timestamp': case 'timestamptz': case 'timestamp_ns': case 'timestamptz_ns': {
          const [d, t] = act.replace(/\+00:00$/, '').split('T')
          const ns = c.type.endsWith('_ns')
          act = String(BigInt(days(d)) * (ns ? 86400000000000n : 86400000000n) + (ns ? nanos(t) : micros(t)))
          break
        }
        case 'uuid': act = act.replace(/-/g, ''); break
        }
      }
      if (!same(c, exp, act ?? null)) fail(`firn row ${r} ${c.name}: ${JSON.stringify(act)} != expected ${JSON.stringify(exp)}`)
    }
  }
}

if (mode === 'duckdb') await checkDuckdb()
else if (mode === 'hyparquet') await checkHyparquet()
else if (mode === 'arrow') await checkArrow()
else if (mode === 'firn') await checkFirn()
else { console.log('usage: node pq_check.mjs duckdb|hyparquet|arrow|firn FILE EXPECTED.json'); process.exit(2) }
done()
