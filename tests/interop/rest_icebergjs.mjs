// rest_icebergjs.mjs BASE_URL WAREHOUSE [TOKEN]: iceberg-js (an independent REST
// client) against firn's REST catalog (with a bearer token when given). Prints "ok <step>" per step; exits 1 on the first
// step whose answer is not what the protocol says.
import { IcebergRestCatalog } from 'iceberg-js';
import { eq, status } from './ijs_check.mjs';

const [baseUrl, warehouse, token] = process.argv.slice(2);
const cat = new IcebergRestCatalog({ baseUrl, warehouse: warehouse || undefined, auth: token ? { type: 'bearer', token } : { type: 'none' } });

const ns = { namespace: ['js'] };
const cfg = await cat.loadConfig();
eq(typeof cfg.defaults, 'object', 'config has defaults');
await cat.createNamespace(ns, { properties: { owner: 'js', drop: 'me' } });
await cat.createNamespace({ namespace: ['js', 'child'] });
eq(await status(cat.createNamespace(ns)), [409, 'AlreadyExistsException'], 'create namespace twice is 409');
eq(await cat.namespaceExists(ns), true, 'namespace exists');
eq(await cat.namespaceExists({ namespace: ['nope'] }), false, 'missing namespace does not exist');
eq((await cat.loadNamespaceMetadata(ns)).properties, { drop: 'me', owner: 'js' }, 'namespace properties');
const up = await cat.updateNamespaceProperties(ns, { updates: { tier: 'gold' }, removals: ['drop', 'absent'] });
eq([up.updated, up.removed, up.missing], [['tier'], ['drop'], ['absent']], 'update namespace properties');
eq((await cat.listNamespaces({ parent: ns })).namespaces, [{ namespace: ['js', 'child'] }], 'list child namespaces');

const schema = { type: 'struct', 'schema-id': 0, 'identifier-field-ids': [],
  fields: [{ id: 1, name: 'id', type: 'long', required: true }, { id: 2, name: 'ts', type: 'timestamptz', required: false }] };
for (const name of ['a', 'b', 'c']) {
  await cat.createTable(ns, { name, schema, 'partition-spec': { 'spec-id': 0, fields: [{ 'source-id': 2, 'field-id': 1000, transform: 'day', name: 'ts_day' }] },
    properties: { 'created-by': 'iceberg-js' } });
}
const p1 = await cat.listTables(ns, { pageSize: 2 });
eq(p1.identifiers.map((i) => i.name), ['a', 'b'], 'list tables page 1');
const p2 = await cat.listTables(ns, { pageSize: 2, pageToken: p1.nextPageToken });
eq([p2.identifiers.map((i) => i.name), p2.nextPageToken ?? null], [['c'], null], 'list tables page 2');
const ta = { namespace: ['js'], name: 'a' };
const md = await cat.loadTable(ta);
eq([md['format-version'], md.properties['created-by'], md['partition-specs'][0].fields[0].transform], [2, 'iceberg-js', 'day'], 'load table');
eq(await cat.tableExists(ta), true, 'table exists');
eq(await status(cat.createTable(ns, { name: 'a', schema })), [409, 'AlreadyExistsException'], 'create table twice is 409');

const ok = await cat.updateTable(ta, { requirements: [{ type: 'assert-table-uuid', uuid: md['table-uuid'] },
  { type: 'assert-current-schema-id', 'current-schema-id': 0 }], updates: [{ action: 'set-properties', updates: { k: 'v' } }] });
eq([ok.metadata.properties.k, typeof ok['metadata-location']], ['v', 'string'], 'commit with requirements');
eq(await status(cat.updateTable(ta, { requirements: [{ type: 'assert-table-uuid', uuid: '00000000-0000-0000-0000-000000000000' }],
  updates: [{ action: 'set-properties', updates: { k: 'w' } }] })), [409, 'CommitFailedException'], 'stale uuid is 409');
eq((await cat.loadTable(ta)).properties.k, 'v', 'failed commit changed nothing');

await cat.renameTable({ source: ta, destination: { namespace: ['js'], name: 'a2' } });
eq([await cat.tableExists(ta), await cat.tableExists({ namespace: ['js'], name: 'a2' })], [false, true], 'rename table');
eq(await status(cat.loadTable(ta)), [404, 'NoSuchTableException'], 'load renamed-away table is 404');
eq(await status(cat.dropNamespace(ns)), [409, 'NamespaceNotEmptyException'], 'drop non-empty namespace is 409');
for (const name of ['a2', 'b', 'c']) await cat.dropTable({ namespace: ['js'], name }, { purge: name === 'c' });
await cat.dropNamespace({ namespace: ['js', 'child'] });
await cat.dropNamespace(ns);
eq(await cat.namespaceExists(ns), false, 'namespace dropped');
