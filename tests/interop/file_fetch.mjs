// file_fetch.mjs - a fetch that serves file: URLs from the local disk, for readers
// that only read through fetch (icebird): every path in firn's metadata is a file:
// URI. GET answers the whole file, or a byte range with a Range header (206); HEAD
// answers Content-Length; a file that cannot be read is a 404.
//
//   import { installFileFetch } from './file_fetch.mjs'
//   installFileFetch()                 // replaces globalThis.fetch
//   const { icebergRead } = await import('icebird')
import { readFile } from 'node:fs/promises'

// no percent-decoding: like Java's HadoopFileIO, firn's paths hold partition values escaped
// once (s=c+d%2Fe%3Df) and the directory on disk has exactly that name
export const localPath = url => String(url).replace(/^file:(\/\/)?/, '')

export async function fileFetch(url, init = {}) {
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

export function installFileFetch() {
  globalThis.fetch = fileFetch
}
