// Source failover against two private MariaDB servers, a master and a GTID replica of it that
// logs what it replicates. The ledger streams from the master; brief connection drops do not
// switch; a SIGKILLed master does, and the stream continues on the standby exactly (a
// transaction cut at the kill included), and a restart returns to the master exactly; a standby
// that lacks the position is waited for, and refused once the wait is over, never skipped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { client, consumeUntil } from './support/harness.ts';
import { failoverConfig, startLogged, CountingLedger, type LoggedSluice } from './support/failover.ts';
import { createLedger, runTransfers, runBulkTransfer, tableBalances, ACCOUNTS, OPENING_BALANCE } from './support/ledger.ts';
import { healthReport } from '../../src/observe/admin-http.ts';
import { SluiceMetrics } from '../../src/observe/metrics.ts';
import { showPositions } from '../../src/cli/positions.ts';
import { checkStandbyOf } from '../../src/cli/check.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { InstanceConfig } from '../../src/config/types.ts';

const sandboxes: Sandbox[] = [];
const dirs: string[] = [];
const running: LoggedSluice[] = [];

after(async () => {
  for (const s of running) await s.stop().catch(() => undefined);
  for (const sb of sandboxes) await sb.cleanup();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function pair(): Promise<{ master: Sandbox; replica: Sandbox }> {
  const master = await Sandbox.start();
  sandboxes.push(master);
  const replica = await Sandbox.startReplica(master);
  sandboxes.push(replica);
  return { master, replica };
}

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sluice-failover-'));
  dirs.push(d);
  return d;
}

async function dumpThreads(sb: Sandbox): Promise<number[]> {
  const rows = await sb.sql<{ ID: number | string }[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'");
  return rows.map((r) => Number(r.ID));
}

function sorted(m: Map<number, number>): Map<number, number> {
  return new Map([...m].sort((a, b) => a[0] - b[0]));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// Pair A: brief drops, then the SIGKILL with a transaction cut, one consumer throughout.
let pairA: { master: Sandbox; replica: Sandbox } | undefined;
let consumerA: CanalClient | undefined;
let cfgA: InstanceConfig | undefined;
let dataDirA: string | undefined;
const tally = new CountingLedger();

test('a master that only drops connections briefly is not switched away from', async () => {
  pairA = await pair();
  const { master, replica } = pairA;
  const start = await master.masterStatus();
  await createLedger(master);
  // Detection window: 14 failed reconnects (backoff 100 ms doubling to 1 s: about 11 s) or 30 s
  // of silence, well beyond a restart of the master even on a loaded machine.
  const cfg = failoverConfig(master, replica, 'ledger', { afterFailedReconnects: 14, afterSilenceMs: 30_000 }, { start: { kind: 'position', file: start.file, offset: start.position }, store: { maxEntries: 64 } });
  // sluice check: the standby passes the source's checks and its own.
  const report = await checkStandbyOf(cfg);
  assert.ok(report);
  assert.deepEqual(report.checks.filter((x) => !x.ok), [], JSON.stringify(report.checks));
  for (const name of ['binlog_row_metadata', 'log_slave_updates', 'binlog_row_image as on the source', 'replication from the source']) {
    assert.ok(report.checks.some((x) => x.name === name), `check ${name} is reported`);
  }
  cfgA = cfg;
  dataDirA = await dataDir();
  const sluice = await startLogged(cfg, dataDirA);
  running.push(sluice);
  const c = client(sluice.port, 'ledger');
  consumerA = c;
  await c.connect();
  await c.subscribe();
  const inst = sluice.instance;

  await runTransfers(master, 1, 20);
  await consumeUntil(c, (b) => tally.apply(b), () => tally.inserts.size >= 20, '20 transfers', 30_000, 7);

  // The server drops the replication connection (KILL of its dump thread).
  const before = inst.stats().reconnects;
  const threads = await dumpThreads(master);
  assert.ok(threads.length >= 2, `the replica and sluice both hold a dump thread (${threads.join(', ')})`);
  for (const id of threads) await master.sql(`KILL ${id}`);
  await runTransfers(master, 21, 40);
  await consumeUntil(c, (b) => tally.apply(b), () => tally.inserts.size >= 40, '40 transfers', 30_000, 7);
  assert.ok(inst.stats().reconnects > before, 'the dropped connection was reconnected');

  // A brief stop and start of the master, well inside the detection window.
  await master.kill9();
  await master.restart();
  await runTransfers(master, 41, 60);
  await consumeUntil(c, (b) => tally.apply(b), () => tally.inserts.size >= 60, '60 transfers', 30_000, 7);

  assert.equal(inst.reading()?.role, 'master');
  assert.equal(inst.stats().sourceSwitches, 0);
  assert.deepEqual([...tally.inserts.keys()], range(1, 60));
  assert.deepEqual(tally.repeated(), []);
  assert.equal(sluice.lines.filter((l) => /switching to the standby/.test(String(l.msg))).length, 0);
});

test('master SIGKILLed mid-stream with a transaction cut: the standby continues exactly', async (t) => {
  assert.ok(pairA, 'the first test ran');
  const { master, replica } = pairA;
  const sluice = running[0]!;
  const inst = sluice.instance;
  const c = consumerA!;

  // One long transaction (transfers 81..4080) behind a small store: the parser is paused in
  // its middle when the master dies, so the standby must send it again and the part already
  // handed on must be dropped.
  await runTransfers(master, 61, 80);
  await runBulkTransfer(master, 81, 4080);
  await replica.waitCaughtUp(master);
  await consumeUntil(c, (b) => tally.apply(b), () => tally.inserts.size >= 100, 'into the long transaction', 30_000, 7);
  const consumedAtKill = tally.inserts.size;
  await master.kill9();

  // A paused parser notices the dead master only when the consumer makes room: consume on.
  await consumeUntil(c, (b) => tally.apply(b), () => inst.reading()?.role === 'standby', 'the switch to the standby', 60_000, 500);
  await consumeUntil(c, (b) => tally.apply(b), () => tally.inserts.size >= 4080, 'all 4080 transfers', 90_000, 500);
  assert.ok(consumedAtKill < 4080, `the kill came inside the long transaction (${consumedAtKill} transfers consumed)`);

  const expected = await tableBalances(replica);
  await waitFor(() => [...expected].every(([id, bal]) => tally.ledger.balances.get(id) === bal), 'the balances to settle', 30_000);
  assert.deepEqual(sorted(tally.ledger.balances), sorted(expected));
  assert.equal(tally.ledger.sum(), ACCOUNTS * OPENING_BALANCE);
  assert.deepEqual([...tally.inserts.keys()].sort((a, b) => a - b), range(1, 4080));
  assert.deepEqual(tally.repeated(), [], 'no transfer arrived twice');
  assert.deepEqual(tally.orderProblems(), []);

  // Logged at warn with both addresses and the position; counted; in /health, metrics and positions.
  const warn = sluice.lines.find((l) => /switching to the standby/.test(String(l.msg)));
  assert.ok(warn, 'a switch line');
  assert.equal(warn.level, 40);
  assert.equal(warn.from, `127.0.0.1:${master.port}`);
  assert.equal(warn.to, `127.0.0.1:${replica.port}`);
  assert.match(String(warn.resumeAt), /^GTID 0-\d+-\d+/);
  const reading = inst.reading()!;
  assert.equal(reading.port, replica.port);
  // Where the kill falls depends on how much of the long transaction was in flight: usually
  // inside it (its first part handed on from the master, the rest from the standby, none of it
  // twice, as the checks above show), sometimes just after it. Say which this run tested.
  const cut = /dropping the (\d+) entries of (0-\d+-\d+)/.exec(reading.resumedAt ?? '');
  t.diagnostic(cut ? `the kill cut transaction ${cut[2]} after ${cut[1]} of its entries` : 'the kill fell between transactions this run');
  assert.equal(inst.stats().sourceSwitches, 1);
  const health = healthReport([{ destination: 'ledger', ...inst.status(), source: reading }]);
  assert.equal(health.code, 200);
  assert.equal(health.body.instances['ledger']!.source?.role, 'standby');
  const metrics = new SluiceMetrics({ processMetrics: false });
  metrics.add(inst);
  const text = await metrics.text();
  assert.match(text, /sluice_source_switches_total\{destination="ledger"\} 1/);
  assert.match(text, /sluice_source_standby\{destination="ledger"\} 1/);
  await positionsShow(sluice.dataDir, (l) => l.includes(`reading the standby 127.0.0.1:${replica.port}`) && l.includes(`switched from 127.0.0.1:${master.port}`), 'the standby');
  await c.disconnect();
  await sluice.stop();
  running.shift();
});

test("a restart reads the master again, resuming after the standby's cursor by GTID", async () => {
  assert.ok(pairA && cfgA && dataDirA, 'the first tests ran');
  const { master } = pairA;
  await master.restart();
  const sluice = await startLogged(cfgA, dataDirA);
  running.push(sluice);
  const inst = sluice.instance;
  assert.equal(inst.reading()?.role, 'master');
  const back = sluice.lines.find((l) => /was taken on the standby .*back on the master, resuming after its GTID position/.test(String(l.msg)));
  assert.ok(back, 'the restart says it resumes by GTID');
  assert.equal(back.level, 40);
  const c = client(sluice.port, 'ledger');
  await c.connect();
  await c.subscribe();
  await runTransfers(master, 4081, 4100);
  await consumeUntil(c, (b) => tally.apply(b), () => tally.inserts.size >= 4100, 'transfers 4081..4100 from the master', 60_000, 50);
  const expected = await tableBalances(master);
  await waitFor(() => [...expected].every(([id, bal]) => tally.ledger.balances.get(id) === bal), 'the balances to settle', 30_000);
  assert.deepEqual([...tally.inserts.keys()].sort((a, b) => a - b), range(1, 4100));
  assert.deepEqual(tally.repeated(), [], 'nothing acknowledged on the standby came again from the master');
  await positionsShow(dataDirA, (l) => l.includes(`reading the source 127.0.0.1:${master.port}`), 'the master');
  await c.disconnect();
});

/**
 * Waits for `sluice positions show` to print a line `want` accepts. meta.dat records what is read
 * at its next write, which runs behind the switch, and an ack has no reply to wait for: the display
 * is waited for, not read once.
 */
async function positionsShow(dataDir: string, want: (line: string) => boolean, what: string): Promise<void> {
  let out: string[] = [];
  const shown = async (): Promise<boolean> => {
    out = [];
    await showPositions(dataDir, 'ledger', { out: (l) => out.push(l) });
    return out.some(want);
  };
  await waitFor(shown, `sluice positions to show ${what}`, 30_000, 100).catch((err: Error) => assert.fail(`${err.message}\n${out.join('\n')}`));
}

/** What the replica's IO thread has received (Gtid_IO_Pos), whether applied or not. */
async function receivedGtid(replica: Sandbox): Promise<string> {
  const rows = await replica.sql<{ Gtid_IO_Pos: string }[]>('SHOW ALL SLAVES STATUS');
  return rows[0]?.Gtid_IO_Pos ?? '';
}

test('a standby behind the stream is waited for, then continues exactly', async () => {
  const { master, replica } = await pair();
  const start = await master.masterStatus();
  await createLedger(master);
  const cfg = failoverConfig(master, replica, 'behind', { standbyWaitMs: 120_000 }, { start: { kind: 'position', file: start.file, offset: start.position } });
  const sluice = await startLogged(cfg, await dataDir());
  running.push(sluice);
  const inst = sluice.instance;
  const c = client(sluice.port, 'behind');
  await c.connect();
  await c.subscribe();
  const t = new CountingLedger();
  await runTransfers(master, 1, 20);
  await replica.waitCaughtUp(master);
  // The replica receives 21..40 but does not apply them: its binlog stops at 20.
  await replica.stopApplier();
  await runTransfers(master, 21, 40);
  const { gtid } = await master.masterStatus();
  await waitFor(async () => (await receivedGtid(replica)) === gtid, 'the replica to receive 21..40', 30_000);
  await consumeUntil(c, (b) => t.apply(b), () => t.inserts.size >= 40, '40 transfers from the master', 30_000, 10);
  await master.kill9();

  await waitFor(() => /waiting for the standby .* short of /.test(inst.status().error ?? ''), 'the wait for the standby to show', 30_000);
  assert.equal(inst.status().state, 'retrying');
  assert.equal(inst.reading()?.role, 'master', 'not switched while the standby lacks the position');
  // What the store still holds of transfer 40 may come; nothing past it does.
  const rest = await c.getWithoutAck(100, 500);
  if (rest.id !== -1) {
    t.apply(rest);
    await c.ack(rest.id);
  }
  assert.equal(t.inserts.size, 40, 'nothing past transfer 40 is delivered meanwhile');

  await replica.startApplier();
  await waitFor(() => inst.reading()?.role === 'standby', 'the switch once the standby caught up', 30_000);
  await runTransfers(replica, 41, 50);
  await consumeUntil(c, (b) => t.apply(b), () => t.inserts.size >= 50, 'all 50 transfers', 30_000, 10);
  const expected = await tableBalances(replica);
  await waitFor(() => [...expected].every(([id, bal]) => t.ledger.balances.get(id) === bal), 'the balances to settle', 30_000);
  assert.deepEqual([...t.inserts.keys()].sort((a, b) => a - b), range(1, 50));
  assert.deepEqual(t.repeated(), []);
  assert.deepEqual(t.orderProblems(), []);
  assert.ok(sluice.lines.some((l) => l.level === 40 && /^waiting for the standby/.test(String(l.msg))), 'the wait is logged at warn');
  await c.disconnect();
});

test('a standby that never gets the position is refused with a clear error, nothing skipped', async () => {
  const { master, replica } = await pair();
  await createLedger(master);
  await replica.waitCaughtUp(master);
  await replica.stopReplication();
  const cfg = failoverConfig(master, replica, 'refused', { standbyWaitMs: 1_500 });
  // sluice check names what is wrong with a standby: a master has no log_slave_updates.
  const reversed = await checkStandbyOf({ ...cfg, source: { ...cfg.source, ...replica.replConfig }, standby: { ...master.replConfig, connectTimeoutMs: 5_000 } });
  const lsu = reversed?.checks.find((x) => x.name === 'log_slave_updates');
  assert.equal(lsu?.ok, false);
  assert.match(lsu?.fix ?? '', /--log-slave-updates/);
  const sluice = await startLogged(cfg, await dataDir());
  running.push(sluice);
  const inst = sluice.instance;
  const c = client(sluice.port, 'refused');
  await c.connect();
  await c.subscribe();
  const t = new CountingLedger();
  await runTransfers(master, 1, 10);
  await consumeUntil(c, (b) => t.apply(b), () => t.inserts.size >= 10, '10 transfers from the master', 30_000, 10);
  await master.kill9();

  await waitFor(() => inst.status().state === 'failed', 'the instance to refuse the standby', 30_000);
  const err = inst.status().error ?? '';
  assert.match(err, new RegExp(`not switching to the standby 127\\.0\\.0\\.1:${replica.port}: the standby's binlog reaches GTID .* short of .*sluice does not skip changes`));
  assert.equal(inst.reading()?.role, 'master');
  assert.deepEqual([...t.inserts.keys()], range(1, 10));
  await c.disconnect().catch(() => undefined);
});
