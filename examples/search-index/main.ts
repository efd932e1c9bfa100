// Runs the search indexer: `node --import tsx examples/search-index/main.ts` (README.md there).
// Settings come from the environment so the example needs no config file of its own. What stops
// it before it runs (no PG_URL, PostgreSQL or sluice unreachable, a refused login) is one line on
// stderr naming the setting to change, and exit code 1, not a stack.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { CanalClient } from '../../src/client/canal-client.ts';
import { CanalAuthError, CanalConnectionError } from '../../src/client/errors.ts';
import { SearchIndexer, type IndexedTable } from './indexer.ts';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;

function fail(message: string): never {
  process.stderr.write(`search-index: ${message}\n`);
  process.exit(1);
}

const table: IndexedTable = {
  schema: env('INDEX_SCHEMA', 'shop'),
  table: env('INDEX_TABLE', 'products'),
  key: env('INDEX_KEY', 'id'),
  titleColumns: env('INDEX_TITLE', 'name').split(','),
  bodyColumns: env('INDEX_BODY', 'description').split(','),
};
const destination = env('SLUICE_DESTINATION', 'example');
const host = env('SLUICE_HOST', '127.0.0.1');
const port = Number(env('SLUICE_PORT', '11111'));
const user = process.env['SLUICE_USER'];

const pgUrl = process.env['PG_URL'];
if (pgUrl === undefined || pgUrl === '') {
  fail('PG_URL is not set: start a private PostgreSQL with `node --import tsx examples/search-index/postgres.ts` and run the `export PG_URL=...` line it prints (or point PG_URL at a PostgreSQL of your own)');
}
const pool = new pg.Pool({ connectionString: pgUrl });
try {
  await pool.query(await readFile(new URL('./schema.sql', import.meta.url), 'utf8'));
} catch (err) {
  await pool.end().catch(() => undefined);
  fail(`PostgreSQL at PG_URL ${pgUrl.replace(/:[^:@/]*@/, ':***@')} failed: ${(err as Error).message}`);
}

const client = new CanalClient({
  host,
  port,
  destination,
  clientId: env('SLUICE_CLIENT_ID', '1001'),
  ...(user ? { user, password: process.env['SLUICE_PASSWORD'] ?? '' } : {}),
});
try {
  await client.connect();
  // Only this table's changes are needed: the subscription narrows the instance's filter.
  await client.subscribe(`${table.schema}\\.${table.table}`);
} catch (err) {
  await client.disconnect().catch(() => undefined);
  await pool.end().catch(() => undefined);
  const e = err as Error;
  if (e instanceof CanalAuthError) {
    const who = user ? `user "${user}" with the password in SLUICE_PASSWORD` : 'no user (SLUICE_USER is not set)';
    fail(
      `sluice at ${host}:${port} refused the login of ${who}: ${e.serverMessage}. Set SLUICE_USER and SLUICE_PASSWORD to a client account ` +
        'of the sluice server (its sluice.json user and passwordHash; the shipped config/ has user canal, password canal)',
    );
  }
  if (e instanceof CanalConnectionError) fail(`cannot reach sluice at ${host}:${port} (SLUICE_HOST, SLUICE_PORT): ${e.message}. Is \`sluice start\` running with that listen address?`);
  fail(`subscribing to destination ${destination} (SLUICE_DESTINATION) at ${host}:${port} failed: ${e.message}`);
}

const indexer = new SearchIndexer(pool, table, `${destination}/${table.schema}.${table.table}`);
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => stop.abort());

console.log(`indexing ${table.schema}.${table.table} from sluice destination ${destination} at ${host}:${port}; Ctrl-C stops`);
await indexer.run(client, stop.signal, {
  onBatch: (id, r) => console.log(`batch ${id}: ${r.upserts} upserted, ${r.deletes} deleted, ${r.skipped} already applied`),
  onError: (err) => console.error(`batch failed, rolled back and retried: ${err.message}`),
});
await client.disconnect();
await pool.end();
