// ice_check.mjs - checks a table written by tests/tools/ice_write_fixture
// with independent readers: the metadata JSON (parsed here), the manifest
// list and manifests (avsc), and the data files (DuckDB).
//
//   node ice_check.mjs EXPECTED.jsonl
//
// Walks current metadata -> current snapshot -> manifest list -> manifests
// -> data files; checks the files listed are exactly those firn wrote, their
// record counts and partition values against what DuckDB reads in them, the
// Parquet field ids, the iceberg.schema footer key, the uncompressed media
// column, and that DuckDB returns exactly the rows the fixture wrote.
import { readFileSync } from 'node:fs'
import avro from 'avsc'
import { parseHook } from './avsc_long.mjs'

const [expectedPath] = process.argv.slice(2)
const lines = readFileSync(expectedPath, 'utf8').split('\n').filter(l => l.length)
const header = JSON.parse(lines[0])
const expected = lines.slice(1).map(l => JSON.parse(l))
let failures = 0
function fail(msg) {
  failures++
  if (failures <= 40) console.log('MISMATCH ' + msg)
}
const local = uri => uri.replace(/^file:(\/\/)?/, '')

function readAvro(path) {
  return new Promise((resolve, reject) => {
    const recs = []
    let meta = null
    avro.createFileDecoder(local(path), { parseHook })
      .on('metadata', (type, codec, hdr) => { meta = { type, codec, hdr: hdr.meta } })
      .on('data', r => recs.push(r))
      .on('end', () => resolve({ recs, meta }))
      .on('error', reject)
  })
}

// ------------------------------------------------------------ metadata chain
const mdText = readFileSync(local(header.metadata), 'utf8')
const md = JSON.parse(mdText)
// ids are 63-bit: JavaScript numbers round them, so compare the text
const currentId = /"current-snapshot-id":(-?\d+)/.exec(mdText)[1]
if (md['format-version'] !== 2) fail(`format-version ${md['format-version']}`)
const snap = md.snapshots.find(s => s['snapshot-id'] === md['current-snapshot-id'])
if (!snap) { fail('no current snapshot'); process.exit(1) }
if (md.refs?.main?.['snapshot-id'] !== md['current-snapshot-id']) fail('refs.main != current-snapshot-id')
if (snap.summary['total-records'] !== String(header.rows)) fail(`summary total-records ${snap.summary['total-records']}`)
if (snap.summary['total-data-files'] !== String(header.files.length)) fail(`summary total-data-files ${snap.summary['total-data-files']}`)
const list = await readAvro(snap['manifest-list'])
if (list.meta.hdr['snapshot-id'].toString() !== currentId) fail(`manifest list snapshot-id header ${list.meta.hdr['snapshot-id']} != ${currentId}`)
if (list.recs.length !== 2) fail(`manifest list has ${list.recs.length} manifests, want 2 (one per append)`)
const dataFiles = []
for (const mf of list.recs) {
  const m = await readAvro(mf.manifest_path)
  if (m.meta.hdr['format-version'].toString() !== '2') fail('manifest format-version')
  if (m.meta.hdr['content'].toString() !== 'data') fail('manifest content')
  const spec = JSON.parse(m.meta.hdr['partition-spec'].toString())
  if (spec.map(f => f.transform).join(',') !== 'day,bucket[4],identity') fail(`partition-spec ${JSON.stringify(spec)}`)
  let rows = 0
  for (const e of m.recs) {
    if (e.status !== 1) fail(`entry status ${e.status}`)
    if (e.snapshot_id !== null || e.sequence_number !== null) fail('ADDED entry with explicit ids (should inherit)')
    rows += Number(e.data_file.record_count)
    dataFiles.push(e.data_file)
  }
  if (rows !== Number(mf.added_rows_count)) fail(`manifest added_rows_count ${mf.added_rows_count} != ${rows}`)
  if (m.recs.length !== mf.added_files_count) fail('manifest added_files_count')
}
const listed = new Set(dataFiles.map(f => f.file_path))
const written = new Set(header.files)
for (const f of written) if (!listed.has(f)) fail(`written file not in the manifests: ${f}`)
if (listed.size !== written.size || dataFiles.length !== written.size) fail(`manifests list ${dataFiles.length} files, firn wrote ${written.size}`)

// ------------------------------------------------------------ DuckDB
// hive_partitioning = false: Iceberg readers take partition values from the
// manifests, never from paths (DuckDB's auto-detection would otherwise read
// category=parking+exit from the directory name instead of the column)
const { DuckDBInstance } = await import('@duckdb/node-api')
const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
const con = await inst.connect()
await con.run("SET TimeZone = 'UTC'")
const q = async sql => (await con.runAndReadAll(sql)).getRowObjectsJson()
const lit = p => `'${local(p).replace(/'/g, "''")}'`

for (const df of dataFiles) {
  const f = lit(df.file_path)
  const [info] = await q(`SELECT count(*) AS n, count(DISTINCT category) AS nc, min(category) AS c,
      min(CAST(floor(epoch_us(ts) / 86400000000) AS BIGINT)) AS dmin,
      max(CAST(floor(epoch_us(ts) / 86400000000) AS BIGINT)) AS dmax, count(ts) AS nts
    FROM read_parquet(${f}, hive_partitioning = false)`)
  if (String(info.n) !== String(df.record_count)) fail(`${df.file_path}: ${info.n} rows, manifest says ${df.record_count}`)
  const p = df.partition
  const cat = p.category === null ? null : p.category
  if (cat === null ? info.nc !== '0' && info.nc !== 0 : info.c !== cat || String(info.nc) !== '1')
    fail(`${df.file_path}: category ${info.c} (x${info.nc}) != partition ${cat}`)
  if (p.ts_day === null ? String(info.nts) !== '0' : String(info.dmin) !== String(p.ts_day) || String(info.dmax) !== String(p.ts_day))
    fail(`${df.file_path}: days ${info.dmin}..${info.dmax} != partition ${p.ts_day}`)
  const [sz] = await q(`SELECT sum(total_compressed_size) AS s FROM parquet_metadata(${f})`)
  if (!(Number(sz.s) > 0)) fail('empty column chunks')
  if (Number(df.file_size_in_bytes) !== readFileSync(local(df.file_path)).length) fail(`${df.file_path}: file_size_in_bytes`)
}

// field ids, footer key, the media column's codec (first file)
const f0 = lit(dataFiles[0].file_path)
const schema = await q(`SELECT name, field_id FROM parquet_schema(${f0})`)
for (const c of header.columns) {
  const s = schema.find(r => r.name === c.name)
  if (!s || s.field_id !== String(c.field_id)) fail(`field id of ${c.name}: ${s?.field_id}`)
}
const kv = await q(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${f0})`)
const ice = kv.find(r => r.k === 'iceberg.schema')
if (!ice) fail('no iceberg.schema footer key')
else if (JSON.parse(ice.v).fields.length !== header.columns.length) fail('iceberg.schema fields')
const codecs = await q(`SELECT path_in_schema AS p, compression AS c FROM parquet_metadata(${f0})`)
for (const r of codecs) {
  const want = r.p === 'img' ? 'UNCOMPRESSED' : 'ZSTD'
  if (r.c !== want) fail(`codec of ${r.p}: ${r.c} != ${want}`)
}

// every row, canonical
const all = dataFiles.map(d => lit(d.file_path)).join(', ')
const rows = await q(`SELECT CAST(id AS VARCHAR) AS c0, CAST(epoch_us(ts) AS VARCHAR) AS c1, category AS c2,
    CASE WHEN isnan(score) THEN 'NaN' ELSE CAST(score AS VARCHAR) END AS c3, lower(hex(img)) AS c4, flag AS c5,
    CAST(d - DATE '1970-01-01' AS INTEGER) AS c6
  FROM read_parquet([${all}], hive_partitioning = false) ORDER BY id`)
if (rows.length !== expected.length) fail(`DuckDB reads ${rows.length} rows, firn wrote ${expected.length}`)
const canon = (i, v) => {
  if (v === null || v === undefined) return null
  if (i === 3) return v === 'NaN' ? 'NaN' : String(Number(v))
  if (i === 5) return v === true || v === 'true'
  if (i === 6) return Number(v)
  return String(v)
}
for (let r = 0; r < Math.min(rows.length, expected.length); r++) {
  for (let i = 0; i < 7; i++) {
    const got = canon(i, rows[r]['c' + i]), want = canon(i, expected[r][i])
    if (got !== want) fail(`row ${r} column ${header.columns[i].name}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`)
  }
}
if (failures) { console.log(`${failures} mismatches`); process.exit(1) }
console.log(`duckdb+avsc: ${rows.length} rows in ${dataFiles.length} files match`)
