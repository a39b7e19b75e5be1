// serve_rest_ijs.mjs BASE_URL TOKEN EXPECT_JSON: iceberg-js against the REST catalog
// `firn serve` mounts at /iceberg, over a warehouse `firn run` filled. EXPECT_JSON
// is what the SQL catalog holds for production.parking_entry (table-uuid, snapshot
// count, last sequence number; serve_rest_check.py expect). Lists namespaces, loads
// that table, creates a namespace and a table, commits to it. Prints "ok <step>".
import { IcebergRestCatalog } from 'iceberg-js';
import { eq, status } from './ijs_check.mjs';

const [baseUrl, token, expectJson] = process.argv.slice(2);
const want = JSON.parse(expectJson);
const cat = new IcebergRestCatalog({ baseUrl, auth: { type: 'bearer', token } });
const anon = new IcebergRestCatalog({ baseUrl, auth: { type: 'none' } });

const cfg = await cat.loadConfig();
eq(cfg.endpoints.includes('POST /v1/{prefix}/transactions/commit'), true, 'config announces transactions/commit');
const nss = (await cat.listNamespaces()).namespaces.map((n) => n.namespace.join('.'));
eq(['firn', 'production', 'staging'].every((n) => nss.includes(n)), true, `namespaces the pipeline made (${nss})`);
const tables = (await cat.listTables({ namespace: ['production'] })).identifiers.map((i) => i.name).sort();
eq(tables, ['parking_entry', 'parking_exit'], 'tables of production');
const md = await cat.loadTable({ namespace: ['production'], name: 'parking_entry' });
eq([md['table-uuid'], md.snapshots.length, md['last-sequence-number']], [want.uuid, want.snapshots, want.seq],
  'load production.parking_entry: the SQL catalog\'s table, snapshots and sequence number');
const cur = md.snapshots[md.snapshots.length - 1];
eq(Number(cur.summary['total-records']) > 0, true, 'its snapshots hold rows');

eq(await status(anon.createNamespace({ namespace: ['restjs'] })), [401, 'NotAuthorizedException'], 'create namespace without a token is 401');
await cat.createNamespace({ namespace: ['restjs'] }, { properties: { owner: 'iceberg-js' } });
eq(await cat.namespaceExists({ namespace: ['restjs'] }), true, 'create namespace');
const schema = { type: 'struct', 'schema-id': 0, fields: [
  { id: 1, name: 'id', type: 'long', required: true }, { id: 2, name: 'ts', type: 'timestamptz', required: false }] };
const created = await cat.createTable({ namespace: ['restjs'] }, { name: 'visits', schema,
  'partition-spec': { 'spec-id': 0, fields: [{ 'source-id': 2, 'field-id': 1000, transform: 'day', name: 'ts_day' }] },
  properties: { 'created-by': 'iceberg-js' } });
eq(created['format-version'], 2, 'create table');
const ti = { namespace: ['restjs'], name: 'visits' };
const res = await cat.updateTable(ti, {
  requirements: [{ type: 'assert-table-uuid', uuid: created['table-uuid'] }, { type: 'assert-current-schema-id', 'current-schema-id': 0 }],
  updates: [{ action: 'set-properties', updates: { 'committed-by': 'iceberg-js' } }] });
eq(res.metadata.properties['committed-by'], 'iceberg-js', 'commit with requirements');
eq(await status(cat.updateTable(ti, { requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 7 }],
  updates: [{ action: 'set-properties', updates: { x: 'y' } }] })), [409, 'CommitFailedException'], 'stale requirement is 409');
