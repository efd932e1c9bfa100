// Three sluice processes with one destination and one ZooKeeper: exactly one is active, Canal's
// nodes are laid out as Canal lays them out, a standby refuses clients naming the active server,
// /health, /metrics and the logs say who is what, and a clean SIGTERM of the active hands the
// destination over within the takeover delay (not the session timeout).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { ZooKeeper } from '../support/zookeeper.ts';
import { ZkSession } from '../../src/coord/zk-session.ts';
import { destinationClusterPath, serverNodePath, serverRunningPath, clientCursorPath, clientFilterPath } from '../../src/coord/paths.ts';
import { parseServerRunning } from '../../src/coord/running-data.ts';
import { CanalClient } from '../../src/client/canal-client.ts';
import { activeServers, HaServer } from './support/ha-cluster.ts';

const DEST = 'example';
const SESSION_MS = 4_000;
const DELAY_MS = 1_000;

let sb: Sandbox | undefined;
let zk: ZooKeeper | undefined;
let root: string | undefined;
const servers: HaServer[] = [];
let watcher: ZkSession | undefined;

after(async () => {
  await watcher?.close();
  for (const s of servers) await s.kill9();
  await zk?.cleanup();
  await sb?.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
});

test('one active of three; standby refusal; visibility; clean SIGTERM hands over within the delay', async () => {
  [sb, zk, root] = await Promise.all([Sandbox.start(), ZooKeeper.standalone({ tickTimeMs: 200, minSessionTimeoutMs: 1_000 }), mkdtemp(join(tmpdir(), 'sluice-ha-'))]);
  const start = await sb.masterStatus();
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
  const opts = { zookeeper: zk.connectString, sessionTimeoutMs: SESSION_MS, takeoverDelayMs: DELAY_MS, flushIntervalMs: 200, destination: DEST, start: { file: start.file, position: start.position } };
  servers.push(...(await Promise.all(['a', 'b', 'c'].map((n) => HaServer.start(n, root!, sb!, opts)))));
  watcher = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 10_000 });
  const w = watcher;

  await waitFor(async () => (await activeServers(servers, DEST)).length === 1, 'one active server', 30_000, 100);
  const [active] = await activeServers(servers, DEST);
  const standbys = servers.filter((s) => s !== active);

  // Canal's layout.
  const running = await w.get(serverRunningPath(DEST));
  assert.ok(running, 'the running node exists');
  assert.deepEqual(JSON.parse(running.data.toString()), { active: true, address: active!.address, cid: 1 });
  assert.notEqual(running.stat.ephemeralOwner, '0', 'running is ephemeral');
  const members = servers.map((s) => s.address).sort();
  await waitFor(async () => JSON.stringify((await w.children(destinationClusterPath(DEST))).sort()) === JSON.stringify(members), 'every configured server to be a member, standby or not', 30_000, 50);
  for (const s of servers) assert.ok(await w.exists(serverNodePath(s.address)), `${s.address} registered under /otter/canal/cluster`);

  // Visibility.
  for (const s of standbys) {
    const st = await s.status(DEST);
    assert.equal(st?.state, 'standby');
    assert.deepEqual(st?.ha, { role: 'standby', server: s.address, activeServer: active!.address, zookeeper: 'connected' });
    const res = await fetch(`http://127.0.0.1:${s.adminPort}/health`);
    assert.equal(res.status, 200, 'a standby is healthy');
    const m = await s.metrics();
    assert.match(m, new RegExp(`sluice_ha_active\\{destination="${DEST}"\\} 0`));
    assert.match(m, new RegExp(`sluice_ha_active_server\\{destination="${DEST}",server="${active!.address.replace(/\./g, '\\.')}"\\} 1`));
    assert.match(m, /sluice_zookeeper_connected\{destination="example"\} 1/);
  }
  await waitFor(async () => (await active!.status(DEST))?.state === 'running', 'the active instance running', 30_000, 100);
  assert.match(await active!.metrics(), /sluice_ha_active\{destination="example"\} 1/);
  assert.ok(
    active!.logLines().some((l) => l.msg === 'this server is now the active one for the destination' && l.role === 'active'),
    'the transition is logged with the role',
  );

  // A standby refuses, naming the active server; the active serves and writes Canal's nodes.
  const refused = new CanalClient({ host: '127.0.0.1', port: standbys[0]!.port, destination: DEST, clientId: '1001', reconnect: false });
  await refused.connect();
  await assert.rejects(refused.subscribe(), (err: Error) => err.message.includes(`destination ${DEST} is not active on this server (standby); the active server is ${active!.address}`));
  await refused.disconnect().catch(() => undefined);

  const c = new CanalClient({ host: '127.0.0.1', port: active!.port, destination: DEST, clientId: '1001', reconnect: false });
  await c.connect();
  await c.subscribe('sluice_test\\..*');
  await sb.sql("INSERT INTO t VALUES (1, 'one')");
  let got = 0;
  await waitFor(async () => {
    const b = await c.getWithoutAck(100, 200);
    if (b.id === -1) return false;
    got += [...b].length;
    await c.ack(b.id);
    return got > 0 && [...b].some((e) => e.entryType === 'TRANSACTIONEND');
  }, 'the insert through the active server', 20_000, 10);
  await waitFor(async () => (await w.get(clientCursorPath(DEST, '1001'))) !== undefined, 'the cursor node', 10_000, 50);
  const cursor = JSON.parse((await w.get(clientCursorPath(DEST, '1001')))!.data.toString()) as { postion: { journalName: string } };
  assert.equal(cursor.postion.journalName, start.file, "the cursor node holds meta.dat's cursor JSON");
  assert.equal((await w.get(clientFilterPath(DEST, '1001')))?.data.toString(), 'sluice_test\\..*');
  await c.disconnect();

  // Clean SIGTERM: released at once, taken over after the delay, well inside the session timeout.
  const before = (await w.get(serverRunningPath(DEST)))!.stat.czxid;
  const t0 = Date.now();
  assert.equal(await active!.terminate(), 0);
  await waitFor(async () => {
    const n = await w.get(serverRunningPath(DEST));
    return n !== undefined && n.stat.czxid !== before;
  }, 'a standby to take over', 20_000, 20);
  const handover = Date.now() - t0;
  const next = parseServerRunning((await w.get(serverRunningPath(DEST)))!.data);
  assert.ok(standbys.some((s) => s.address === next.address));
  assert.ok(handover < SESSION_MS, `handed over in ${handover} ms, inside the session timeout ${SESSION_MS} ms`);
  await waitFor(async () => (await activeServers(servers, DEST)).length === 1, 'the new active to report active', 20_000, 100);
});
