// avsc_long.mjs - avsc's long type as BigInt: snapshot ids and other Iceberg longs
// need all 64 bits (avsc's default long type refuses values beyond 2^53).
//
//   import { longType, parseHook } from './avsc_long.mjs'
//   avro.Type.forSchema(schema, { registry: { long: longType } })
//   avro.createFileDecoder(path, { parseHook })
import avro from 'avsc'

export const longType = avro.types.LongType.__with({
  fromBuffer: buf => buf.readBigInt64LE(),
  toBuffer: n => { const buf = Buffer.alloc(8); buf.writeBigInt64LE(BigInt(n)); return buf },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: n => typeof n === 'bigint',
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
})

// for avro.createFileDecoder: parse the file's writer schema with longType
export const parseHook = schema => avro.Type.forSchema(schema, { registry: { long: longType } })
