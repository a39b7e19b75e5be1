// cli_scan_pq.mjs - DuckDB's rows of a query over one Parquet file (view t), one JSON
// object a line: reads what `firn scan --format parquet` wrote.
//
//   node cli_scan_pq.mjs FILE.parquet "SELECT ... FROM t ORDER BY ..."
const [file, sql] = process.argv.slice(2)
const { DuckDBInstance } = await import('@duckdb/node-api')
const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
const con = await inst.connect()
await con.run("SET TimeZone = 'UTC'")
await con.run(`CREATE VIEW t AS SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`)
for (const row of (await con.runAndReadAll(sql)).getRowObjectsJson()) console.log(JSON.stringify(row))
