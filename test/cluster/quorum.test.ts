// A three-node ZooKeeper ensemble loses its quorum (two nodes stopped) and gets it back, while two
// sluice processes serve one destination and the ledger workload runs. No moment has two servers
// active (every process's /health sampled); without a quorum the active stops serving within its
// lease (two thirds of the session timeout); after the restore one server is active again and
// streaming resumes to the end, balances equal.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { ZooKeeper } from '../support/zookeeper.ts';
import { createLedger, runTransfers, tableBalances, LedgerConsumer, ACCOUNTS, OPENING_BALANCE } from '../faults/support/ledger.ts';
import { activeServers, HaServer } from './support/ha-cluster.ts';
import { ZkFollowingConsumer } from './support/zk-consumer.ts';

const DEST = 'ledger';
const SESSION_MS = 3_000;

let sb: Sandbox | undefined;
let zk: ZooKeeper | undefined;
let root: string | undefined;
const servers: HaServer[] = [];
let consumer: ZkFollowingConsumer | undefined;
let looping = true;

after(async () => {
  looping = false;
  await consumer?.stop();
  for (const s of servers) await s.kill9();
  await zk?.cleanup();
  await sb?.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
});

test('quorum lost and restored: never two active, the active stops within its lease, streaming resumes', async () => {
  [sb, zk, root] = await Promise.all([Sandbox.start(), ZooKeeper.ensemble(3, { tickTimeMs: 200, minSessionTimeoutMs: 1_000 }), mkdtemp(join(tmpdir(), 'sluice-ha-'))]);
  const db = sb;
  const ens = zk;
  const start = await db.masterStatus();
  await createLedger(db);
  const opts = { zookeeper: ens.connectString, sessionTimeoutMs: SESSION_MS, takeoverDelayMs: 1_000, flushIntervalMs: 500, destination: DEST, start: { file: start.file, position: start.position } };
  servers.push(...(await Promise.all(['a', 'b'].map((n) => HaServer.start(n, root!, db, opts)))));

  const samples: { at: number; active: string[] }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling && looping) {
      samples.push({ at: Date.now(), active: (await activeServers(servers, DEST)).map((s) => s.name) });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const ledger = new LedgerConsumer();
  consumer = new ZkFollowingConsumer(ens.connectString, DEST, (b) => {
    for (const raw of b.raw) ledger.applyBytes(raw);
  }, () => ledger.restartSession());
  consumer.start();
  let next = 1;
  let writing = true;
  const workload = (async () => {
    while (writing && looping) {
      await runTransfers(db, next, next);
      next++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  await waitFor(() => ledger.transfersSeen.length >= 30, '30 transfers before the outage', 60_000, 50);
  const [active] = await activeServers(servers, DEST);
  assert.ok(active, 'one server is active before the outage');

  // Two of three ZooKeeper nodes stopped: no quorum.
  const lostAt = Date.now();
  await ens.nodes[0]!.stop();
  await ens.nodes[1]!.stop();
  await waitFor(async () => (await activeServers(servers, DEST)).length === 0, 'no server active without a quorum', 20_000, 50);
  const darkAfter = Date.now() - lostAt;
  assert.ok(darkAfter < SESSION_MS + 2_000, `the active stopped serving ${darkAfter} ms after the quorum was lost (lease: two thirds of ${SESSION_MS} ms)`);
  const st = await active!.status(DEST);
  assert.equal(st?.state, 'standby');
  assert.notEqual(st?.ha?.zookeeper, 'connected', 'the ZooKeeper state is shown');
  const seenInOutage = ledger.transfersSeen.length;
  // Stay dark for longer than the session timeout.
  await new Promise((r) => setTimeout(r, SESSION_MS + 500));

  // Restore.
  await ens.nodes[0]!.restart(false);
  await ens.nodes[1]!.restart(false);
  await Promise.all(ens.nodes.map((n) => n.waitServing()));
  await waitFor(async () => (await activeServers(servers, DEST)).length === 1, 'one active server after the restore', 60_000, 50);
  await waitFor(() => ledger.transfersSeen.length >= seenInOutage + 30, '30 more transfers after the restore', 60_000, 50).catch((err: Error) => {
    throw new Error(`${err.message}; consumer errors: ${consumer!.errors.slice(-5).join(' | ')}\n${servers.map((s) => `${s.name}:\n${s.logTail(25)}`).join('\n')}`);
  });

  writing = false;
  await workload;
  const total = next - 1;
  const expected = await tableBalances(db);
  const equal = (): boolean => [...expected].every(([id, bal]) => ledger.balances.get(id) === bal);
  await waitFor(() => ledger.transfersSeen.length === total && equal(), `all ${total} transfers and the final balances`, 60_000, 50);
  sampling = false;
  await sampler;

  const twice = samples.filter((s) => s.active.length > 1);
  assert.deepEqual(twice, [], 'never two servers active at once');
  assert.ok(samples.some((s) => s.active.length === 0), 'the outage was seen');
  assert.deepEqual(ledger.problems(), []);
  assert.deepEqual(ledger.transfersSeen, Array.from({ length: total }, (_, i) => i + 1));
  assert.deepEqual(new Map([...ledger.balances].sort((a, b) => a[0] - b[0])), expected);
  assert.equal(ledger.sum(), ACCOUNTS * OPENING_BALANCE);
});
