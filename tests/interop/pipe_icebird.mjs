// pipe_icebird.mjs - icebird (npm) reads a production table firn's pipeline wrote, from
// disk through a fetch that serves file: URLs, and prints one line per row:
// "<eventId>\t<carId>" - the pipeline test compares them with the simulator's truth.
//   node pipe_icebird.mjs TABLE_DIR METADATA_FILE_NAME (the catalog's current file: icebird's
//   own version-hint lookup expects Hadoop-table names)
import { installFileFetch } from './file_fetch.mjs'

installFileFetch()
const { icebergRead } = await import('icebird')
const rows = await icebergRead({ tableUrl: 'file://' + process.argv[2], metadataFileName: process.argv[3] })
for (const r of rows) console.log(`${r.eventId}\t${r.carId}`)
