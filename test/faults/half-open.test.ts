// A half-open source: the MariaDB process is stopped with SIGSTOP, so its socket stays open and
// nothing answers. The parser's heartbeat watchdog must notice (three silent heartbeat periods),
// the instance shows `retrying`, and after SIGCONT the stream goes on with nothing missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { instanceConfig, startInProcess, client, type InProcessSluice, cleanUpAfter } from './support/harness.ts';
import { IdCollector, range } from './support/id-stream.ts';

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let sluice: InProcessSluice | undefined;

cleanUpAfter(() => ({ sluice, sandboxes: [sb], dataDir }));

test('SIGSTOPped source is detected by the heartbeat watchdog; the stream recovers after SIGCONT', async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-halfopen-'));
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY)');
  sluice = await startInProcess(instanceConfig(sb, 'frozen', { heartbeatMs: 1_000, source: { connectTimeoutMs: 3_000 } }), dataDir, 100);
  const inst = sluice.instance;
  const c = client(sluice.port, 'frozen');
  await c.connect();
  await c.subscribe();
  const col = new IdCollector(c, 't');
  col.start();
  try {
    for (let i = 1; i <= 50; i++) await sb.sql('INSERT INTO t VALUES (?)', [i]);
    await waitFor(() => col.ids.length >= 50, 'rows before the freeze', 30_000);
    const reconnectsBefore = inst.stats().reconnects;
    sb.freeze();
    await waitFor(() => inst.status().state === 'retrying', 'the watchdog to give up on the silent source', 30_000);
    sb.thaw();
    for (let i = 51; i <= 100; i++) await sb.sql('INSERT INTO t VALUES (?)', [i]);
    await waitFor(() => inst.status().state === 'running', 'the instance to reconnect after SIGCONT', 30_000);
    await waitFor(() => col.firstArrivals().length >= 100 || col.error !== undefined, 'all 100 rows', 45_000);
    assert.equal(col.error, undefined, `consumer error: ${col.error?.message}`);
    assert.deepEqual(col.firstArrivals(), range(1, 100));
    assert.ok(inst.stats().reconnects > reconnectsBefore, 'the watchdog restart is counted as a reconnect');
  } finally {
    await col.stop();
    await c.disconnect();
  }
});
