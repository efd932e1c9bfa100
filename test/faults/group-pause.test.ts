// A group destination with `group.onSourceFailure: pause`, against two real MariaDB shards: one
// source killed pauses the whole destination. The live shard's new transactions are read by
// sluice (its reader's position passes them) but none reaches the store or a consumer while the
// other is down, and the state is `degraded` naming the dead source and the pause. Once the
// source is back, everything arrives, each row exactly once, in each shard's order, with
// transactions never split (test/faults/support/group-shards.ts checks each batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor, type Sandbox } from '../support/sandbox.ts';
import { client, startInProcess, type InProcessSluice, cleanUpAfter } from './support/harness.ts';
import { GroupConsumer, pull, startShards, workload } from './support/group-shards.ts';

const DEST = 'paused';

let sbs: Sandbox[] = [];
let dataDir: string | undefined;
let inproc: InProcessSluice | undefined;

cleanUpAfter(() => ({ sluice: inproc, sandboxes: sbs, dataDir }));

test('group destination, onSourceFailure pause: a dead source holds back the other; on its return everything arrives once', async () => {
  const shards = await startShards(DEST, { skewMs: 200, onSourceFailure: 'pause' });
  sbs = shards.sbs;
  const [a, b] = shards.sbs;
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-group-pause-'));
  inproc = await startInProcess(shards.cfg, dataDir, 200);
  const inst = inproc.instance;
  await waitFor(() => inst.status().state === 'running', 'the group running', 30_000);
  const c = client(inproc.port, DEST);
  await c.connect();
  await c.subscribe();
  const consumer = new GroupConsumer();
  const diag = () => JSON.stringify(inst.stats());

  // Both flowing.
  const [a1, b1] = await Promise.all([workload(a, 1, 0, 10), workload(b, 2, 0, 10)]);
  await pull(c, consumer, () => consumer.count('shard1') >= a1 && consumer.count('shard2') >= b1, 'both shards before the kill', diag);

  // shard2 dies: the destination pauses, naming it.
  await b.kill9();
  await waitFor(() => inst.status().state === 'degraded', 'the group degraded after shard2 died', 30_000);
  const error = inst.status().error ?? '';
  assert.match(error, /source shard2 is (retrying|connecting)/, error);
  assert.match(error, /paused until it recovers \(group\.onSourceFailure = pause\)/, error);
  assert.doesNotMatch(error, /shard1/, 'only the dead source is named');

  // shard1 goes on taking transactions; sluice reads them but hands none on.
  const a2 = await workload(a, 1, a1, 1);
  const afterFirst = await a.masterStatus();
  const a3 = await workload(a, 1, a2, 9);
  const shard1 = () => inst.stats().sources?.find((s) => s.name === 'shard1');
  await waitFor(
    () => {
      const s = shard1();
      return s !== undefined && s.file === afterFirst.file && s.offset >= afterFirst.position;
    },
    "sluice's shard1 reader to pass the first transaction written while shard2 is down",
    30_000,
  );
  assert.equal(inst.stats().store.entries, 0, 'nothing of shard1 went into the store while the group is paused');
  const held = await c.getWithoutAck(100, 1_000);
  assert.equal(held.id, -1, `no batch while paused (got ${held.size} entries)`);
  assert.equal(inst.status().state, 'degraded');
  assert.equal(consumer.count('shard1'), a1);

  // shard2 returns: the held transactions and shard2's new ones arrive, each row once.
  await b.restart();
  await waitFor(() => inst.status().state === 'running', 'the group running once shard2 is back', 60_000);
  const b2 = await workload(b, 2, b1, 10);
  await pull(c, consumer, () => consumer.count('shard1') >= a3 && consumer.count('shard2') >= b2, 'every row of both shards after the return', diag);
  await c.disconnect().catch(() => undefined);
  consumer.assertComplete('shard1', a3, 'every row once, in order, across the pause');
  consumer.assertComplete('shard2', b2, 'every row once, in order, across its outage');
  assert.deepEqual(inst.status(), { state: 'running' });
});
