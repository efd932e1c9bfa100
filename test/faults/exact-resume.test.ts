// Exact resume inside one huge transaction: 10,000 rows in one transaction, consumed in
// batches of 100 entries and acknowledged batch by batch, across five restarts of sluice (SIGKILL
// and SIGTERM in turn, each cut inside the transaction). Every row is acknowledged exactly once,
// no acknowledged entry comes again, and each restart begins at the first entry not acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../support/sandbox.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { instanceConfig, client, cleanUpAfter } from './support/harness.ts';
import { startChild, type ChildSluice } from './support/child-sluice.ts';
import { AckLedger } from './support/ack-ledger.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';

const DEST = 'exact';
const ROWS = 10_000;
const BATCH = 100;

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let child: ChildSluice | undefined;

cleanUpAfter(() => ({ child, sandboxes: [sb], dataDir }));

test('a 10,000-row transaction acknowledged in pieces of 100 across five restarts: every row exactly once', async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-exact-'));
  const dir = dataDir;
  await sb.sql('CREATE TABLE r (id INT PRIMARY KEY)');
  // One INSERT statement per row, so each row is its own rows event (its own entry).
  await sb.sql(`CREATE PROCEDURE fill(n INT) BEGIN DECLARE i INT DEFAULT 0; START TRANSACTION; WHILE i < n DO SET i = i + 1; INSERT INTO r VALUES (i); END WHILE; COMMIT; END`);
  const start = await sb.masterStatus();
  await sb.sql('CALL fill(?)', [ROWS]);
  const cfg = instanceConfig(sb, DEST, { start: { kind: 'position', file: start.file, offset: start.position }, store: { maxEntries: 1024 } });

  const acks = new AckLedger();
  /** row ids of acknowledged batches, with how often each was acknowledged */
  const ackedRows = new Map<number, number>();
  let begins = 0;
  let ends = 0;
  const rowsOf = (b: CanalBatch): number[] => {
    const ids: number[] = [];
    for (const e of b) if (e.entryType === 'ROWDATA') for (const r of e.rows) ids.push(Number(r.after.id));
    return ids;
  };

  const consume = async (c: CanalClient, until: () => boolean): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!until()) {
      if (Date.now() > deadline) throw new Error(`timed out at ${ackedRows.size} rows acknowledged; sluice stderr:\n${child?.stderr().slice(-3000) ?? ''}`);
      const b = await c.getWithoutAck(BATCH, 500);
      acks.reply(b);
      if (b.id === -1) continue;
      for (const id of rowsOf(b)) ackedRows.set(id, (ackedRows.get(id) ?? 0) + 1);
      for (const e of b) {
        if (e.entryType === 'TRANSACTIONBEGIN') begins++;
        if (e.entryType === 'TRANSACTIONEND') ends++;
      }
      acks.ack(b);
      await c.ack(b.id);
    }
  };

  child = await startChild(cfg, dir, 3_000);
  let c = client(child.port, DEST);
  await c.connect();
  await c.subscribe();
  for (let restart = 1; restart <= 5; restart++) {
    await consume(c, () => ackedRows.size >= restart * 1_900);
    // one more reply confirms the last ack; its batch is left unacknowledged
    acks.reply(await c.getWithoutAck(BATCH, 500));
    if (restart % 2 === 1) {
      await child.kill9();
    } else {
      assert.equal(await child.terminate(), 0);
      const cursor = (await readMetaFile(dir, DEST))?.clients[0]?.cursor;
      assert.ok(cursor?.skip !== undefined && cursor.skip > 0, `a clean stop inside the transaction writes the entries to skip (${JSON.stringify(cursor)})`);
    }
    await c.disconnect().catch(() => undefined);
    child = await startChild(cfg, dir, 3_000);
    assert.equal(child.state, 'running', child.error);
    acks.newSession();
    c = client(child.port, DEST);
    await c.connect();
  }
  await consume(c, () => ends >= 1);
  await c.disconnect();
  assert.equal(await child.terminate(), 0);

  assert.deepEqual(acks.problems(), []);
  assert.equal(acks.repeats, 0);
  assert.equal(acks.sessions, 5);
  assert.equal(ackedRows.size, ROWS);
  const twice = [...ackedRows].filter(([, n]) => n !== 1).map(([id]) => id);
  assert.deepEqual(twice, [], 'every row acknowledged exactly once');
  assert.equal(begins, 1);
  assert.equal(ends, 1);
});
