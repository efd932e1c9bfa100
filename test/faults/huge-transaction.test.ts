// A transaction larger than the store's byte bound streams through the bounded store in pieces;
// sluice is killed with SIGKILL when half of it has been delivered and acknowledged. Acks inside
// the transaction free store space and move the cursor into it (exact resume), so after the
// restart the transaction goes on from its first unacknowledged row, in order, without its BEGIN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';
import { readMetaState } from '../../src/meta/meta-store.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import { instanceConfig, client, cleanUpAfter } from './support/harness.ts';
import { startChild, type ChildSluice } from './support/child-sluice.ts';
import { comparePositions, type Position } from './support/ledger.ts';
import { range } from './support/id-stream.ts';

const DEST = 'huge';
const STORE_BYTES = 64 * 1024;
const ROWS = 6000;

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let child: ChildSluice | undefined;

cleanUpAfter(() => ({ child, sandboxes: [sb], dataDir }));

interface Session {
  /** big-table ids in arrival order */
  ids: number[];
  begins: Position[];
  ends: number;
  bytes: number;
}

/** Pulls small batches, acking each, until `done`. */
async function pull(c: CanalClient, s: Session, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out consuming until ${what} (${s.ids.length} rows so far)`);
    const b = await c.getWithoutAck(3, 200);
    if (b.id === -1) continue;
    for (const e of b) {
      if (e.tableName === 'big' && e.eventType === 'INSERT') {
        for (const r of e.rows) s.ids.push(Number(r.after.id));
      }
      if (e.entryType === 'TRANSACTIONBEGIN') s.begins.push({ file: e.logfileName, offset: e.logfileOffset });
      if (e.entryType === 'TRANSACTIONEND' && s.ids.length > 0) s.ends++;
    }
    for (const raw of b.raw) s.bytes += raw.byteLength;
    await c.ack(b.id);
  }
}

test('a transaction larger than the store bound arrives whole and in order across a sluice SIGKILL in its middle', async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-huge-'));
  const dir = dataDir;
  await sb.sql('CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200)); CREATE TABLE small (id INT PRIMARY KEY)');
  const start = await sb.masterStatus();
  const cfg = instanceConfig(sb, DEST, { start: { kind: 'position', file: start.file, offset: start.position }, store: { maxBytes: STORE_BYTES, maxEntries: 4096 } });
  child = await startChild(cfg, dir, 100);
  let c = client(child.port, DEST);
  await c.connect();
  await c.subscribe();

  // A small committed transaction first, acknowledged and flushed: the cursor before the big one.
  await sb.sql('INSERT INTO small VALUES (1)');
  const warmup: Session = { ids: [], begins: [], ends: 0, bytes: 0 };
  await pull(c, warmup, () => warmup.begins.length >= 1 && warmup.bytes > 0, 'the small transaction');
  await waitFor(async () => (await readMetaFile(dir, DEST))?.clients[0]?.cursor !== undefined, 'the cursor on disk', 15_000);
  const before = (await readMetaFile(dir, DEST))!.clients[0]!.cursor!;

  const bigStart = await sb.masterStatus();
  await sb.sql(`INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_${ROWS}`);

  const first: Session = { ids: [], begins: [], ends: 0, bytes: 0 };
  await pull(c, first, () => first.ids.length >= ROWS / 2, 'half of the big transaction');
  assert.ok(first.ids.length < ROWS, 'sluice dies before the end of the transaction');
  // A GET whose reply confirms the last ack; its batch is left unacknowledged.
  await c.getWithoutAck(3, 200);
  await child.kill9();
  await c.disconnect().catch(() => undefined);
  // The acks inside the transaction moved the cursor into it: its start, plus the entries to skip.
  const atKill = (await readMetaState(dir, DEST))!.clients[0]!.cursor!;
  assert.ok((atKill.skip ?? 0) > 0, `the cursor points inside the transaction (${JSON.stringify(atKill)})`);
  assert.ok(
    comparePositions({ file: atKill.journalName, offset: atKill.nextPosition ?? atKill.position }, { file: bigStart.file, offset: bigStart.position }) <= 0,
    `cursor ${atKill.journalName}:${atKill.nextPosition} names where the big transaction's reading starts (${bigStart.file}:${bigStart.position})`,
  );
  assert.equal(atKill.journalName, before.journalName);

  child = await startChild(cfg, dir, 100);
  assert.equal(child.state, 'running');
  c = client(child.port, DEST);
  await c.connect();
  const second: Session = { ids: [], begins: [], ends: 0, bytes: 0 };
  const rest = ROWS - first.ids.length;
  await pull(c, second, () => second.ids.length >= rest && second.ends >= 1, 'the rest of the transaction and its end');
  await c.disconnect();
  assert.equal(await child.terminate(), 0);

  assert.deepEqual(first.ids, range(1, first.ids.length), 'first session: in order');
  assert.deepEqual(second.ids, range(first.ids.length + 1, ROWS), 'second session: the rest of the transaction from its first unacknowledged row, once, in order');
  assert.equal(second.begins.length, 0, 'its BEGIN was acknowledged and does not come again');
  assert.ok(first.bytes + second.bytes > 4 * STORE_BYTES, `the transaction (${first.bytes + second.bytes} bytes) is several times the store bound (${STORE_BYTES})`);
});
