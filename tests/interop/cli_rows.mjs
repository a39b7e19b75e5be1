// cli_rows.mjs - what an independent reader sees in a table `firn append` wrote:
// walks metadata JSON -> a ref's snapshot -> manifest list -> manifests (avsc), then
// reads exactly the live data files listed there with DuckDB and prints the rows of a
// query over them, one JSON object per line.
//
//   node cli_rows.mjs METADATA_FILE REF "SELECT ... FROM t ORDER BY ..."
//   node cli_rows.mjs METADATA_FILE REF --files      the data files, one per line
import { readFileSync } from 'node:fs'
import avro from 'avsc'
import { parseHook } from './avsc_long.mjs'

const [mdPath, ref, sql] = process.argv.slice(2)
// S3_MIRROR=DIR: s3://bucket/key was downloaded to DIR/bucket/key (s3.test.sh)
const mirror = process.env.S3_MIRROR
const local = uri => mirror && /^s3a?:\/\//.test(uri) ? uri.replace(/^s3a?:\/\//, mirror + '/')
  : uri.replace(/^file:(\/\/)?/, '')
function readAvro(path) {
  return new Promise((resolve, reject) => {
    const recs = []
    avro.createFileDecoder(local(path), { parseHook })
      .on('data', r => recs.push(r))
      .on('end', () => resolve(recs))
      .on('error', reject)
  })
}
// snapshot ids need 64 bits: read them as strings
const text = readFileSync(local(mdPath), 'utf8')
  .replace(/("(?:snapshot-id|parent-snapshot-id|current-snapshot-id)"\s*:\s*)(-?\d+)/g, '$1"$2"')
const md = JSON.parse(text)
const r = md.refs?.[ref]
if (!r) { console.error(`no ref ${ref}`); process.exit(1) }
const snap = md.snapshots.find(s => s['snapshot-id'] === r['snapshot-id'])
const files = []
for (const mf of await readAvro(snap['manifest-list']))
  for (const e of await readAvro(mf.manifest_path))
    if (e.status !== 2) files.push(local(e.data_file.file_path))
if (sql === '--files') { for (const f of files) console.log(f); process.exit(0) }
const { DuckDBInstance } = await import('@duckdb/node-api')
const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
const con = await inst.connect()
await con.run("SET TimeZone = 'UTC'")
const list = files.map(f => `'${f.replace(/'/g, "''")}'`).join(',')
await con.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${list}], hive_partitioning=false, union_by_name=true)`)
for (const row of (await con.runAndReadAll(sql)).getRowObjectsJson()) console.log(JSON.stringify(row))
