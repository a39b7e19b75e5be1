// duck_rows.mjs - DuckDB reads exactly the given Parquet files (hive_partitioning=false:
// values come from the files, not from directory names) and prints the rows of a query over
// them (view t), one line per row: the row's values (DuckDB's JSON rendering) joined by ','.
//
//   node duck_rows.mjs "SELECT ... FROM t ORDER BY ..." FILE...
// DUCK_JSON=1: t also has the column filename (the file a row is from) and each row is
// printed as a JSON object.
import { DuckDBInstance } from '@duckdb/node-api'
const [sql, ...files] = process.argv.slice(2)
const json = process.env.DUCK_JSON === '1'
const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
const con = await inst.connect()
await con.run("SET TimeZone = 'UTC'")
const list = files.map(f => `'${f.replace(/'/g, "''")}'`).join(',')
await con.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${list}], hive_partitioning=false, union_by_name=true${json ? ', filename=true' : ''})`)
for (const row of (await con.runAndReadAll(sql)).getRowObjectsJson())
  if (json) console.log(JSON.stringify(row))
  else console.log(Object.values(row).map(v => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))).join(','))
