// pipe_icebird.mjs - icebird (npm) reads a production table firn's pipeline wrote, from
// disk through a fetch that serves file: URLs, and prints one line per row:
// "<eventId>\t<carId>" - the pipeline test compares them with the simulator's truth.
//   node pipe_icebird.mjs TABLE_DIR METADATA_FILE_NAME (the catalog's current file: icebird's
//   own version-hint lookup expects Hadoop-table names)
import { readFile } from 'node:fs/promises'

const localPath = url => String(url).replace(/^file:(\/\/)?/, '')
globalThis.fetch = async (url, init = {}) => {
  let buf
  try { buf = await readFile(localPath(url)) } catch { return new Response('not found', { status: 404 }) }
  const range = new Headers(init.headers).get('Range')
  if (init.method === 'HEAD') return new Response(null, { status: 200, headers: { 'Content-Length': String(buf.length) } })
  if (range) {
    const [, a, b] = range.match(/bytes=(\d+)-(\d*)/)
    return new Response(buf.subarray(Number(a), b === '' ? buf.length : Number(b) + 1), { status: 206 })
  }
  return new Response(buf, { status: 200 })
}
const { icebergRead } = await import('icebird')
const rows = await icebergRead({ tableUrl: 'file://' + process.argv[2], metadataFileName: process.argv[3] })
for (const r of rows) console.log(`${r.eventId}\t${r.carId}`)
