// pq_gen.mjs - write the Parquet files the reader's interop test reads:
// DuckDB (COPY ... TO, every codec, PARQUET_VERSION V1 and V2, several row
// groups, nested columns, empty and all-null files) and arrow-rs through
// parquet-wasm (every codec, writer version 1 and 2 = data page v2, plain
// and dictionary pages, DELTA_* / BYTE_STREAM_SPLIT encodings, small pages).
//
//   node pq_gen.mjs DIR            write DIR/*.parquet, print their names
//   node pq_gen.mjs DIR --small    only the small files kept in tests/data/parquet
//   node pq_gen.mjs DIR --seeds    every kind of file, tiny (fuzz/corpus/parquet_reader)
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { writeFileSync } from 'node:fs';

const [dir, mode] = process.argv.slice(2);
if (!dir) {
  console.error('usage: pq_gen.mjs DIR [--small]');
  process.exit(2);
}
const small = mode === '--small';
const seeds = mode === '--seeds';
const rows = (n) => (seeds ? Math.max(1, Math.min(n, Math.ceil(n / 100))) : n); // tiny files for fuzz seeds
const written = [];

// ------------------------------------------------------------------ DuckDB

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run("SET TimeZone='UTC'");
await con.run('SET threads=1');
await con.run("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");

// Every flat type DuckDB writes, with NULLs, edge values, empty and unicode strings.
const allTypes = (n) => `
  SELECT
    i::BIGINT AS id,
    CASE WHEN i % 7 = 3 THEN NULL ELSE i % 2 = 0 END AS c_bool,
    CASE WHEN i % 11 = 5 THEN NULL ELSE ((i * 37) % 256 - 128)::TINYINT END AS c_tinyint,
    ((i * 1009) % 65536 - 32768)::SMALLINT AS c_smallint,
    CASE WHEN i % 13 = 1 THEN NULL WHEN i = 2 THEN -2147483648 WHEN i = 4 THEN 2147483647
         ELSE ((i * 2654435761) % 4294967296 - 2147483648)::INTEGER END AS c_int,
    CASE WHEN i % 10 = 9 THEN NULL WHEN i = 2 THEN -9223372036854775808 WHEN i = 4 THEN 9223372036854775807
         ELSE (hash(i) % 9223372036854775807)::BIGINT * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) END AS c_bigint,
    CASE i % 17 WHEN 0 THEN NULL WHEN 1 THEN 'nan'::FLOAT WHEN 2 THEN 'inf'::FLOAT
         WHEN 3 THEN '-inf'::FLOAT WHEN 4 THEN '-0.0'::FLOAT ELSE (i / 7.0 - 300)::FLOAT END AS c_float,
    CASE i % 19 WHEN 0 THEN NULL WHEN 1 THEN 'nan'::DOUBLE WHEN 2 THEN '-inf'::DOUBLE
         WHEN 3 THEN 1e308 WHEN 4 THEN 5e-324 ELSE i * 1e10 / 3 - 1e12 END AS c_double,
    CASE WHEN i % 9 = 0 THEN NULL ELSE (((i * 7919) % 199999999 - 99999999)::DECIMAL(18, 0) / 100)::DECIMAL(9, 2) END AS c_dec9,
    CASE WHEN i % 9 = 1 THEN NULL ELSE ((hash(i) % 1999999999999999)::DECIMAL(38, 0) / 10000 - 99999999999)::DECIMAL(18, 4) END AS c_dec18,
    CASE WHEN i % 9 = 2 THEN NULL WHEN i = 3 THEN '-9999999999999999999999999999.9999999999'::DECIMAL(38, 10)
         ELSE (CASE WHEN u < 0 THEN '-' ELSE '' END || (abs(u) // 10000000000)::VARCHAR || '.' ||
               lpad((abs(u) % 10000000000)::VARCHAR, 10, '0'))::DECIMAL(38, 10) END AS c_dec38,
    CASE WHEN i % 8 = 0 THEN NULL ELSE DATE '1970-01-01' + ((i * 17) % 100000 - 50000)::INTEGER END AS c_date,
    CASE WHEN i % 8 = 1 THEN NULL ELSE TIME '00:00:00' + to_microseconds((i * 1234567) % 86400000000) END AS c_time,
    CASE WHEN i % 8 = 2 THEN NULL ELSE TIMESTAMP '2000-01-01' + to_microseconds((hash(i) % 3153600000000000)::BIGINT - 1576800000000000) END AS c_ts,
    CASE WHEN i % 8 = 3 THEN NULL ELSE (TIMESTAMP '2000-01-01' + to_microseconds((hash(i + 7) % 3153600000000000)::BIGINT - 1576800000000000))::TIMESTAMPTZ END AS c_tstz,
    CASE WHEN i % 8 = 4 THEN NULL ELSE make_timestamp_ns(1600000000000000000 + (hash(i) % 100000000000000000)::BIGINT) END AS c_ts_ns,
    CASE WHEN i % 8 = 5 THEN NULL ELSE (TIMESTAMP '2010-06-01' + to_milliseconds(i * 86399999))::TIMESTAMP_MS END AS c_ts_ms,
    CASE WHEN i % 8 = 6 THEN NULL ELSE (TIMESTAMP '2010-06-01' + to_seconds(i * 86399))::TIMESTAMP_S END AS c_ts_s,
    CASE i % 19 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'ünïcødé ✓ 日本語 🚀'
         WHEN 3 THEN 'quote " backslash \\ tab' || chr(9) || 'nl' || chr(10) || 'ctl' || chr(1)
         ELSE 'str-' || (i % 50)::VARCHAR END AS c_varchar,
    'row ' || i::VARCHAR || ' ' || repeat('x', (i % 30)::INTEGER) AS c_varchar_distinct,
    CASE i % 23 WHEN 0 THEN NULL WHEN 1 THEN ''::BLOB ELSE ('\\x00\\xFF' || i::VARCHAR)::BLOB END AS c_blob,
    CASE WHEN i % 29 = 0 THEN NULL ELSE md5(i::VARCHAR)::UUID END AS c_uuid,
    (i % 256)::UTINYINT AS c_utinyint,
    (i * 7 % 65536)::USMALLINT AS c_usmallint,
    CASE WHEN i % 5 = 0 THEN NULL ELSE (hash(i) % 4294967296)::UINTEGER END AS c_uinteger,
    CASE WHEN i % 5 = 1 THEN NULL ELSE hash(i) END AS c_ubigint,
    CASE WHEN i % 6 = 0 THEN NULL ELSE (['sad', 'ok', 'happy'])[(i % 3) + 1]::mood END AS c_enum,
    CASE WHEN i % 4 = 0 THEN NULL ELSE 'constant' END AS c_mostly_const
  FROM (SELECT i, (hash(i) % 1000000000000000000)::HUGEINT * (hash(i + 1) % 10000000000000000000)::HUGEINT
               - 5000000000000000000000000000000000000 AS u FROM range(${n}) t(i))`;

async function duck(name, sql, opts) {
  const path = `${dir}/${name}.parquet`;
  await con.run(`COPY (${sql}) TO '${path}' (FORMAT parquet${opts ? ', ' + opts : ''})`);
  written.push(`${name}.parquet`);
}

if (small) {
  await duck('duckdb_v1_snappy', allTypes(50));
  await duck('duckdb_v2_zstd', allTypes(50), 'COMPRESSION zstd, PARQUET_VERSION V2');
} else {
  for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed', 'lz4']) {
    await duck(`duckdb_v1_${codec}`, allTypes(rows(5000)), `COMPRESSION ${codec}, ROW_GROUP_SIZE ${seeds ? 16 : 2048}`);
    await duck(`duckdb_v2_${codec}`, allTypes(rows(5000)), `COMPRESSION ${codec}, ROW_GROUP_SIZE ${seeds ? 16 : 2048}, PARQUET_VERSION V2`);
  }
  // many rows: several pages per column chunk, dictionaries of 10k strings
  const big = `SELECT i AS id, (1700000000000000 + i * 1000)::BIGINT AS ts_us,
      'car-' || ((i * 7919) % 10000)::VARCHAR AS car, i / 3.0 AS x,
      CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || (i * 48271 % 1000003)::VARCHAR || ' ok' END AS note,
      (i % 500)::INTEGER AS slot, i % 2 = 0 AS flag
    FROM range(${rows(300000)}) t(i)`;
  await duck('duckdb_big_v1', big, 'COMPRESSION zstd');
  await duck('duckdb_big_v2', big, 'COMPRESSION snappy, PARQUET_VERSION V2');
  // nested columns next to flat ones: the flat ones stay readable
  await duck('duckdb_nested', `SELECT i AS id, [i, i + 1] AS c_list, {'a': i, 'b': 'x' || i::VARCHAR} AS c_struct,
      MAP {'k': i} AS c_map, 'tail' || i::VARCHAR AS tail FROM range(${rows(100)}) t(i)`);
  await duck('duckdb_empty', 'SELECT 1::INTEGER AS a, \'x\' AS b WHERE false');
  await duck('duckdb_one_row', allTypes(1));
  await duck('duckdb_all_null', `SELECT NULL::INTEGER AS a, NULL::VARCHAR AS b, NULL::DOUBLE AS c,
      NULL::DECIMAL(38, 4) AS d, NULL::TIMESTAMP AS e, NULL::BOOLEAN AS f FROM range(${rows(3000)}) t(i)`, 'PARQUET_VERSION V2');
  await duck('duckdb_interval', `SELECT i AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE
      to_months(i::INTEGER) + to_days((i * 3)::INTEGER) + to_milliseconds(i * 1001) END AS iv FROM range(${rows(100)}) t(i)`);
}

// ------------------------------------------------------- arrow-rs (wasm)

function arrowTable(n) {
  const nul = (k) => (i) => i % k === 0;
  const col = (type, f, isNull) => arrow.vectorFromArray(
    Array.from({ length: n }, (_, i) => (isNull && isNull(i) ? null : f(i))), type);
  // exact values straight into the buffers (builders convert from millis)
  const raw = (type, Ctor, f, isNull) => {
    const data = new Ctor(n);
    const valid = new Uint8Array(Math.ceil(n / 8));
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      if (isNull && isNull(i)) { nulls++; continue; }
      valid[i >> 3] |= 1 << (i & 7);
      data[i] = f(i);
    }
    return arrow.makeVector(arrow.makeData({ type, length: n, nullCount: nulls, nullBitmap: valid, data }));
  };
  const dec = (precision, scale) => {
    // Decimal128: four little-endian 32-bit words per value
    const words = new Uint32Array(n * 4);
    const valid = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) {
      if (i % 6 === 0) continue;
      valid[i >> 3] |= 1 << (i & 7);
      let v = BigInt(i) * 1234567891n * (i % 2 ? -1n : 1n) * (precision > 18 ? 1000000000000n : 1n);
      v = BigInt.asUintN(128, v);
      for (let k = 0; k < 4; k++) words[i * 4 + k] = Number((v >> BigInt(32 * k)) & 0xffffffffn);
    }
    const type = new arrow.Decimal(scale, precision, 128);
    return arrow.makeVector(arrow.makeData({ type, length: n, nullCount: n - Array.from({ length: n }, (_, i) => i % 6 !== 0).filter(Boolean).length, nullBitmap: valid, data: words }));
  };
  const fixed = () => {
    const bytes = new Uint8Array(n * 16);
    for (let i = 0; i < n * 16; i++) bytes[i] = (i * 131 + 7) & 255;
    return arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeBinary(16), length: n, nullCount: 0, data: bytes }));
  };
  return new arrow.Table({
    id: col(new arrow.Int64(), (i) => BigInt(i)),
    c_i8: col(new arrow.Int8(), (i) => (i * 37) % 256 - 128, nul(11)),
    c_i16: col(new arrow.Int16(), (i) => (i * 1009) % 65536 - 32768),
    c_i32: col(new arrow.Int32(), (i) => (i * 2654435761) % 4294967296 - 2147483648, nul(13)),
    c_i64: col(new arrow.Int64(), (i) => BigInt(i) * 1000000007n * (i % 2 ? -1n : 1n), nul(10)),
    c_u8: col(new arrow.Uint8(), (i) => i % 256),
    c_u16: col(new arrow.Uint16(), (i) => (i * 7) % 65536),
    c_u32: col(new arrow.Uint32(), (i) => (i * 2654435761) % 4294967296, nul(5)),
    c_u64: col(new arrow.Uint64(), (i) => BigInt(i) * 18446744073709551n + BigInt(i % 3) * 9223372036854775808n, nul(7)),
    c_f32: col(new arrow.Float32(), (i) => (i % 17 === 1 ? NaN : i / 7 - 300), nul(17)),
    c_f64: col(new arrow.Float64(), (i) => (i % 19 === 2 ? -Infinity : i * 1e10 / 3 - 1e12), nul(19)),
    c_utf8: col(new arrow.Utf8(), (i) => (i % 19 === 1 ? '' : i % 19 === 2 ? 'ünïcødé ✓ 🚀' : 'v' + (i % 13)), nul(9)),
    c_utf8_distinct: col(new arrow.Utf8(), (i) => 'distinct value ' + i + ' ' + 'y'.repeat(i % 20)),
    c_bin: col(new arrow.Binary(), (i) => Uint8Array.from([0, 255, i & 255, (i >> 8) & 255]), nul(23)),
    c_bool: col(new arrow.Bool(), (i) => i % 3 === 0, nul(7)),
    c_date: raw(new arrow.DateDay(), Int32Array, (i) => (i * 17) % 100000 - 50000, nul(8)),
    c_ts_ms: raw(new arrow.TimestampMillisecond(), BigInt64Array, (i) => BigInt(1600000000000 + i * 86399999 - 900000000000), nul(8)),
    c_ts_us_tz: raw(new arrow.TimestampMicrosecond('UTC'), BigInt64Array, (i) => BigInt(1600000000000000 + i * 86399999123), nul(8)),
    c_ts_ns: raw(new arrow.TimestampNanosecond(), BigInt64Array, (i) => 1600000000000000000n + BigInt(i) * 86399999123457n, nul(8)),
    c_time_ms: raw(new arrow.TimeMillisecond(), Int32Array, (i) => (i * 1234567) % 86400000, nul(8)),
    c_time_us: raw(new arrow.TimeMicrosecond(), BigInt64Array, (i) => BigInt((i * 1234567891) % 86400000000), nul(8)),
    c_dec9: dec(9, 2),
    c_dec18: dec(18, 4),
    c_dec38: dec(38, 10),
    c_fixed16: fixed(),
  });
}

function wasm(name, n, build) {
  const t = arrowTable(n);
  const props = build ? build(new pw.WriterPropertiesBuilder()).build() : null;
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')), props);
  writeFileSync(`${dir}/${name}.parquet`, bytes);
  written.push(`${name}.parquet`);
}

const C = pw.Compression, E = pw.Encoding, V = pw.WriterVersion;
if (small) {
  wasm('arrowrs_v1_dict', 50, (b) => b.setCompression(C.SNAPPY));
  wasm('arrowrs_v2_delta', 50, (b) => b.setWriterVersion(V.V2).setDictionaryEnabled(false).setCompression(C.ZSTD));
} else {
  const codecs = { none: C.UNCOMPRESSED, snappy: C.SNAPPY, zstd: C.ZSTD, gzip: C.GZIP, lz4raw: C.LZ4_RAW };
  for (const [cn, c] of Object.entries(codecs)) {
    wasm(`arrowrs_v1_${cn}`, rows(3000), (b) => b.setCompression(c).setMaxRowGroupSize(seeds ? 16 : 1024));
    wasm(`arrowrs_v2_${cn}`, rows(3000), (b) => b.setCompression(c).setWriterVersion(V.V2).setMaxRowGroupSize(seeds ? 16 : 1024));
  }
  wasm('arrowrs_v1_plain', rows(3000), (b) => b.setDictionaryEnabled(false));
  wasm('arrowrs_v2_plain', rows(3000), (b) => b.setDictionaryEnabled(false).setWriterVersion(V.V2));
  // explicit encodings (dictionary off so they are the primary encoding)
  wasm('arrowrs_v2_encodings', rows(3000), (b) => b.setDictionaryEnabled(false).setWriterVersion(V.V2)
    .setColumnEncoding('c_i32', E.DELTA_BINARY_PACKED).setColumnEncoding('c_i64', E.DELTA_BINARY_PACKED)
    .setColumnEncoding('c_u64', E.DELTA_BINARY_PACKED).setColumnEncoding('c_ts_ns', E.DELTA_BINARY_PACKED)
    .setColumnEncoding('c_utf8', E.DELTA_LENGTH_BYTE_ARRAY).setColumnEncoding('c_utf8_distinct', E.DELTA_BYTE_ARRAY)
    .setColumnEncoding('c_bin', E.DELTA_BYTE_ARRAY).setColumnEncoding('c_fixed16', E.DELTA_BYTE_ARRAY)
    .setColumnEncoding('c_f32', E.BYTE_STREAM_SPLIT).setColumnEncoding('c_f64', E.BYTE_STREAM_SPLIT)
    .setColumnEncoding('c_bool', E.RLE));
  // BYTE_STREAM_SPLIT of integers and fixed-length arrays (DuckDB cannot read
  // these: the test compares firn's output with arrowrs_v2_plain's instead)
  wasm('arrowrs_v2_bss_ints', rows(3000), (b) => b.setDictionaryEnabled(false).setWriterVersion(V.V2)
    .setColumnEncoding('c_i16', E.BYTE_STREAM_SPLIT).setColumnEncoding('c_i32', E.BYTE_STREAM_SPLIT)
    .setColumnEncoding('c_i64', E.BYTE_STREAM_SPLIT).setColumnEncoding('c_u64', E.BYTE_STREAM_SPLIT)
    .setColumnEncoding('c_dec9', E.BYTE_STREAM_SPLIT).setColumnEncoding('c_dec38', E.BYTE_STREAM_SPLIT)
    .setColumnEncoding('c_fixed16', E.BYTE_STREAM_SPLIT).setColumnEncoding('c_date', E.BYTE_STREAM_SPLIT));
  wasm('arrowrs_v1_encodings', rows(3000), (b) => b.setDictionaryEnabled(false)
    .setColumnEncoding('c_i32', E.DELTA_BINARY_PACKED).setColumnEncoding('c_utf8', E.DELTA_LENGTH_BYTE_ARRAY)
    .setColumnEncoding('c_utf8_distinct', E.DELTA_BYTE_ARRAY).setColumnEncoding('c_f64', E.BYTE_STREAM_SPLIT));
  // tiny pages and row groups: many pages per chunk, dictionary fallback to plain
  wasm('arrowrs_small_pages', rows(5000), (b) => b.setDataPageSizeLimit(256).setWriteBatchSize(64)
    .setDictionaryPageSizeLimit(512).setMaxRowGroupSize(seeds ? 20 : 1500).setCompression(C.SNAPPY));
  wasm('arrowrs_small_pages_v2', rows(5000), (b) => b.setDataPageSizeLimit(256).setWriteBatchSize(64)
    .setDictionaryPageSizeLimit(512).setMaxRowGroupSize(seeds ? 20 : 1500).setWriterVersion(V.V2).setCompression(C.ZSTD));
  wasm('arrowrs_brotli', rows(100), (b) => b.setCompression(C.BROTLI)); // firn has no brotli: clean error
  wasm('arrowrs_lz4_hadoop', rows(3000), (b) => b.setCompression(C.LZ4)); // deprecated LZ4 (codec 5)
}

console.log(written.join('\n'));
