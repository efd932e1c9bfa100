// The examples/search-index consumer against the real stack: MariaDB -> sluice -> client ->
// PostgreSQL. PostgreSQL is a private server started for this test (test/support/postgres-sandbox.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CanalClient } from '../../src/client/canal-client.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { startSluice, type RunningSluice } from '../../src/cli/start.ts';
import { SearchIndexer, type BatchSource } from '../../examples/search-index/indexer.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { PostgresSandbox } from '../support/postgres-sandbox.ts';

test('the search indexer keeps PostgreSQL in step, and a lost ack re-delivers without going backwards', async (t) => {
  const pgSb = await PostgresSandbox.start();
  t.after(() => pgSb.cleanup());
  const PG = pgSb.config;
  const pgSchema = `sluice_example_${process.pid}`;
  const admin = new pg.Client(PG);
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${pgSchema}`);
  const pool = new pg.Pool({ ...PG, options: `-c search_path=${pgSchema}` });
  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-example-'));
  let sluice: RunningSluice | undefined;
  let client: CanalClient | undefined;
  const stop = new AbortController();
  let loop: Promise<void> | undefined;
  try {
    await pool.query(await readFile(new URL('../../examples/search-index/schema.sql', import.meta.url), 'utf8'));
    await sb.sql('CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(100), description TEXT)');
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: 0 }, admin: { enabled: false }, dataDir: join(dir, 'data') }));
    await writeFile(join(dir, 'instances', 'shop.json'), JSON.stringify({ source: { ...sb.replConfig, slaveId: 8123 } }));
    sluice = await startSluice(await loadConfig(dir), createLogger({ level: 'silent', pretty: false }));
    await sluice.ready;
    const c2 = new CanalClient({ host: '127.0.0.1', port: sluice.canalPort, destination: 'shop' });
    client = c2;
    await c2.connect();
    await c2.subscribe('sluice_test\\.products');

    // The first ack is "lost" after PostgreSQL committed: the indexer rolls back, sluice
    // delivers the batch again, and the stored position makes the indexer skip it.
    let failAck = true;
    let skipped = 0;
    const source: BatchSource = {
      getWithoutAck: (n, ms) => c2.getWithoutAck(n, ms),
      ack: async (id) => {
        if (failAck) {
          failAck = false;
          throw new Error('simulated crash between COMMIT and ack');
        }
        await c2.ack(id);
      },
      rollback: (id) => c2.rollback(id),
    };
    const indexer = new SearchIndexer(pool, { schema: 'sluice_test', table: 'products', key: 'id', titleColumns: ['name'], bodyColumns: ['description'] }, 'shop/products');
    loop = indexer.run(source, stop.signal, { batchSize: 100, waitMs: 200, onBatch: (_id, r) => (skipped += r.skipped) });

    await sb.sql("INSERT INTO products VALUES (1, 'red shoes', 'running shoes in red'), (2, 'blue hat', 'a woollen hat'), (3, 'green scarf', 'long and warm')");
    await sb.sql("UPDATE products SET name = 'crimson shoes' WHERE id = 1");
    await sb.sql('DELETE FROM products WHERE id = 2');
    await sb.sql('UPDATE products SET id = 30 WHERE id = 3');

    const docs = async () => (await pool.query<{ doc_id: string; title: string }>('SELECT doc_id, title FROM search_documents ORDER BY doc_id')).rows;
    await waitFor(
      async () => JSON.stringify(await docs()) === JSON.stringify([{ doc_id: 'sluice_test.products:1', title: 'crimson shoes' }, { doc_id: 'sluice_test.products:30', title: 'green scarf' }]),
      'the index to match the table',
      30_000,
      100,
    );
    const hits = await pool.query<{ doc_id: string }>("SELECT doc_id FROM search_documents WHERE tsv @@ websearch_to_tsquery('english', 'running shoes')");
    assert.deepEqual(hits.rows.map((r) => r.doc_id), ['sluice_test.products:1']);
    assert.equal(failAck, false, 'the simulated lost ack happened');
    await waitFor(() => skipped > 0, 'the re-delivered batch to be recognised as applied and acknowledged', 30_000);
    assert.deepEqual(await docs(), [{ doc_id: 'sluice_test.products:1', title: 'crimson shoes' }, { doc_id: 'sluice_test.products:30', title: 'green scarf' }], 'the replay changed nothing');
    const pos = await indexer.position();
    const end = await sb.masterStatus();
    assert.equal(pos?.file, end.file);
  } finally {
    stop.abort();
    await loop?.catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await sluice?.stop();
    await pool.end();
    await admin.query(`DROP SCHEMA ${pgSchema} CASCADE`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});
