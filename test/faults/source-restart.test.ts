// MariaDB killed with SIGKILL and restarted while an instance streams from it: the instance goes
// to `retrying`, comes back by itself, and the consumer misses nothing.
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

test('source SIGKILLed and restarted mid-stream: retrying, then running, nothing missing', async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-srcrestart-'));
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40))');
  sluice = await startInProcess(instanceConfig(sb, 'src'), dataDir, 100);
  const c = client(sluice.port, 'src');
  await c.connect();
  await c.subscribe();
  const col = new IdCollector(c, 't');
  col.start();
  try {
    for (let i = 1; i <= 150; i++) await sb.sql('INSERT INTO t VALUES (?, ?)', [i, `before-${i}`]);
    await waitFor(() => col.ids.length >= 50, 'some rows streamed before the kill', 30_000);
    await sb.kill9();
    const inst = sluice.instance;
    await waitFor(() => inst.status().state === 'retrying', 'the instance to notice the lost source', 30_000);
    assert.ok(inst.status().error, 'retrying carries the connection error');
    await sb.restart();
    for (let i = 151; i <= 300; i++) await sb.sql('INSERT INTO t VALUES (?, ?)', [i, `after-${i}`]);
    await waitFor(() => inst.status().state === 'running', 'the instance to reconnect', 30_000);
    await waitFor(() => col.firstArrivals().length >= 300 || col.error !== undefined, 'all 300 rows', 45_000);
    assert.equal(col.error, undefined, `consumer error: ${col.error?.message}`);
    assert.deepEqual(col.firstArrivals(), range(1, 300));
    assert.ok(inst.stats().reconnects >= 1, 'the reconnect is counted');
  } finally {
    await col.stop();
    await c.disconnect();
  }
});
