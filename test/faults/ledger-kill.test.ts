// The ledger under sluice crashes: sluice runs in a child process and is killed with SIGKILL
// mid-batch, mid-transaction and between an ack and the cursor flush. After each restart the
// consumer goes on; at the end its balances equal the table's, every transfer arrived in order,
// and no session started before the cursor that was on disk when sluice died.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';
import type { LogPosition } from '../../src/protocol/entry-model.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { instanceConfig, client } from './support/harness.ts';
import { startChild, type ChildSluice } from './support/child-sluice.ts';
import { createLedger, runTransfers, runBulkTransfer, tableBalances, LedgerConsumer, comparePositions, ACCOUNTS, OPENING_BALANCE, type Position } from './support/ledger.ts';

const DEST = 'ledger';
// Long enough that two acks in a row fall into one flush interval.
const FLUSH_MS = 3_000;

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let child: ChildSluice | undefined;

after(async () => {
  await child?.kill9();
  await sb?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function diskCursor(dir: string): Promise<LogPosition> {
  const c = (await readMetaFile(dir, DEST))?.clients.find((x) => x.clientId === '1001')?.cursor;
  assert.ok(c, 'meta.dat holds a cursor for client 1001');
  return c;
}

function applyBatch(consumer: LedgerConsumer, b: CanalBatch): void {
  for (const raw of b.raw) consumer.applyBytes(raw);
}

/** Last TRANSACTIONEND in a batch, i.e. where acking it moves the cursor. */
function lastBoundary(b: CanalBatch): Position | undefined {
  let p: Position | undefined;
  for (const e of b) if (e.entryType === 'TRANSACTIONEND') p = { file: e.logfileName, offset: e.logfileOffset };
  return p;
}

async function pullUntil(c: CanalClient, consumer: LedgerConsumer, done: () => boolean, what: string, batchSize: number, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out consuming until ${what}; seen ${consumer.transfersSeen.length} transfers; sluice stderr:\n${child?.stderr().slice(-3000) ?? ''}`);
    }
    const b = await c.getWithoutAck(batchSize, 200);
    if (b.id === -1) continue;
    applyBatch(consumer, b);
    await c.ack(b.id);
  }
}

test('ledger: SIGKILL mid-batch, mid-transaction and between ack and flush loses nothing and never replays before the persisted cursor', async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-ledger-'));
  const dir = dataDir;
  const start = await sb.masterStatus();
  await createLedger(sb);
  const cfg = instanceConfig(sb, DEST, { start: { kind: 'position', file: start.file, offset: start.position } });
  const consumer = new LedgerConsumer();
  const cursorsAtKill: LogPosition[] = [];

  const restart = async (): Promise<CanalClient> => {
    child = await startChild(cfg, dir, FLUSH_MS);
    assert.equal(child.state, 'running', `sluice came back running (${child.error ?? ''})`);
    consumer.restartSession();
    const c = client(child.port, DEST);
    await c.connect();
    return c;
  };
  const crash = async (c: CanalClient): Promise<void> => {
    await child!.kill9();
    await c.disconnect().catch(() => undefined);
    cursorsAtKill.push(await diskCursor(dir));
  };

  // Round 1: killed with a batch handed out and not acknowledged.
  child = await startChild(cfg, dir, FLUSH_MS);
  let c = client(child.port, DEST);
  await c.connect();
  await c.subscribe();
  await runTransfers(sb, 1, 40);
  await pullUntil(c, consumer, () => consumer.transfersSeen.length >= 20, '20 transfers', 10);
  // Let one flush interval pass so this round dies with a cursor on disk, not the configured start.
  await waitFor(async () => (await readMetaFile(dir, DEST))?.clients[0]?.cursor !== undefined, 'a cursor in meta.dat', 15_000);
  let pending = await c.getWithoutAck(10, 5_000);
  assert.notEqual(pending.id, -1, 'a batch is outstanding when sluice dies');
  applyBatch(consumer, pending);
  await crash(c);

  // Round 2: killed in the middle of a long transaction, its head delivered and acknowledged,
  // while the source keeps committing.
  c = await restart();
  await runBulkTransfer(sb, 41, 60);
  const more = runTransfers(sb, 61, 90);
  await pullUntil(c, consumer, () => consumer.transfersSeen.length >= 50, 'transfer 50 (inside the long transaction)', 7);
  assert.ok(consumer.transfersSeen.length < 60, 'the long transaction is cut by the kill');
  await crash(c);
  await more;

  // Round 3: killed right after acks that the flush interval has not written yet.
  c = await restart();
  await runTransfers(sb, 91, 120);
  await pullUntil(c, consumer, () => consumer.transfersSeen.length >= 100, '100 transfers', 10);
  let lastAcked: Position | undefined;
  for (let i = 0; i < 3; i++) {
    pending = await c.getWithoutAck(10, 5_000);
    assert.notEqual(pending.id, -1);
    applyBatch(consumer, pending);
    await c.ack(pending.id);
    lastAcked = lastBoundary(pending) ?? lastAcked;
  }
  await crash(c);
  const onDisk = cursorsAtKill[cursorsAtKill.length - 1]!;
  assert.ok(lastAcked !== undefined);
  assert.ok(
    comparePositions({ file: onDisk.journalName, offset: onDisk.position }, lastAcked) < 0,
    `the last acks (up to ${lastAcked.file}:${lastAcked.offset}) had not reached meta.dat (${onDisk.journalName}:${onDisk.position}) when sluice died`,
  );

  // Final round: consume to the end.
  c = await restart();
  const expected = await tableBalances(sb);
  const equal = (): boolean => [...expected].every(([id, bal]) => consumer.balances.get(id) === bal);
  await pullUntil(c, consumer, () => consumer.transfersSeen.length === 120 && equal(), 'all 120 transfers and the final balances', 50);
  await c.disconnect();
  assert.equal(await child.terminate(), 0, 'SIGTERM exits 0');

  assert.deepEqual(consumer.problems(), []);
  assert.deepEqual(consumer.transfersSeen, Array.from({ length: 120 }, (_, i) => i + 1));
  assert.deepEqual(new Map([...consumer.balances].sort((a, b) => a[0] - b[0])), expected);
  assert.equal(consumer.sum(), ACCOUNTS * OPENING_BALANCE);
  // Sessions 2..4 began at or after the cursor that was on disk when the previous one died.
  assert.equal(consumer.sessionStarts.length, 4);
  for (let i = 0; i < cursorsAtKill.length; i++) {
    const cur = cursorsAtKill[i]!;
    const from = consumer.sessionStarts[i + 1]!;
    assert.ok(
      comparePositions(from, { file: cur.journalName, offset: cur.nextPosition ?? cur.position }) >= 0,
      `session ${i + 2} started at ${from.file}:${from.offset}, before the persisted cursor ${cur.journalName}:${cur.nextPosition}`,
    );
  }
  // Repeats happened (the kills cost something) but were bounded by the cursor.
  assert.ok(consumer.delivered > 0);
});
