// duckdb_parquet.mjs - DuckDB's half of `make bench-parquet`, single-threaded.
//   node duckdb_parquet.mjs write-events N OUT   build the rows in memory, time COPY ... TO (zstd)
//   node duckdb_parquet.mjs read-events FILE     time reading every column into memory
// Prints one "key=value ..." line. The formulas match bench/bench_parquet.c.
import { DuckDBInstance } from '../tests/interop/node_modules/@duckdb/node-api/lib/index.js';
import { statSync, rmSync } from 'node:fs';

const [mode, a, b] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run('SET threads=1');
await con.run('SET preserve_insertion_order=true');

if (mode === 'write-events') {
  const n = BigInt(a);
  await con.run(`CREATE TABLE events AS
    SELECT i AS id,
      make_timestamp(1700000000000000 + i * 1000 + (i * 7919) % 1000)::TIMESTAMPTZ AS ts,
      ((i * 2654435761) % 4294967291 % 10000 % 90 + 10)::VARCHAR || 'GA' ||
        lpad(((i * 2654435761) % 4294967291 % 10000)::VARCHAR, 4, '0') AS car_id,
      ((i * 2246822519) % 4294967291 % 10007)::DOUBLE / 100.0::DOUBLE AS x,
      ((i * 3266489917) % 4294967291 % 9973)::DOUBLE / 10.0::DOUBLE AS y,
      ((i * 668265263) % 4294967291 % 500)::INTEGER AS slot,
      'entry gate camera-' || (i % 8)::VARCHAR || ' lane-' || (i % 3)::VARCHAR || ' seq-' ||
        lpad(((i * 48271) % 1000003)::VARCHAR, 7, '0') || ' ok' AS note
    FROM (SELECT range::BIGINT AS i FROM range(${n})) t`);
  rmSync(b, { force: true });
  const t0 = performance.now();
  await con.run(`COPY events TO '${b}' (FORMAT parquet, COMPRESSION zstd)`);
  const s = (performance.now() - t0) / 1000;
  console.log(`rows=${n} seconds=${s.toFixed(4)} bytes=${statSync(b).size}`);
} else if (mode === 'read-events') {
  const t0 = performance.now();
  await con.run(`CREATE TABLE r AS SELECT * FROM read_parquet('${a}')`);
  const s = (performance.now() - t0) / 1000;
  const rows = (await con.runAndReadAll('SELECT count(*)::BIGINT AS n FROM r')).getRowObjectsJS()[0].n;
  console.log(`rows=${rows} seconds=${s.toFixed(4)}`);
} else if (mode === 'check-same') {
  // check-same FIRN_FILE DUCKDB_FILE: the two files hold the same rows
  const r = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM (
      (SELECT id, epoch_us(ts) AS ts, car_id, x, y, slot, note FROM read_parquet('${a}')
       EXCEPT ALL
       SELECT id, epoch_us(ts), car_id, x, y, slot, note FROM read_parquet('${b}'))
      UNION ALL
      (SELECT id, epoch_us(ts), car_id, x, y, slot, note FROM read_parquet('${b}')
       EXCEPT ALL
       SELECT id, epoch_us(ts) AS ts, car_id, x, y, slot, note FROM read_parquet('${a}')))`);
  const diff = r.getRowObjectsJS()[0].n;
  console.log(`differing_rows=${diff}`);
  process.exit(diff === 0n ? 0 : 1);
} else {
  console.error('usage: duckdb_parquet.mjs write-events N OUT | read-events FILE | check-same A B');
  process.exit(2);
}
