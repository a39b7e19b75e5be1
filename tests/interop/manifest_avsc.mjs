// manifest_avsc.mjs - avsc (JavaScript Avro) reads firn's manifest and manifest list.
//
//   node manifest_avsc.mjs check DIR    DIR from `manifest_fixture write DIR`: the header keys,
//                                       every Iceberg id in avsc's parsed schema (exported with
//                                       its attributes), and the records' values
//
// Longs are BigInt (the snapshot ids pass 2^53). Expected values are written
// down here by hand, independently of the C fixture and the Python check.
import avro from 'avsc';
import { longType } from './avsc_long.mjs';
import path from 'node:path';

function fail(msg) {
  throw new Error(msg);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}

function readAll(file) {
  const header = avro.extractFileHeader(file, { decode: false });
  if (!header) fail(file + ': not an Avro file');
  const schema = JSON.parse(header.meta['avro.schema'].toString());
  const type = avro.Type.forSchema(schema, { registry: { long: longType } });
  const meta = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString()]));
  return new Promise((resolve, reject) => {
    const out = [];
    avro.createFileDecoder(file, { noDecode: true })
      .on('data', (buf) => out.push(type.fromBuffer(buf)))
      .on('error', reject)
      .on('end', () => resolve({ records: out, type, schema, meta }));
  });
}

// "path attr=value" lines from avsc's own schema export (attributes kept)
function ids(schema, p, out, seen) {
  if (typeof schema === 'string' || schema === null) return;
  if (Array.isArray(schema)) {
    schema.forEach((s) => ids(s, p, out, seen));
    return;
  }
  const t = schema.type;
  if (t === 'record') {
    if (seen.has(schema.name)) return;
    seen.add(schema.name);
    for (const f of schema.fields) {
      const q = p ? p + '.' + f.name : f.name;
      for (const k of ['field-id']) if (f[k] !== undefined) out.push(`${q} ${k}=${f[k]}`);
      ids(f.type, q, out, seen);
    }
  } else if (t === 'array') {
    if (schema['element-id'] !== undefined) out.push(`${p} element-id=${schema['element-id']}`);
    if (schema.logicalType !== undefined) out.push(`${p} logicalType=${schema.logicalType}`);
    ids(schema.items, p, out, seen);
  } else if (t === 'map') {
    for (const k of ['key-id', 'value-id']) if (schema[k] !== undefined) out.push(`${p} ${k}=${schema[k]}`);
    ids(schema.values, p, out, seen);
  } else if (t === 'fixed') {
    out.push(`${p} fixed=${schema.name}/${schema.size}`);
  } else if (typeof t === 'object') {
    ids(t, p, out, seen);
  }
}

// avsc keeps no unknown attributes in its Type objects (type.schema({exportAttrs:
// true}) drops field-id and the like), so the ids are checked in the schema
// JSON avsc read from the file header and parsed into the Type that decodes
// the records.
function hasIds(schema, want, what) {
  const out = [];
  ids(schema, '', out, new Set());
  const missing = want.filter((w) => !out.includes(w));
  check(missing.length === 0, `${what}: avsc does not see ${missing.join(', ')}\n--- seen:\n${out.join('\n')}`);
  return out;
}

const hex = (b) => (b === null ? null : Buffer.from(b).toString('hex'));
const le = (n, bytes) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 4) b.writeInt32LE(n);
  else b.writeBigInt64LE(BigInt(n));
  return b.toString('hex');
};
const kv = (arr) => (arr === null ? null : arr.map((x) => [x.key, typeof x.value === 'bigint' ? x.value : hex(x.value)]));

function eq(got, want, what) {
  const s = (x) => JSON.stringify(x, (k, v) => (typeof v === 'bigint' ? v.toString() + 'n' : v));
  check(s(got) === s(want), `${what}:\n got  ${s(got)}\n want ${s(want)}`);
}

const SNAPSHOT = 3051729675574597004n;
const PARENT = 1234567890123456789n;

async function checkManifest(file) {
  const { records, type, schema, meta } = await readAll(file);
  for (const [k, v] of Object.entries({ 'format-version': '2', content: 'data', 'partition-spec-id': '2', 'schema-id': '1' }))
    eq(meta[k], v, `header ${k}`);
  check(JSON.parse(meta.schema)['schema-id'] === 1, 'header schema');
  eq(JSON.parse(meta['partition-spec']).map((f) => [f.name, f.transform, f['source-id'], f['field-id']]), [
    ['category', 'identity', 2, 1000], ['ts_day', 'day', 3, 1001], ['id_bucket', 'bucket[16]', 1, 1002],
    ['category_trunc', 'truncate[4]', 2, 1003], ['price', 'identity', 4, 1004], ['uid', 'identity', 6, 1005],
    ['ratio', 'identity', 5, 1006]], 'header partition-spec');
  const want = [
    'status field-id=0', 'snapshot_id field-id=1', 'sequence_number field-id=3', 'file_sequence_number field-id=4',
    'data_file field-id=2', 'data_file.content field-id=134', 'data_file.file_path field-id=100',
    'data_file.file_format field-id=101', 'data_file.partition field-id=102',
    'data_file.partition.category field-id=1000', 'data_file.partition.ts_day field-id=1001',
    'data_file.partition.id_bucket field-id=1002', 'data_file.partition.category_trunc field-id=1003',
    'data_file.partition.price field-id=1004', 'data_file.partition.price fixed=decimal_9_2/4',
    'data_file.partition.uid field-id=1005', 'data_file.partition.uid fixed=uuid_fixed/16',
    'data_file.partition.ratio field-id=1006',
    'data_file.record_count field-id=103', 'data_file.file_size_in_bytes field-id=104',
    'data_file.column_sizes field-id=108', 'data_file.column_sizes logicalType=map',
    'data_file.column_sizes.key field-id=117', 'data_file.column_sizes.value field-id=118',
    'data_file.value_counts field-id=109', 'data_file.value_counts.key field-id=119', 'data_file.value_counts.value field-id=120',
    'data_file.null_value_counts field-id=110', 'data_file.null_value_counts.key field-id=121',
    'data_file.null_value_counts.value field-id=122',
    'data_file.nan_value_counts field-id=137', 'data_file.nan_value_counts.key field-id=138',
    'data_file.nan_value_counts.value field-id=139',
    'data_file.lower_bounds field-id=125', 'data_file.lower_bounds.key field-id=126', 'data_file.lower_bounds.value field-id=127',
    'data_file.upper_bounds field-id=128', 'data_file.upper_bounds.key field-id=129', 'data_file.upper_bounds.value field-id=130',
    'data_file.key_metadata field-id=131', 'data_file.split_offsets field-id=132', 'data_file.split_offsets element-id=133',
    'data_file.equality_ids field-id=135', 'data_file.equality_ids element-id=136',
    'data_file.sort_order_id field-id=140', 'data_file.referenced_data_file field-id=143'];
  const seen = hasIds(schema, want, 'manifest');
  check(!seen.some((l) => / field-id=10[567]$/.test(l)), 'field-id 105-107 written');
  eq(type.name, 'manifest_entry', 'record name');
  check(records.length === 3, `${records.length} records`);
  const got = records.map((r) => ({
    status: r.status, snapshot: r.snapshot_id, seq: r.sequence_number, fseq: r.file_sequence_number,
    path: r.data_file.file_path, format: r.data_file.file_format, content: r.data_file.content,
    part: Object.fromEntries(Object.entries(r.data_file.partition).map(([k, v]) =>
      [k, Buffer.isBuffer(v) ? hex(v) : Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v])),
    rows: r.data_file.record_count, size: r.data_file.file_size_in_bytes,
    sizes: kv(r.data_file.column_sizes), counts: kv(r.data_file.value_counts), nulls: kv(r.data_file.null_value_counts),
    nans: kv(r.data_file.nan_value_counts), lower: kv(r.data_file.lower_bounds), upper: kv(r.data_file.upper_bounds),
    key: hex(r.data_file.key_metadata), splits: r.data_file.split_offsets, eqids: r.data_file.equality_ids,
    sort: r.data_file.sort_order_id, ref: r.data_file.referenced_data_file,
  }));
  const none = { sizes: null, counts: null, nulls: null, nans: null, lower: null, upper: null };
  eq(got, [
    { status: 1, snapshot: null, seq: null, fseq: null,
      path: 's3://bucket/db/t/data/category=books/ts_day=2022-01-01/00000-0-a.parquet', format: 'PARQUET', content: 0,
      part: { category: 'books', ts_day: 18993, id_bucket: 3, category_trunc: 'book', price: '000007cf',
        uid: '00112233445566778899aabbccddeeff', ratio: 0.5 },
      rows: 1000n, size: 52342n, sizes: [[1, 4000n], [2, 1200n]], counts: [[1, 1000n], [2, 1000n]],
      nulls: [[1, 0n], [2, 17n]], nans: [[5, 3n]],
      lower: [[1, le(1, 8)], [2, Buffer.from('aardvark').toString('hex')]],
      upper: [[1, le(1000, 8)], [2, Buffer.from('zebra').toString('hex')]],
      key: null, splits: [4n], eqids: null, sort: 0, ref: null },
    { status: 0, snapshot: 1111n, seq: 2n, fseq: 3n,
      path: 's3://bucket/db/t/data/category=null/ts_day=null/00001-0-b.parquet', format: 'PARQUET', content: 0,
      part: { category: null, ts_day: null, id_bucket: 15, category_trunc: null, price: 'fffffe0c', uid: null, ratio: 'NaN' },
      rows: 10n, size: 999n, ...none, key: 'cafe', splits: null, eqids: null, sort: null, ref: null },
    { status: 2, snapshot: SNAPSHOT, seq: 4n, fseq: 4n,
      path: 's3://bucket/db/t/data/category=toys/ts_day=2022-01-02/00002-0-c.parquet', format: 'PARQUET', content: 0,
      part: { category: 'toys', ts_day: 18994, id_bucket: 0, category_trunc: 'toys', price: '00000000', uid: 'ff'.repeat(16), ratio: '-0' },
      rows: 5n, size: 500n, ...none, key: null, splits: null, eqids: null, sort: null, ref: null },
  ].map((x) => ({ status: x.status, snapshot: x.snapshot, seq: x.seq, fseq: x.fseq, path: x.path, format: x.format,
    content: x.content, part: x.part, rows: x.rows, size: x.size, sizes: x.sizes, counts: x.counts, nulls: x.nulls,
    nans: x.nans, lower: x.lower, upper: x.upper, key: x.key, splits: x.splits, eqids: x.eqids, sort: x.sort, ref: x.ref })),
  'manifest records');
  return seen.length;
}

async function checkList(file, manifest) {
  const { records, type, schema, meta } = await readAll(file);
  eq([meta['snapshot-id'], meta['parent-snapshot-id'], meta['sequence-number'], meta['format-version']],
    [String(SNAPSHOT), String(PARENT), '5', '2'], 'list header');
  const seen = hasIds(schema, ['manifest_path field-id=500', 'manifest_length field-id=501', 'partition_spec_id field-id=502',
    'content field-id=517', 'sequence_number field-id=515', 'min_sequence_number field-id=516',
    'added_snapshot_id field-id=503', 'added_files_count field-id=504', 'existing_files_count field-id=505',
    'deleted_files_count field-id=506', 'added_rows_count field-id=512', 'existing_rows_count field-id=513',
    'deleted_rows_count field-id=514', 'partitions field-id=507', 'partitions element-id=508',
    'partitions.contains_null field-id=509', 'partitions.contains_nan field-id=518',
    'partitions.lower_bound field-id=510', 'partitions.upper_bound field-id=511', 'key_metadata field-id=519'], 'list');
  eq(type.name, 'manifest_file', 'list record name');
  check(records.length === 2, `${records.length} manifests`);
  const m = records[1];
  eq([m.manifest_path, m.manifest_length, m.partition_spec_id, m.content, m.sequence_number, m.min_sequence_number,
    m.added_snapshot_id, m.added_files_count, m.existing_files_count, m.deleted_files_count, m.added_rows_count,
    m.existing_rows_count, m.deleted_rows_count, m.key_metadata],
  ['file:' + path.resolve(manifest.path), BigInt(manifest.size), 2, 0, 5n, 2n, SNAPSHOT, 1, 1, 1, 1000n, 10n, 5n, null],
  'new manifest');
  eq(m.partitions.map((s) => [s.contains_null, s.contains_nan, hex(s.lower_bound), hex(s.upper_bound)]), [
    [true, false, Buffer.from('books').toString('hex'), Buffer.from('toys').toString('hex')],
    [true, false, le(18993, 4), le(18994, 4)],
    [false, false, le(0, 4), le(15, 4)],
    [true, false, Buffer.from('book').toString('hex'), Buffer.from('toys').toString('hex')],
    [false, false, 'fe0c', '07cf'],
    [true, false, '00112233445566778899aabbccddeeff', 'ff'.repeat(16)],
    [false, true, '0000000000000080', '000000000000e03f']], 'partition summaries');
  const o = records[0];
  eq([o.manifest_path, o.sequence_number, o.min_sequence_number, o.added_snapshot_id, o.added_files_count],
    ['s3://bucket/db/t/metadata/old-m0.avro', 1n, 1n, PARENT, 1], 'carried-over manifest');
  return seen.length;
}

const [cmd, dir] = process.argv.slice(2);
if (cmd === 'check' && dir) {
  const fs = await import('node:fs');
  const manifest = path.join(dir, 'manifest.avro');
  const n1 = await checkManifest(manifest);
  const n2 = await checkList(path.join(dir, 'snap.avro'), { path: manifest, size: fs.statSync(manifest).size });
  await checkManifest(path.join(dir, 'manifest-null.avro'));
  console.log(`ok: avsc read the manifest (${n1} ids) and the manifest list (${n2} ids)`);
} else {
  process.stderr.write('usage: node manifest_avsc.mjs check DIR\n');
  process.exit(2);
}
