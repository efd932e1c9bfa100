// The search-index example loads a table's existing rows through a snapshot requested with
// `sluice snapshot`, then follows the stream: PostgreSQL ends with one document per row, with the
// latest values, including rows changed while the snapshot ran, and a lost ack in the middle of
// the snapshot (the batch comes again and is recognised by position and snapshotSeq).
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
import { Sandbox, freePort, waitFor } from '../support/sandbox.ts';
import { PostgresSandbox } from '../support/postgres-sandbox.ts';
import { runCli } from '../cli/run-cli.ts';

const ROWS = 3000;

test('search-index example: existing rows arrive through a snapshot, then the stream; the index equals the table', async (t) => {
  const pgSb = await PostgresSandbox.start();
  t.after(() => pgSb.cleanup());
  const pool = new pg.Pool(pgSb.config);
  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-example-snap-'));
  let sluice: RunningSluice | undefined;
  let client: CanalClient | undefined;
  const stop = new AbortController();
  let loop: Promise<void> | undefined;
  try {
    await pool.query(await readFile(new URL('../../examples/search-index/schema.sql', import.meta.url), 'utf8'));
    await sb.sql('CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(100), description TEXT)');
    await sb.sql(`INSERT INTO products SELECT seq, CONCAT('product ', seq), CONCAT('description of ', seq) FROM seq_1_to_${ROWS}`);
    await mkdir(join(dir, 'instances'));
    const adminPort = await freePort();
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: 0 }, admin: { port: adminPort }, dataDir: join(dir, 'data') }));
    await writeFile(join(dir, 'instances', 'shop.json'), JSON.stringify({ source: { ...sb.replConfig, slaveId: 8124 }, snapshot: { chunkSize: 400 } }));
    sluice = await startSluice(await loadConfig(dir), createLogger({ level: 'silent', pretty: false }));
    await sluice.ready;
    const c2 = new CanalClient({ host: '127.0.0.1', port: sluice.canalPort, destination: 'shop' });
    client = c2;
    await c2.connect();
    await c2.subscribe('sluice_test\\.products');

    let acks = 0;
    let skipped = 0;
    const source: BatchSource = {
      getWithoutAck: (n, ms) => c2.getWithoutAck(n, ms),
      ack: async (id) => {
        // the third ack is lost after PostgreSQL committed: the batch comes again
        if (++acks === 3) throw new Error('simulated crash between COMMIT and ack');
        await c2.ack(id);
      },
      rollback: (id) => c2.rollback(id),
    };
    const indexer = new SearchIndexer(pool, { schema: 'sluice_test', table: 'products', key: 'id', titleColumns: ['name'], bodyColumns: ['description'] }, 'shop/products');
    loop = indexer.run(source, stop.signal, { batchSize: 3, waitMs: 200, onBatch: (_id, r) => (skipped += r.skipped), onError: () => undefined });

    const r = await runCli(['snapshot', '--config', dir, '--destination', 'shop', '--table', 'sluice_test.products']);
    assert.equal(r.code, 0, r.stderr);
    await sb.sql("UPDATE products SET name = 'renamed' WHERE id IN (5, 1500, 2999)");
    await sb.sql('DELETE FROM products WHERE id IN (7, 1501)');
    await sb.sql("INSERT INTO products VALUES (5000, 'new one', 'after the snapshot began')");
    await sb.sql('UPDATE products SET id = 6000 WHERE id = 2000');

    const want = (await sb.sql<{ id: number; name: string }[]>('SELECT id, name FROM products ORDER BY id')).map((x) => `sluice_test.products:${x.id}=${x.name}`).sort();
    const docs = async () => (await pool.query<{ doc_id: string; title: string }>('SELECT doc_id, title FROM search_documents')).rows.map((x) => `${x.doc_id}=${x.title}`).sort();
    await waitFor(async () => JSON.stringify(await docs()) === JSON.stringify(want), 'the index to equal the table', 90_000, 200);
    assert.ok(acks >= 3 && skipped > 0, `the lost ack's batch came again and was recognised as applied (acks ${acks}, skipped ${skipped})`);
    const status = await runCli(['snapshot', '--config', dir, '--status']);
    assert.match(status.stdout, /sluice_test\.products +(done|finishing)/);
  } finally {
    stop.abort();
    await loop?.catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await sluice?.stop();
    await pool.end();
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});
