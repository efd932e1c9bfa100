// A snapshot in a ZooKeeper cluster: its acknowledged progress goes to ZooKeeper with the cursor
// (/otter/canal/destinations/{d}/sluice-snapshots), so when the active server is SIGKILLed mid-
// snapshot the standby that takes over resumes it at the chunk after the last one acknowledged,
// not from the start and not never. A consumer that knows only the ZooKeeper address applies every
// entry to a map keyed by primary key; it ends equal to the table, rows changed meanwhile included.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { ZooKeeper } from '../support/zookeeper.ts';
import { ZkSession } from '../../src/coord/zk-session.ts';
import { snapshotsPath } from '../../src/coord/paths.ts';
import type { SnapshotRecord } from '../../src/meta/meta-file.ts';
import { HaServer, runningServer, tearDownCluster } from './support/ha-cluster.ts';
import { ZkFollowingConsumer } from './support/zk-consumer.ts';
import { MapConsumer, tableAsMap, diffMaps } from '../snapshot/support.ts';

const DEST = 'snapha';
const ROWS = 60_000;
const CHUNK = 500;

let sb: Sandbox | undefined;
let zk: ZooKeeper | undefined;
let root: string | undefined;
const servers: HaServer[] = [];
let watcher: ZkSession | undefined;
let consumer: ZkFollowingConsumer | undefined;

after(() => tearDownCluster({ consumer, watcher, servers, zk, sb, root }));

interface SnapshotsBody {
  destinations: Record<string, { table: string; state: string; rowsAcked: number; rowsEmitted: number }[]>;
}

test('SIGKILL of the active mid-snapshot: the standby taking over resumes the snapshot at the next unacknowledged chunk', async () => {
  [sb, zk, root] = await Promise.all([Sandbox.start(), ZooKeeper.standalone({ tickTimeMs: 200, minSessionTimeoutMs: 1_000 }), mkdtemp(join(tmpdir(), 'sluice-snap-ha-'))]);
  const db = sb;
  await db.sql('CREATE TABLE sentinel (id VARCHAR(20) PRIMARY KEY)');
  await db.sql('CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NULL)');
  await db.sql(`INSERT INTO big SELECT seq, CONCAT('row-', seq), seq FROM seq_1_to_${ROWS}`);
  const start = await db.masterStatus();
  const opts = { zookeeper: zk.connectString, sessionTimeoutMs: 3_000, takeoverDelayMs: 1_000, flushIntervalMs: 200, destination: DEST, start: { file: start.file, position: start.position } };
  servers.push(...(await Promise.all(['a', 'b'].map((n) => HaServer.start(n, root!, db, opts)))));
  watcher = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 10_000 });
  const w = watcher;
  const holder = (): Promise<HaServer | undefined> => runningServer(w, servers, DEST);
  const snapshotsOn = async (s: HaServer): Promise<SnapshotsBody['destinations'][string]> => {
    const res = await fetch(`http://127.0.0.1:${s.adminPort}/snapshots?destination=${DEST}`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as SnapshotsBody).destinations[DEST] ?? [];
  };
  const inZk = async (): Promise<SnapshotRecord[] | undefined> => {
    const n = await w.get(snapshotsPath(DEST));
    return n === undefined ? undefined : (JSON.parse(n.data.toString()) as SnapshotRecord[]);
  };

  const map = new MapConsumer(() => ['id']);
  consumer = new ZkFollowingConsumer(zk.connectString, DEST, (b) => map.apply(b));
  consumer.start();
  const c = consumer;
  await waitFor(async () => (await holder()) !== undefined, 'a first active', 30_000, 50);
  const first = (await holder())!;
  await db.sql("INSERT INTO sentinel VALUES ('start')");
  await waitFor(() => map.sentinels.has('start'), 'the consumer to follow the stream', 30_000, 20);

  const res = await fetch(`http://127.0.0.1:${first.adminPort}/snapshots?destination=${DEST}`, { method: 'POST', body: JSON.stringify({ table: `${db.database}.big`, chunkSize: CHUNK }) });
  assert.equal(res.status, 202, await res.text());
  // Part of the snapshot is acknowledged (and reaches ZooKeeper); then the consumer stops
  // acknowledging, so the rest can only complete on the server that takes over.
  await waitFor(async () => ((await inZk())?.[0]?.rows ?? 0) >= 10_000, 'part of the snapshot acknowledged in ZooKeeper', 60_000, 20);
  c.paused = true;
  await db.sql('UPDATE big SET v = CONCAT(v, "-late"), n = -n WHERE id % 997 = 0');
  await db.sql('DELETE FROM big WHERE id % 1999 = 0');
  // Let the last acknowledgement's flush land: the node stops changing.
  let last = JSON.stringify(await inZk());
  await waitFor(
    async () => {
      await new Promise((r) => setTimeout(r, 600));
      const now = JSON.stringify(await inZk());
      const same = now === last;
      last = now;
      return same;
    },
    'the snapshot node to settle',
    15_000,
    10,
  );
  const atKill = (await inZk())![0]!;
  assert.ok(atKill.rows >= 10_000 && atKill.rows < ROWS, `the snapshot was part-way when the active died (${atKill.rows} rows acknowledged)`);
  assert.ok(atKill.after !== undefined, 'its last acknowledged key is in ZooKeeper');
  const snapRowsAtKill = map.snapshotRows;
  await first.kill9();

  await waitFor(async () => {
    const h = await holder();
    return h !== undefined && h !== first;
  }, 'the standby to take over', 30_000, 50);
  const second = (await holder())!;
  // The new active resumed the snapshot from ZooKeeper's progress.
  await waitFor(async () => (await snapshotsOn(second)).some((s) => s.table === `${db.database}.big`), 'the snapshot on the new active', 30_000, 100);
  const resumed = second.logLines().find((l) => l.msg === 'snapshot resumes after its last acknowledged chunk');
  assert.ok(resumed, `the new active logs the resume:\n${second.logTail(20)}`);
  assert.equal(resumed.rowsAcked, atKill.rows, 'it resumes from the progress ZooKeeper held');
  assert.deepEqual(resumed.resumeAfter, atKill.after);

  c.paused = false;
  await waitFor(async () => (await snapshotsOn(second)).every((s) => s.state === 'done'), 'the snapshot to complete on the new active', 90_000, 100);
  await db.sql("INSERT INTO sentinel VALUES ('end')");
  await waitFor(() => map.sentinels.has('end'), 'the consumer to reach the end sentinel', 60_000, 20);
  // The rows before the last acknowledged key were not read again: at most what was emitted but
  // not acknowledged at the kill, plus the rest of the table.
  const afterKill = map.snapshotRows - snapRowsAtKill;
  assert.ok(afterKill <= ROWS - atKill.rows + 5 * CHUNK + (snapRowsAtKill - atKill.rows), `rows delivered after the takeover (${afterKill}) continue from the acknowledged key`);
  assert.ok(afterKill > 0, 'the rest of the table arrived through the new active');
  assert.deepEqual(await inZk(), [], 'a complete snapshot leaves no record in ZooKeeper');
  const diff = diffMaps(map.table(`${db.database}.big`), await tableAsMap(db, 'big', ['id'], 'id, v, n'));
  assert.equal(diff, '', diff);
});
