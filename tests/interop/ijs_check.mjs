// ijs_check.mjs - the checks the iceberg-js scripts share (rest_icebergjs.mjs,
// serve_rest_ijs.mjs): eq prints "ok <what>" or fails the script with what it
// got and wanted; status is 200 or [HTTP status, Iceberg error type] of a call.
import { IcebergError } from 'iceberg-js';

export const fail = (msg) => { console.error('FAIL ' + msg); process.exit(1); };
export const eq = (a, b, what) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) fail(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
  console.log('ok ' + what);
};
export async function status(p) {
  try { await p; return 200; } catch (e) { if (e instanceof IcebergError) return [e.status, e.icebergType]; throw e; }
}
