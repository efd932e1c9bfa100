// MariaDB sandbox -> EventParser -> EventSink -> Pump -> EventStore -> CanalServer -> CanalClient:
// what the client decodes is what MySQL holds, and acknowledged entries never come again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalEntry } from '../../src/client/entry.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { servePipeline } from './support/serve.ts';

test('row changes from MariaDB arrive decoded, in order, with the values MySQL holds', async () => {
  const sb = await Sandbox.start();
  let pipe: Awaited<ReturnType<typeof servePipeline>> | undefined;
  try {
    await sb.sql('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), qty INT NULL)');
    pipe = await servePipeline(sb);
    const client = new CanalClient({ host: '127.0.0.1', port: pipe.port, destination: 'example', reconnect: false });
    await client.connect();
    await client.subscribe('sluice_test\\..*');

    await sb.transaction(["INSERT INTO items VALUES (1, 'apple', 3), (2, 'pear', NULL)", "UPDATE items SET qty = 7, name = 'Pear' WHERE id = 2"]);
    await sb.sql('DELETE FROM items WHERE id = 1');
    await sb.sql('ALTER TABLE items ADD COLUMN note VARCHAR(10) NULL');
    await sb.sql("INSERT INTO items VALUES (3, 'fig', 1, 'n')");

    const got: CanalEntry[] = [];
    const deadline = Date.now() + 30_000;
    while (!got.some((e) => e.eventType === 'INSERT' && e.rows[0]?.after.id === '3')) {
      assert.ok(Date.now() < deadline, `entries did not all arrive; got ${got.map((e) => e.eventType ?? e.entryType).join(',')}`);
      const b = await client.get(100, 1000);
      got.push(...b.entries);
    }
    const dml = got.filter((e) => e.entryType === 'ROWDATA' && !e.isDdl);
    assert.deepEqual(
      dml.map((e) => [e.eventType, e.tableName, e.rows.map((r) => [r.before, r.after])]),
      [
        ['INSERT', 'items', [[{}, { id: '1', name: 'apple', qty: '3' }], [{}, { id: '2', name: 'pear', qty: null }]]],
        ['UPDATE', 'items', [[{ id: '2', name: 'pear', qty: null }, { id: '2', name: 'Pear', qty: '7' }]]],
        ['DELETE', 'items', [[{ id: '1', name: 'apple', qty: '3' }, {}]]],
        ['INSERT', 'items', [[{}, { id: '3', name: 'fig', qty: '1', note: 'n' }]]],
      ],
    );
    const ddl = got.find((e) => e.isDdl);
    assert.ok(ddl !== undefined, 'the ALTER arrives');
    assert.equal(ddl.eventType, 'ALTER');
    assert.match(ddl.sql, /ADD COLUMN note/);
    // The first transaction is BEGIN, INSERT, UPDATE, END with the END carrying the xid.
    const firstEnd = got.findIndex((e) => e.entryType === 'TRANSACTIONEND');
    assert.deepEqual(got.slice(0, firstEnd + 1).map((e) => e.eventType ?? e.entryType), ['TRANSACTIONBEGIN', 'INSERT', 'UPDATE', 'TRANSACTIONEND']);
    assert.match(got[firstEnd]!.transactionId, /^\d+$/);
    for (const e of dml) assert.equal(e.schemaName, sb.database);
    // Positions are those of the source's binlog.
    const status = await sb.masterStatus();
    assert.ok(dml.every((e) => e.logfileName === status.file && e.logfileOffset > 0 && e.logfileOffset < status.position));

    // What MySQL holds now equals the last images the stream delivered.
    const rows = await sb.sql<{ id: number; name: string; qty: number | null }[]>('SELECT id, name, qty FROM items ORDER BY id');
    assert.deepEqual(
      rows.map((r) => ({ id: String(r.id), name: r.name, qty: r.qty === null ? null : String(r.qty) })),
      [
        { id: '2', name: 'Pear', qty: '7' },
        { id: '3', name: 'fig', qty: '1' },
      ],
    );
    await waitFor(() => pipe!.store.stats().outstandingBatches === 0, 'every batch acknowledged');
    await client.disconnect();

    // Acknowledged means gone: a new consumer finds nothing of it.
    const again = new CanalClient({ host: '127.0.0.1', port: pipe.port, destination: 'example', reconnect: false });
    await again.connect();
    await again.subscribe();
    const empty = await again.getWithoutAck(100, 500);
    assert.equal(empty.id, -1);
    await again.disconnect();
  } finally {
    await pipe?.stop();
    await sb.cleanup();
  }
});
