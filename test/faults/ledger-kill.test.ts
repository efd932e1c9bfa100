// The ledger under sluice crashes: sluice runs in a child process and is killed with SIGKILL
// mid-batch, mid-transaction and between an ack and the cursor flush. After each restart the
// consumer goes on; at the end its balances equal the table's, every transfer arrived in order,
// no acknowledged entry came again (exact resume, the default), and every session began with
// the first entry not acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';
import type { LogPosition } from '../../src/protocol/entry-model.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { instanceConfig, client, cleanUpAfter } from './support/harness.ts';
import { AckLedger } from './support/ack-ledger.ts';
import { startChild, type ChildSluice } from './support/child-sluice.ts';
import { createLedger, runTransfers, runBulkTransfer, tableBalances, LedgerConsumer, comparePositions, ACCOUNTS, OPENING_BALANCE, type Position } from './support/ledger.ts';

const DEST = 'ledger';
// Long enough that two acks in a row fall into one flush interval.
const FLUSH_MS = 3_000;

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let child: ChildSluice | undefined;

cleanUpAfter(() => ({ child, sandboxes: [sb], dataDir }));

async function diskCursor(dir: string): Promise<LogPosition> {
  const c = (await readMetaFile(dir, DEST))?.clients.find((x) => x.clientId === '1001')?.cursor;
  assert.ok(c, 'meta.dat holds a cursor for client 1001');
  return c;
}

const acks = new AckLedger();

function applyBatch(consumer: LedgerConsumer, b: CanalBatch): void {
  acks.reply(b);
  for (const raw of b.raw) consumer.applyBytes(raw);
}

async function ackBatch(c: CanalClient, b: CanalBatch): Promise<void> {
  acks.ack(b);
  await c.ack(b.id);
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
    if (b.id === -1) {
      acks.reply(b);
      continue;
    }
    applyBatch(consumer, b);
    await ackBatch(c, b);
  }
}

/** One more GET, whose reply confirms the acks before it; its batch stays unacknowledged. */
async function confirmAcks(c: CanalClient, consumer: LedgerConsumer): Promise<void> {
  const b = await c.getWithoutAck(10, 200);
  if (b.id === -1) acks.reply(b);
  else applyBatch(consumer, b);
}

test('ledger: SIGKILL mid-batch, mid-transaction and between ack and flush loses nothing and repeats no acknowledged entry', async () => {
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
    acks.newSession();
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
  await confirmAcks(c, consumer);
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
    await ackBatch(c, pending);
    lastAcked = lastBoundary(pending) ?? lastAcked;
  }
  await confirmAcks(c, consumer);
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
  // Exact resume: nothing acknowledged came again, and each session began at the first entry not acknowledged.
  assert.deepEqual(acks.problems(), []);
  assert.equal(acks.repeats, 0);
  assert.ok(acks.ackedCount > 100, `${acks.ackedCount} entries acknowledged`);
  assert.equal(consumer.sessionStarts.length, 4);
  // Unacknowledged batches outstanding at each kill were delivered again (the kills cost that, no more).
  assert.ok(consumer.delivered > acks.ackedCount);
});
