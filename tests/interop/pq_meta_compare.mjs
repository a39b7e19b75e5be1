// pq_meta_compare.mjs - `firn parquet meta --json` against DuckDB's
// parquet_metadata() of the same file: per row group and column chunk the
// codec, encodings, value count, sizes, page offsets, null count, and the
// min/max of integer and string columns.
//
//   node pq_meta_compare.mjs FIRN FILE
import { DuckDBInstance } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';

const [firn, file] = process.argv.slice(2);
const run = spawnSync(firn, ['parquet', 'meta', file, '--json'], { maxBuffer: 1 << 28, encoding: 'utf8' });
if (run.status !== 0) { console.log(`firn parquet meta exited ${run.status}: ${run.stderr}`); process.exit(1); }
// integers beyond 2^53 stay exact as strings
const meta = JSON.parse(run.stdout.replace(/([:\[,])(-?\d{16,})(?=[,\]}])/g, '$1"$2"'));
const schema = JSON.parse(spawnSync(firn, ['parquet', 'schema', file, '--json'], { encoding: 'utf8' }).stdout);

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const rows = (await con.runAndReadAll(`SELECT row_group_id, column_id, num_values, compression, encodings,
    total_compressed_size, total_uncompressed_size, data_page_offset, dictionary_page_offset,
    stats_null_count, stats_min_value, stats_max_value, path_in_schema
  FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`)).getRowObjectsJS();

let failures = 0;
const fail = (m) => { if (++failures <= 30) console.log('MISMATCH ' + m); };
let chunks = 0;
for (const d of rows) {
  const rg = meta.row_groups[Number(d.row_group_id)];
  const c = rg && rg.columns[Number(d.column_id)];
  if (!c) { fail(`row group ${d.row_group_id} column ${d.column_id} missing in firn's meta`); continue; }
  chunks++;
  const where = `rg ${d.row_group_id} ${c.path}`;
  const eq = (what, a, b) => { if (String(a) !== String(b)) fail(`${where} ${what}: firn ${a}, DuckDB ${b}`); };
  eq('path', c.path, d.path_in_schema.replace(/, /g, '.'));
  eq('codec', c.codec, d.compression);
  eq('encodings', [...c.encodings].sort().join(','), d.encodings.split(', ').sort().join(','));
  eq('num_values', c.num_values, d.num_values);
  eq('compressed_size', c.compressed_size, d.total_compressed_size);
  eq('uncompressed_size', c.uncompressed_size, d.total_uncompressed_size);
  eq('data_page_offset', c.data_page_offset, d.data_page_offset);
  if (d.dictionary_page_offset !== null || c.dictionary_page_offset !== null)
    eq('dictionary_page_offset', c.dictionary_page_offset, d.dictionary_page_offset);
  if (d.stats_null_count !== null) eq('null_count', c.null_count, d.stats_null_count);
  const type = schema.columns[Number(d.column_id)].type;
  if (/^(int|long)$/.test(type) || type === 'string') {
    for (const [k, dk] of [['min', 'stats_min_value'], ['max', 'stats_max_value']]) {
      if (d[dk] === null) continue;
      if (c[k] === null) { fail(`${where} ${k}: firn has none, DuckDB ${d[dk]}`); continue; }
      eq(k, c[k], d[dk]);
    }
  }
}
if (!chunks) fail('no column chunks compared');
if (failures) { console.log(`${failures} mismatches`); process.exit(1); }
console.log(`${file}: ${chunks} column chunks agree with DuckDB's parquet_metadata`);
