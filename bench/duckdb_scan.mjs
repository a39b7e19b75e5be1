// duckdb_scan.mjs - DuckDB's half of `make bench-scan`, single-threaded.
//   node duckdb_scan.mjs FILELIST [REPEAT [WHERE]]
// FILELIST holds the table's data files, one per line (bench_scan files). Times
// read_parquet over those files with a query that folds every value of every column
// into an aggregate (so DuckDB must decode every column, as firn's scan does), the same
// aggregates bench/bench_scan.c computes. Prints one "key=value ..." line; seconds (wall)
// and cpu_seconds (user + system of the whole process) are each the best of REPEAT runs
// (default 3). WHERE (firn's filter text, which is also SQL)
// restricts the rows, for checking firn's filtered scans.
import { DuckDBInstance } from '../tests/interop/node_modules/@duckdb/node-api/lib/index.js';
import { readFileSync } from 'node:fs';

const [list, repeatArg, where] = process.argv.slice(2);
const files = readFileSync(list, 'utf8').split('\n').filter((l) => l.length > 0);
const repeat = Number(repeatArg || 3);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run('SET threads=1');
const src = `read_parquet([${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}])`;
// sum_ts wraps modulo 2^64 like firn's uint64 sum; epoch_us(ts) is the stored int64.
const q = `SELECT count(*)::BIGINT AS rows,
    sum(id)::HUGEINT::VARCHAR AS sum_id,
    ((sum(epoch_us(ts)::HUGEINT) % 18446744073709551616 + 18446744073709551616)
        % 18446744073709551616)::VARCHAR AS sum_ts,
    count(name)::BIGINT AS count_name,
    sum(strlen(name))::BIGINT AS sum_name_len,
    count(value)::BIGINT AS count_value,
    sum(value) AS sum_value,
    count_if(flag)::BIGINT AS count_flag
  FROM ${src}${where ? ` WHERE ${where}` : ''}`;
let best = Infinity, bestCpu = Infinity, row;
for (let i = 0; i < repeat; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await con.runAndReadAll(q);
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6; // every thread of the process
  row = r.getRowObjectsJS()[0];
  if (s < best) best = s;
  if (cpu < bestCpu) bestCpu = cpu;
}
console.log(`rows=${row.rows} seconds=${best.toFixed(4)} cpu_seconds=${bestCpu.toFixed(4)} sum_id=${row.sum_id} sum_ts=${row.sum_ts} ` +
  `count_name=${row.count_name} sum_name_len=${row.sum_name_len} count_value=${row.count_value} ` +
  `sum_value=${row.sum_value.toFixed(6)} count_flag=${row.count_flag}`);
