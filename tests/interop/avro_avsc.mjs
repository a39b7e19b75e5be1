// avro_avsc.mjs - avsc (JavaScript Avro) against firn's Avro files.
//
//   node avro_avsc.mjs read FILE                  records as plain JSON lines (firn's plain mode)
//   node avro_avsc.mjs schema-ids FILE            "path attr=value" lines from avsc's parsed schema
//   node avro_avsc.mjs write CODEC OUT EXPECTED   a file written by avsc, and its records as plain
//                                                 JSON lines
//
// Longs are read and written as BigInt (avsc's default long type refuses values
// beyond 2^53). Unions are wrapped ({"branch": value}) so that every branch is
// unambiguous, and unwrapped again for the JSON.
import avro from 'avsc';
import { longType } from './avsc_long.mjs';
import fs from 'node:fs';

function typeFor(schema) {
  return avro.Type.forSchema(schema, { registry: { long: longType }, wrapUnions: true });
}

function num(x) {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (Object.is(x, -0)) return '-0.0';
  const s = String(x);
  return /[.eE]/.test(s) ? s : s + '.0';
}

// A decoded value as firn's plain JSON text, walking the avsc type beside it.
function plain(type, v) {
  const name = type.typeName;
  switch (name) {
    case 'null': return 'null';
    case 'boolean': return v ? 'true' : 'false';
    case 'int': return String(v);
    case 'abstract:long':
    case 'long': return BigInt(v).toString();
    case 'float':
    case 'double': return num(v);
    case 'string':
    case 'enum': return JSON.stringify(v);
    case 'bytes':
    case 'fixed': return JSON.stringify(Buffer.from(v).toString('hex'));
    case 'array': return '[' + v.map((x) => plain(type.itemsType, x)).join(',') + ']';
    case 'map':
      return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + plain(type.valuesType, v[k])).join(',') + '}';
    case 'record':
    case 'error':
      return '{' + type.fields.map((f) => JSON.stringify(f.name) + ':' + plain(f.type, v[f.name])).join(',') + '}';
    case 'union:wrapped': {
      if (v === null) return 'null';
      const key = Object.keys(v)[0];
      const branch = type.types.find((t) => t.branchName === key);
      if (!branch) throw new Error('no union branch ' + key);
      return plain(branch, v[key]);
    }
    default:
      if (type.underlyingType) return plain(type.underlyingType, v);
      throw new Error('unexpected type ' + name);
  }
}

function readAll(path) {
  const header = avro.extractFileHeader(path, { decode: false });
  if (!header) throw new Error(path + ': not an Avro file');
  const schema = JSON.parse(header.meta['avro.schema'].toString());
  const type = typeFor(schema);
  return new Promise((resolve, reject) => {
    const out = [];
    avro.createFileDecoder(path, { noDecode: true })
      .on('data', (buf) => out.push(plain(type, type.fromBuffer(buf))))
      .on('error', reject)
      .on('end', () => resolve({ out, schema, type }));
  });
}

function ids(schema, path, out, seen) {
  if (typeof schema === 'string' || schema === null) return;
  if (Array.isArray(schema)) {
    schema.forEach((s) => ids(s, path, out, seen));
    return;
  }
  const t = schema.type;
  if (t === 'record') {
    if (seen.has(schema.name)) return;
    seen.add(schema.name);
    for (const f of schema.fields) {
      const p = path ? path + '.' + f.name : f.name;
      if (f['field-id'] !== undefined) out.push(`${p} field-id=${f['field-id']}`);
      ids(f.type, p, out, seen);
    }
  } else if (t === 'array') {
    if (schema['element-id'] !== undefined) out.push(`${path} element-id=${schema['element-id']}`);
    ids(schema.items, path, out, seen);
  } else if (t === 'map') {
    for (const k of ['key-id', 'value-id']) if (schema[k] !== undefined) out.push(`${path} ${k}=${schema[k]}`);
    ids(schema.values, path, out, seen);
  } else if (typeof t === 'object') {
    ids(t, path, out, seen);
  }
}

const SCHEMA = {
  type: 'record', name: 'manifest_file', namespace: 'js.test',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'added_snapshot_id', type: ['null', 'long'], default: null, 'field-id': 503 },
    { name: 'partitions', type: ['null', { type: 'array', 'element-id': 508, items: {
      type: 'record', name: 'r508', fields: [
        { name: 'contains_null', type: 'boolean', 'field-id': 509 },
        { name: 'lower_bound', type: ['null', 'bytes'], default: null, 'field-id': 510 }] } }],
    default: null, 'field-id': 507 },
    { name: 'counts', type: { type: 'array', logicalType: 'map', items: {
      type: 'record', name: 'k1_v2', fields: [
        { name: 'key', type: 'int', 'field-id': 1 },
        { name: 'value', type: 'long', 'field-id': 2 }] } }, 'field-id': 600 },
    { name: 'props', type: { type: 'map', values: ['null', 'string'], 'key-id': 601, 'value-id': 602 }, 'field-id': 603 },
    { name: 'ratio', type: 'float', 'field-id': 604 },
    { name: 'score', type: 'double', 'field-id': 605 },
    { name: 'kind', type: { type: 'enum', name: 'kind', symbols: ['DATA', 'DELETES'] }, 'field-id': 606 },
    { name: 'id', type: { type: 'fixed', name: 'id4', size: 4 }, 'field-id': 607 },
    { name: 'either', type: ['null', 'string', 'long', 'js.test.id4'], default: null, 'field-id': 608 },
  ],
};

function records(n) {
  const floats = [1.5, -0, 0, 1024.125, -2.25];
  const doubles = [0.1, -0, 1e300, NaN, -Infinity, 5e-324];
  const longs = [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 9007199254740993n];
  const out = [];
  for (let i = 0; i < n; i++) {
    const eithers = [null, { string: `js ${i}` }, { long: BigInt(-i) * 1000003n }, { 'js.test.id4': Buffer.from([i, 1, 2, 3]) }];
    out.push({
      manifest_path: `file:///tmp/m-${i}-\u00e9\u{1F697}.avro`,
      manifest_length: longs[i % 5],
      added_snapshot_id: i % 3 === 0 ? null : { long: 1000n + BigInt(i) },
      partitions: i % 4 === 1 ? null : { array: Array.from({ length: i % 3 }, (_, k) => ({
        contains_null: k % 2 === 1,
        lower_bound: k === 0 ? null : { bytes: Buffer.from([0xff, k, 0]) },
      })) },
      counts: Array.from({ length: i % 4 }, (_, k) => ({ key: k, value: BigInt(k) * -(10n ** 12n) })),
      props: i % 2 ? { '': null, 'k\u00e9': { string: `v\n"${i}"` } } : {},
      ratio: floats[i % 5],
      score: doubles[i % 6],
      kind: ['DATA', 'DELETES'][i % 2],
      id: Buffer.from([i, i + 1, 0, 255]),
      either: eithers[i % 4],
    });
  }
  return out;
}

async function write(codec, outPath, expectedPath) {
  const type = typeFor(SCHEMA);
  const recs = records(50);
  const enc = avro.createFileEncoder(outPath, type, { codec, blockSize: 1024, metadata: { 'format-version': Buffer.from('2') } });
  const done = new Promise((resolve, reject) => {
    enc.on('error', reject);
    enc.on('finish', resolve);
  });
  for (const r of recs) enc.write(r);
  enc.end();
  await done;
  await new Promise((resolve) => setTimeout(resolve, 100)); // the file stream flushes after 'finish'
  fs.writeFileSync(expectedPath, recs.map((r) => plain(type, r)).join('\n') + '\n');
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'read') {
  const { out } = await readAll(args[0]);
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
} else if (cmd === 'schema-ids') {
  const { schema } = await readAll(args[0]);
  const out = [];
  ids(schema, '', out, new Set());
  process.stdout.write(out.join('\n') + '\n');
} else if (cmd === 'write') {
  await write(args[0], args[1], args[2]);
} else {
  process.stderr.write('usage: node avro_avsc.mjs read FILE | schema-ids FILE | write CODEC OUT EXPECTED\n');
  process.exit(2);
}
