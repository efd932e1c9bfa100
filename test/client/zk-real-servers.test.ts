// The client against real sluice servers of one ZooKeeper cluster (`sluice start` processes
// replicating one MariaDB sandbox): a real standby's refusal sends a client that knows only that
// standby to the active server it names, and a client that knows only ZooKeeper follows a SIGKILL
// of the active to the server that takes over, with every row delivered.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CanalClient } from '../../src/client/canal-client.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { ZooKeeper } from '../support/zookeeper.ts';
import { activeServers, HaServer } from '../cluster/support/ha-cluster.ts';

const DEST = 'example';

let sb: Sandbox | undefined;
let zk: ZooKeeper | undefined;
let root: string | undefined;
const servers: HaServer[] = [];

after(async () => {
  for (const s of servers) await s.kill9();
  await zk?.cleanup();
  await sb?.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
});

test('real servers: a standby refusal leads to the active; a zk client follows a SIGKILL of the active with no row lost', async () => {
  [sb, zk, root] = await Promise.all([Sandbox.start(), ZooKeeper.standalone({ tickTimeMs: 200, minSessionTimeoutMs: 1_000 }), mkdtemp(join(tmpdir(), 'sluice-client-ha-'))]);
  const start = await sb.masterStatus();
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY)');
  const opts = { zookeeper: zk.connectString, sessionTimeoutMs: 2_000, takeoverDelayMs: 500, flushIntervalMs: 200, destination: DEST, start: { file: start.file, position: start.position } };
  servers.push(...(await Promise.all(['a', 'b'].map((n) => HaServer.start(n, root!, sb!, opts)))));
  await waitFor(async () => (await activeServers(servers, DEST)).length === 1, 'one active server', 30_000, 100);
  const [active] = await activeServers(servers, DEST);
  const standby = servers.find((s) => s !== active)!;
  await waitFor(async () => (await active!.status(DEST))?.state === 'running', 'the active instance running', 30_000, 100);

  // A client that knows only the standby: its refusal names the active server, and the client goes there.
  const viaStandby = new CanalClient({ servers: standby.address, destination: DEST, reconnect: { initialDelayMs: 5_000 } });
  const tried: string[] = [];
  viaStandby.on('connected', (s) => tried.push(s));
  await viaStandby.connect();
  await viaStandby.subscribe();
  assert.deepEqual(tried, [standby.address, active!.address]);
  await viaStandby.disconnect();

  // A client that knows only ZooKeeper, consuming while the active is killed.
  const c = new CanalClient({ zk: { connect: zk.connectString, sessionTimeoutMs: 4_000 }, destination: DEST, reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, deadlineMs: 60_000 } });
  const followed: string[] = [];
  /** the ids received on each connection */
  const segments: number[][] = [];
  c.on('connected', (s) => {
    followed.push(s);
    segments.push([]);
  });
  const seen: number[] = [];
  let stop = false;
  const consuming = (async () => {
    for await (const batch of c.stream({ batchSize: 100, timeoutMs: 200, yieldEmpty: true })) {
      for (const e of batch) {
        for (const r of e.rows) {
          if (e.eventType !== 'INSERT') continue;
          seen.push(Number(r.after.id));
          segments.at(-1)!.push(Number(r.after.id));
        }
      }
      if (stop) break;
    }
  })();
  for (let id = 1; id <= 50; id++) await sb.sql('INSERT INTO t VALUES (?)', [id]);
  await waitFor(() => new Set(seen).size === 50, 'the first 50 rows', 30_000);

  await active!.kill9();
  for (let id = 51; id <= 100; id++) await sb.sql('INSERT INTO t VALUES (?)', [id]);
  await waitFor(() => new Set(seen).size === 100, 'every row after the failover', 60_000, 50);
  stop = true;
  await consuming;
  await c.disconnect();

  assert.deepEqual([...new Set(seen)].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1), 'nothing missing');
  // The new active goes on from the cursor the old one last stored: a contiguous run to the end,
  // whose repeats (rows acknowledged within the last cursor flush) come first.
  const last = segments.at(-1)!;
  const k = last[0]!;
  assert.ok(k >= 1 && k <= 51, `the new server started at row ${k}`);
  assert.deepEqual(last, Array.from({ length: 101 - k }, (_, i) => k + i), 'in order, no gap');
  assert.equal(followed[0], active!.address);
  assert.equal(followed.at(-1), standby.address, 'the client ended on the server that took over');
});
