// foreign_tables.mjs - the DuckDB half of foreign.test.sh: data and delete files laid out as
// Spark and PyIceberg lay them out, and the rows a scan must return, computed by DuckDB's SQL
// over the same files (deletes applied with anti-joins), independently of firn.
//
//   node foreign_tables.mjs write DIR
//       writes the Parquet files of the tables spark, pyice, v1 and badsize under DIR/<table>/
//       and DIR/files.json: one object per file {table, path, content (0 data, 1 position
//       deletes, 2 equality deletes), rows, partition {name: value}, spec, seq, snapshot,
//       equality_ids} - what foreign_tables.py writes into manifests.
//   node foreign_tables.mjs expect DIR TABLE SNAPSHOT COLUMNS [WHERE]
//       one JSON object per row (columns as named, comma-separated) of TABLE as of snapshot
//       number SNAPSHOT (1, 2, ... in files.json), filtered by the SQL WHERE.
//
// Data files are written WITHOUT Parquet field ids (the tables carry
// schema.name-mapping.default), except the v1 table's; delete files carry the spec's ids
// (Spark and Flink write them). Column names in some files differ from the table's (the
// name mapping's aliases). Identity partition columns of the spark table are not in its data
// files: DuckDB takes them from the hive-style directory names.
import { DuckDBInstance } from '@duckdb/node-api'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const [cmd, dir, ...rest] = process.argv.slice(2)
const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
const con = await inst.connect()
await con.run("SET TimeZone = 'UTC'")
const q = s => `'${String(s).replace(/'/g, "''")}'`
const uri = p => 'file:' + p

if (cmd === 'write') {
  const files = []
  const put = async (table, rel, sql, opts, meta) => {
    const p = path.join(dir, table, rel)
    fs.mkdirSync(path.dirname(p), { recursive: true })
    await con.run(`COPY (${sql}) TO ${q(p)} (FORMAT parquet${opts ? ', ' + opts : ''})`)
    const rows = Number((await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${q(p)})`)).getRows()[0][0])
    files.push({ table, path: p, rows, content: 0, partition: {}, spec: 0, equality_ids: null, ...meta })
    return p
  }
  const ids = (lo, hi) => `range(${lo}, ${hi + 1}) r(i)`

  // ---- spark: format v2, identity(region) whose values live only in the manifests
  let u = randomUUID()
  const euA = await put('spark', `data/region=eu/00000-0-${u}-00001.parquet`,
    `SELECT i::BIGINT AS id, (i * 1.5)::DOUBLE AS v, 'n' || i AS name FROM ${ids(1, 6)}`, null,
    { partition: { region: 'eu' }, seq: 1, snapshot: 1 })
  const usA = await put('spark', `data/region=us/00001-1-${u}-00001.parquet`,
    `SELECT i::BIGINT AS id, (i * 10 + 0.25)::DOUBLE AS v, CASE WHEN i = 4 THEN NULL ELSE 'u' || i END AS name FROM ${ids(1, 5)}`, null,
    { partition: { region: 'us' }, seq: 1, snapshot: 1 })
  u = randomUUID()
  await put('spark', `data/region=eu/00000-4-${u}-00001.parquet`,
    `SELECT * FROM (VALUES (3::BIGINT, 33.5::DOUBLE, 'again'), (20::BIGINT, 0.5::DOUBLE, 'n20')) t(id, v, name)`, null,
    { partition: { region: 'eu' }, seq: 2, snapshot: 2 })
  const posIds = 'FIELD_IDS {file_path: 2147483546, pos: 2147483545}'
  await put('spark', `data/region=eu/00000-3-${u}-00001-deletes.parquet`,
    `SELECT * FROM (VALUES (${q(uri(euA))}, 0::BIGINT), (${q(uri(euA))}, 4::BIGINT)) t(file_path, pos)`, posIds,
    { content: 1, partition: { region: 'eu' }, seq: 2, snapshot: 2 })
  await put('spark', `data/region=us/00001-3-${u}-00001-deletes.parquet`,
    `SELECT ${q(uri(usA))} AS file_path, 1::BIGINT AS pos`, posIds,
    { content: 1, partition: { region: 'us' }, seq: 2, snapshot: 2 })
  // partition-scoped equality delete: ids 3 and 4 in eu only, older data only
  await put('spark', `data/region=eu/00000-5-${u}-00001-eq-deletes.parquet`,
    `SELECT * FROM (VALUES (3::BIGINT), (4::BIGINT)) t(id)`, 'FIELD_IDS {id: 1}',
    { content: 2, partition: { region: 'eu' }, seq: 2, snapshot: 2, equality_ids: [1] })

  // ---- pyice: PyIceberg layout (add_files: no field ids, columns named by the mapping's
  // aliases), identity(category) in spec 0, unpartitioned spec 1 for a global equality delete
  u = randomUUID()
  for (const [k, cat] of ['a', 'b'].entries())
    await put('pyice', `data/category=${cat}/0000${k}-0-${u}.parquet`,
      `SELECT i::BIGINT AS id, ${q(cat)} AS cat, TIMESTAMPTZ '2024-03-01 00:00:00+00' + INTERVAL (i) HOUR AS ts,
              CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 2.5)::DOUBLE END AS amt FROM ${ids(1, 8)}`, null,
      { partition: { category: cat }, seq: 1, snapshot: 1 })
  u = randomUUID()
  await put('pyice', `data/00000-0-${u}.parquet`,
    `SELECT 100::BIGINT AS id, 'c' AS cat, TIMESTAMPTZ '2024-03-02 12:00:00+00' AS ts, 7.5::DOUBLE AS amt`, null,
    { spec: 1, seq: 2, snapshot: 2 })
  await put('pyice', `data/00000-1-${u}-eq-deletes.parquet`,
    `SELECT * FROM (VALUES (7::BIGINT, 'a'), (2::BIGINT, 'b'), (5::BIGINT, 'a'), (100::BIGINT, 'c')) t(id, category)`,
    'FIELD_IDS {id: 1, category: 2}',
    { content: 2, spec: 1, seq: 2, snapshot: 2, equality_ids: [1, 2] })

  // ---- v1: format v1 with field ids; snapshot 1 embeds its manifests, snapshot 2 (an
  // overwrite: part=2's file deleted, one file added) has a v1 manifest list
  u = randomUUID()
  const v1ids = 'FIELD_IDS {id: 1, part: 2, s: 3}'
  for (const part of [1, 2])
    await put('v1', `data/part=${part}/00000-${part}-${u}.parquet`,
      `SELECT (i + ${part * 100})::INTEGER AS id, ${part}::INTEGER AS part, 's' || i AS s FROM ${ids(1, 4)}`, v1ids,
      { partition: { part }, seq: 0, snapshot: 1, removed_in: part === 2 ? 2 : null })
  await put('v1', `data/part=1/00001-0-${randomUUID()}.parquet`,
    `SELECT 150::INTEGER AS id, 1::INTEGER AS part, 'late' AS s`, v1ids,
    { partition: { part: 1 }, seq: 0, snapshot: 2 })

  // ---- badsize: one file whose manifest entry states a wrong file_size_in_bytes
  await put('badsize', `data/00000-0-${randomUUID()}.parquet`,
    `SELECT i::BIGINT AS id, 'x' || i AS name FROM ${ids(1, 3)}`, 'FIELD_IDS {id: 1, name: 2}',
    { seq: 1, snapshot: 1, size_delta: 100 })
  fs.writeFileSync(path.join(dir, 'files.json'), JSON.stringify(files, null, 1))
} else if (cmd === 'expect') {
  const [table, snapArg, columns, where] = rest
  const snap = Number(snapArg)
  const all = JSON.parse(fs.readFileSync(path.join(dir, 'files.json'))).filter(f =>
    f.table === table && f.snapshot <= snap && !(f.removed_in && f.removed_in <= snap))
  const data = all.filter(f => f.content === 0)
  const rows = (sel, list) => `SELECT ${sel} FROM (${list.map(f =>
    `SELECT *, ${q(f.path)} AS _path, ${q(f.seq)}::BIGINT AS _seq, ${q(f.spec)}::INT AS _spec,
            ${q(JSON.stringify(f.partition))} AS _part
     FROM read_parquet(${q(f.path)}, hive_partitioning=false, file_row_number=true)`).join(' UNION ALL BY NAME ')})`
  // hive-style directory values (the spark table's region is only there and in the manifests)
  let sql = rows(`*, regexp_extract(_path, '/region=([^/]+)/', 1) AS _region`, data)
  if (table === 'spark') sql = `SELECT *, _region AS region FROM (${sql})`
  if (table === 'pyice') sql = `SELECT *, cat AS category, amt AS amount FROM (${sql})`
  let body = `SELECT * FROM (${sql}) d`
  const pos = all.filter(f => f.content === 1)
  if (pos.length)
    body += ` WHERE NOT EXISTS (SELECT 1 FROM (${rows('*', pos)}) p
               WHERE p.file_path = 'file:' || d._path AND p.pos = d.file_row_number
                 AND p._seq >= d._seq AND p._part = d._part AND p._spec = d._spec)`
  for (const e of all.filter(f => f.content === 2)) {
    // an equality delete applies to older data (seq <) of its partition, or everywhere when
    // its spec is unpartitioned; null equals null (IS NOT DISTINCT FROM)
    const scope = Object.keys(e.partition).length ? ` AND ${q(JSON.stringify(e.partition))} = d._part AND d._spec = ${e.spec}` : ''
    const cols = e.equality_ids.map(id => ({ spark: ['id'], pyice: ['id', 'category'] })[table][id - 1])
    body += `${body.includes(' WHERE ') ? ' AND' : ' WHERE'} NOT EXISTS (SELECT 1 FROM read_parquet(${q(e.path)}) x
               WHERE ${cols.map(c => `x.${c} IS NOT DISTINCT FROM d.${c}`).join(' AND ')}
                 AND ${e.seq} > d._seq${scope})`
  }
  const final = `SELECT to_json(t) AS j FROM (SELECT ${columns} FROM (${body}) ${where ? 'WHERE ' + where : ''}) t`
  for (const r of (await con.runAndReadAll(final)).getRows()) console.log(r[0])
} else {
  console.error('usage: foreign_tables.mjs write DIR | expect DIR TABLE SNAPSHOT COLUMNS [WHERE]')
  process.exit(2)
}
