// Runs the search indexer: `node --import tsx examples/search-index/main.ts`.
// Settings come from the environment so the example needs no config file of its own.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { CanalClient } from '../../src/client/canal-client.ts';
import { SearchIndexer, type IndexedTable } from './indexer.ts';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;

const table: IndexedTable = {
  schema: env('INDEX_SCHEMA', 'shop'),
  table: env('INDEX_TABLE', 'products'),
  key: env('INDEX_KEY', 'id'),
  titleColumns: env('INDEX_TITLE', 'name').split(','),
  bodyColumns: env('INDEX_BODY', 'description').split(','),
};
const destination = env('SLUICE_DESTINATION', 'example');

const pool = new pg.Pool({ connectionString: env('PG_URL', 'postgres://postgres@127.0.0.1:5432/test') });
await pool.query(await readFile(new URL('./schema.sql', import.meta.url), 'utf8'));

const client = new CanalClient({
  host: env('SLUICE_HOST', '127.0.0.1'),
  port: Number(env('SLUICE_PORT', '11111')),
  destination,
  clientId: env('SLUICE_CLIENT_ID', '1001'),
  ...(process.env['SLUICE_USER'] ? { user: process.env['SLUICE_USER'], password: process.env['SLUICE_PASSWORD'] ?? '' } : {}),
});
await client.connect();
// Only this table's changes are needed: the subscription narrows the instance's filter.
await client.subscribe(`${table.schema}\\.${table.table}`);

const indexer = new SearchIndexer(pool, table, `${destination}/${table.schema}.${table.table}`);
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());

console.log(`indexing ${table.schema}.${table.table} from sluice destination ${destination}; Ctrl-C stops`);
await indexer.run(client, stop.signal, {
  onBatch: (id, r) => console.log(`batch ${id}: ${r.upserts} upserted, ${r.deletes} deleted, ${r.skipped} already applied`),
  onError: (err) => console.error(`batch failed, rolled back and retried: ${err.message}`),
});
await client.disconnect();
await pool.end();
