import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../support/sandbox.ts';
import { instanceConfig, startInProcess, client, consumeUntil } from '../faults/support/harness.ts';

let sb: Sandbox;
let dataDir: string;

before(async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-first-start-'));
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
});

after(async () => {
  await sb?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a restart before the first ack resumes where the first start began, not at the new binlog end', async () => {
  // start: end (the default) and no cursor yet: the parser begins at the binlog end of that moment.
  const cfg = instanceConfig(sb, 'fresh');
  let s = await startInProcess(cfg, dataDir, 50);
  try {
    const c = client(s.port, 'fresh');
    await c.connect();
    await c.subscribe();
    for (let i = 1; i <= 3; i++) await sb.sql('INSERT INTO t VALUES (?, ?)', [i, `v${i}`]);
    const handed: number[] = [];
    // Received, never acknowledged: the consumer goes away before its first ack.
    for (let round = 0; handed.length < 3 && round < 200; round++) {
      const b = await c.getWithoutAck(100, 1000);
      for (const e of b) if (e.eventType === 'INSERT') handed.push(...e.rows.map((r) => Number(r.after.id)));
    }
    assert.deepEqual(handed, [1, 2, 3]);
    await c.disconnect();
    await s.stop();

    await sb.sql('INSERT INTO t VALUES (4, ?)', ['v4']);
    s = await startInProcess(cfg, dataDir, 50);
    const c2 = client(s.port, 'fresh');
    await c2.connect();
    const again: number[] = [];
    await consumeUntil(c2, (b) => { for (const e of b) if (e.eventType === 'INSERT') again.push(...e.rows.map((r) => Number(r.after.id))); }, () => again.length >= 4, '4 inserts', 30_000).catch(() => undefined);
    assert.deepEqual(again, [1, 2, 3, 4], 'every unacknowledged entry is delivered again');
    await c2.disconnect();
  } finally {
    await s.stop();
  }
});
