// Three sluice processes, one ZooKeeper, the ledger workload, and a consumer that knows only the
// ZooKeeper address. The active process is SIGKILLed three times in a row (whichever is active
// each time), then one is frozen with SIGSTOP past its session timeout and thawed. All along:
// never two servers active at once (every process's /health sampled), the cursor in ZooKeeper
// never moves backwards, and after a failover the stream restarts no earlier than the cursor
// ZooKeeper held when the old active died (what was not acknowledged, plus at most one flush
// period). The thawed process does not serve and never writes the cursor again. At the end the
// consumer's balances equal the table's and every transfer arrived, in order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { ZooKeeper } from '../support/zookeeper.ts';
import { ZkSession, type NodeStat } from '../../src/coord/zk-session.ts';
import { clientCursorPath } from '../../src/coord/paths.ts';
import { cursorFromCanal } from '../../src/meta/meta-file.ts';
import { compareCursors } from '../../src/meta/cursor-order.ts';
import type { LogPosition } from '../../src/protocol/entry-model.ts';
import { CanalClient } from '../../src/client/canal-client.ts';
import { createLedger, runTransfers, tableBalances, LedgerConsumer, comparePositions, ACCOUNTS, OPENING_BALANCE } from '../faults/support/ledger.ts';
import { activeServers, HaServer, runningServer, tearDownCluster } from './support/ha-cluster.ts';
import { ZkFollowingConsumer } from './support/zk-consumer.ts';

const DEST = 'ledger';
const SESSION_MS = 3_000;
const DELAY_MS = 1_000;
const FLUSH_MS = 500;

let sb: Sandbox | undefined;
let zk: ZooKeeper | undefined;
let root: string | undefined;
const servers: HaServer[] = [];
let watcher: ZkSession | undefined;
let consumer: ZkFollowingConsumer | undefined;
/** the background loops of the test run while this holds */
let looping = true;

after(async () => {
  looping = false;
  await tearDownCluster({ consumer, watcher, servers, zk, sb, root });
});

interface CursorSample {
  stat: NodeStat;
  cursor: LogPosition;
}

test('SIGKILL of the active three times and SIGSTOP past the session timeout: one active at a time, nothing lost, the old active fenced', async () => {
  [sb, zk, root] = await Promise.all([Sandbox.start(), ZooKeeper.standalone({ tickTimeMs: 200, minSessionTimeoutMs: 1_000 }), mkdtemp(join(tmpdir(), 'sluice-ha-'))]);
  const db = sb;
  const start = await db.masterStatus();
  await createLedger(db);
  const opts = { zookeeper: zk.connectString, sessionTimeoutMs: SESSION_MS, takeoverDelayMs: DELAY_MS, flushIntervalMs: FLUSH_MS, destination: DEST, start: { file: start.file, position: start.position } };
  servers.push(...(await Promise.all(['a', 'b', 'c'].map((n) => HaServer.start(n, root!, db, opts)))));
  watcher = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 10_000 });
  const w = watcher;
  const holder = (): Promise<HaServer | undefined> => runningServer(w, servers, DEST);

  // Never two active: every answering process's /health, sampled all along.
  const overlaps: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling && looping) {
      const act = await activeServers(servers, DEST);
      if (act.length > 1) overlaps.push(`${new Date().toISOString()}: ${act.map((s) => s.name).join(', ')} all report active`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // The cursor node, sampled: its version only grows and its cursor never goes back.
  const cursorHistory: CursorSample[] = [];
  let watchingCursor = true;
  const cursorWatch = (async () => {
    while (watchingCursor && looping) {
      const n = await w.get(clientCursorPath(DEST, '1001')).catch(() => undefined);
      if (n !== undefined) {
        const last = cursorHistory[cursorHistory.length - 1];
        if (last === undefined || last.stat.version !== n.stat.version) cursorHistory.push({ stat: n.stat, cursor: cursorFromCanal(JSON.parse(n.data.toString()), 'cursor', 'zk') });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const ledger = new LedgerConsumer();
  let connects = 0;
  consumer = new ZkFollowingConsumer(
    zk.connectString,
    DEST,
    (b) => {
      for (const raw of b.raw) ledger.applyBytes(raw);
    },
    () => {
      connects++;
      ledger.restartSession();
    },
  );
  consumer.start();
  const c = consumer;

  // The workload: one transfer at a time, all along.
  let next = 1;
  let writing = true;
  const workload = (async () => {
    while (writing && looping) {
      await runTransfers(db, next, next);
      next++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const progress = async (server: string, more: number, what: string): Promise<void> => {
    const target = ledger.transfersSeen.length + more;
    await waitFor(() => ledger.transfersSeen.length >= target && c.switches.at(-1)?.server === server, what, 60_000, 20);
  };

  await waitFor(async () => (await holder()) !== undefined, 'a first active', 30_000, 50);
  /** the ZooKeeper cursor right after each kill, and how many sessions had begun before it */
  const cursorsAtKill: LogPosition[] = [];
  const sessionsBeforeKill: number[] = [];

  for (let round = 1; round <= 3; round++) {
    const victim = (await holder())!;
    await progress(victim.address, 20, `20 more transfers through ${victim.name} (round ${round})`);
    await waitFor(async () => (await w.exists(clientCursorPath(DEST, '1001'))) !== undefined, 'a cursor in ZooKeeper', 10_000, 20);
    const switchesBefore = c.switches.length;
    sessionsBeforeKill.push(ledger.sessionStarts.length);
    await victim.kill9();
    const at = await w.get(clientCursorPath(DEST, '1001'));
    assert.ok(at, 'a cursor is in ZooKeeper when the active dies');
    cursorsAtKill.push(cursorFromCanal(JSON.parse(at.data.toString()), 'cursor', 'zk'));
    await waitFor(() => c.switches.length > switchesBefore && c.switches.at(-1)!.server !== victim.address, `the consumer to follow the failover of round ${round}`, 60_000, 20);
    await victim.restart();
  }

  // SIGSTOP past the session timeout.
  const frozen = (await holder())!;
  await progress(frozen.address, 10, `10 transfers through ${frozen.name} before it is frozen`);
  frozen.freeze();
  await waitFor(async () => {
    const h = await holder();
    return h !== undefined && h !== frozen;
  }, 'a standby to take over from the frozen server', 30_000, 20);
  const successor = (await holder())!;
  await progress(successor.address, 10, `10 transfers through ${successor.name}`);
  // Freeze the cursor: the consumer stops acknowledging and the successor's last flush lands.
  c.paused = true;
  const settle = async (): Promise<CursorSample> => {
    let last = cursorHistory.at(-1)!;
    let since = Date.now();
    await waitFor(() => {
      const now = cursorHistory.at(-1)!;
      if (now.stat.version !== last.stat.version) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= 3 * FLUSH_MS;
    }, 'the cursor node to settle', 15_000, 50);
    return last;
  };
  const settled = await settle();
  frozen.thaw();
  // The thawed process fences itself and reports standby with the successor as active.
  await waitFor(async () => {
    const st = await frozen.status(DEST);
    return st?.state === 'standby' && st.ha?.activeServer === successor.address;
  }, 'the thawed server to report standby', 20_000, 50);
  // A client that asks it anyway is refused.
  const asked = new CanalClient({ host: '127.0.0.1', port: frozen.port, destination: DEST, clientId: '1001', reconnect: false });
  await asked.connect();
  await assert.rejects(asked.subscribe(), /is not active on this server/);
  await asked.disconnect().catch(() => undefined);
  // Give its timers (cursor flush, lease) every chance to write.
  await new Promise((r) => setTimeout(r, 4 * FLUSH_MS));
  const after2 = await w.get(clientCursorPath(DEST, '1001'));
  assert.equal(
    after2?.stat.version,
    settled.stat.version,
    `the thawed server did not write the cursor: ${JSON.stringify(cursorHistory.slice(-3))} now ${after2?.data.toString()}; thawed log:\n${frozen.logTail(30)}\nsuccessor log:\n${successor.logTail(30)}`,
  );
  assert.equal(after2?.stat.mzxid, settled.stat.mzxid);
  assert.ok(
    frozen.logLines().some((l) => l.msg === 'this server stopped serving the destination'),
    `the thawed server logged its fencing:\n${frozen.logTail()}`,
  );
  c.paused = false;

  // The end: stop writing, consume everything.
  writing = false;
  await workload;
  const total = next - 1;
  const expected = await tableBalances(db);
  const equal = (): boolean => [...expected].every(([id, bal]) => ledger.balances.get(id) === bal);
  await waitFor(() => ledger.transfersSeen.length === total && equal(), `all ${total} transfers and the final balances`, 60_000, 50);
  sampling = false;
  watchingCursor = false;
  await Promise.all([sampler, cursorWatch]);

  assert.deepEqual(overlaps, [], 'never two servers active at once');
  assert.deepEqual(ledger.problems(), []);
  assert.deepEqual(ledger.transfersSeen, Array.from({ length: total }, (_, i) => i + 1));
  assert.deepEqual(new Map([...ledger.balances].sort((a, b) => a[0] - b[0])), expected);
  assert.equal(ledger.sum(), ACCOUNTS * OPENING_BALANCE);
  // The cursor in ZooKeeper only moved forward.
  for (let i = 1; i < cursorHistory.length; i++) {
    assert.ok(cursorHistory[i]!.stat.version > cursorHistory[i - 1]!.stat.version);
    assert.ok(compareCursors(cursorHistory[i]!.cursor, cursorHistory[i - 1]!.cursor) >= 0, `cursor went back at version ${cursorHistory[i]!.stat.version}`);
  }
  // After each kill the stream began again no earlier than the cursor ZooKeeper held: what the
  // consumer receives twice is what it had not acknowledged, plus what the last flush period held.
  assert.ok(connects >= 4);
  for (const [i, cur] of cursorsAtKill.entries()) {
    const resumed = ledger.sessionStarts[sessionsBeforeKill[i]!];
    assert.ok(resumed, `a session began after kill ${i + 1}`);
    assert.ok(
      comparePositions(resumed, { file: cur.journalName, offset: cur.nextPosition ?? cur.position }) >= 0,
      `after kill ${i + 1} the stream began at ${resumed.file}:${resumed.offset}, before the cursor in ZooKeeper ${cur.journalName}:${cur.nextPosition ?? cur.position}`,
    );
  }
});
