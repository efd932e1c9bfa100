// The client in a cluster, against a private ZooKeeper and real in-process sluice servers: it
// finds the server the destination's `running` node names (waiting for one to appear), follows
// it when it changes, reconnects and rolls back on a lost connection, looks again after a
// standby's refusal; and consumer processes (`sluice tail --zk --exclusive`) with the same client
// id stand by for each other through {clientId}/running.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { destinationPath, serverRunningPath, clientRunningPath } from '../../src/coord/paths.ts';
import { notActiveMessage } from '../../src/coord/refusal.ts';
import { formatServerRunning, parseClientRunning } from '../../src/coord/running-data.ts';
import { ZkSession } from '../../src/coord/zk-session.ts';
import { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { errorAckPacket, successAckPacket } from '../../src/protocol/packets.ts';
import { waitFor } from '../support/sandbox.ts';
import { ZooKeeper } from '../support/zookeeper.ts';
import { spawnCli } from '../cli/run-cli.ts';
import { ScriptedPeer } from './support/scripted-peer.ts';
import { serve, transactions } from './support/serve.ts';

let zk: ZooKeeper;

before(async () => {
  zk = await ZooKeeper.standalone();
});
after(async () => {
  await zk.cleanup();
});

function ids(batch: CanalBatch): string[] {
  return batch.entries.filter((e) => e.entryType === 'ROWDATA').map((e) => String(e.rows[0]?.after.id));
}

/** Plays a server holding `running` for destination d: its own session, an ephemeral node. */
async function holdRunning(address: string, d = 'example'): Promise<ZkSession> {
  const s = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 4_000 });
  await s.ensurePath(destinationPath(d));
  await s.create(serverRunningPath(d), formatServerRunning({ active: true, address, cid: 1 }), 'ephemeral');
  return s;
}

test('the client waits for running, connects where it points, reconnects with a rollback, and follows running to a new server', async () => {
  const a = await serve();
  const b = await serve();
  const sessions: ZkSession[] = [];
  // A backoff long enough that a loaded machine still tells "woken by the watch" from "the backoff ran out".
  const BACKOFF_MS = 10_000;
  const c = new CanalClient({ zk: zk.connectString, destination: 'example', reconnect: { initialDelayMs: BACKOFF_MS, maxDelayMs: BACKOFF_MS } });
  try {
    a.put(transactions(0, 3));
    // B holds the stream from transaction 1 on, as a new active resumes after the acknowledged cursor.
    b.put(transactions(1, 2));
    const servers: string[] = [];
    let waits = 0;
    let waitingSince = 0;
    c.on('connected', (s) => servers.push(s));
    c.on('reconnecting', () => {
      waits++;
      waitingSince = performance.now();
    });
    const connecting = c.connect();
    await waitFor(() => waits >= 1, 'the client to find no running node and wait');
    sessions.push(await holdRunning(`127.0.0.1:${a.port}`));
    await connecting;
    // The watch on running, not the backoff, got it there: connected before the backoff's pause ended.
    const waited = performance.now() - waitingSince;
    assert.ok(waited < BACKOFF_MS, `connected ${Math.round(waited)} ms after it began a ${BACKOFF_MS} ms backoff pause`);
    await c.subscribe();
    const first = await c.getWithoutAck(3, 2000);
    assert.deepEqual(ids(first), ['0']);
    await c.ack(first);
    const second = await c.getWithoutAck(3, 2000);
    assert.deepEqual(ids(second), ['1000']);
    await c.sync();

    // A lost connection: the same server again, the unacknowledged batch again.
    a.dropSessions('test drops the connection');
    await waitFor(() => !c.connected, 'the client to see the connection close');
    assert.deepEqual(ids(await c.getWithoutAck(3, 5000)), ['1000']);
    assert.deepEqual(servers, [`127.0.0.1:${a.port}`, `127.0.0.1:${a.port}`]);

    // Failover: A's running node goes with its session and B takes it, while A still accepts
    // connections (as a paused server would): the client leaves A for B on the watch alone.
    await sessions.shift()!.close();
    const tookOver = performance.now();
    sessions.push(await holdRunning(`127.0.0.1:${b.port}`));
    await waitFor(() => c.server !== `127.0.0.1:${a.port}`, 'the client to leave A');
    const again = await c.getWithoutAck(3, 5000);
    assert.deepEqual(ids(again), ['1000'], 'the batch not acknowledged on A comes again from B');
    assert.ok(performance.now() - tookOver < BACKOFF_MS, `on B ${Math.round(performance.now() - tookOver)} ms after it took running`);
    await waitFor(() => a.server.sessions().length === 0, 'no connection left on A');
    assert.deepEqual(servers.slice(2), [`127.0.0.1:${b.port}`]);
    await assert.rejects(c.ack(second), /connection that delivered it was lost/);
    await c.ack(again);
    assert.deepEqual(ids(await c.get(10, 2000)), ['2000']);
  } finally {
    await c.disconnect();
    for (const s of sessions) await s.close();
    await a.stop().catch(() => undefined);
    await b.stop();
  }
});

test("a standby's refusal makes the client read running again and reconnect", async () => {
  const b = await serve({ name: 'other' });
  let holder: ZkSession | undefined;
  let moved: Promise<void> | undefined;
  // A server that lost the election but is still named by a stale running node.
  const stale = await ScriptedPeer.start((p) => {
    if (p.type === 2) return [successAckPacket()];
    // It hands running over to B as it refuses (the node changes while the client looks).
    moved ??= (async () => {
      await holder!.remove(serverRunningPath('other'));
      await holder!.create(serverRunningPath('other'), formatServerRunning({ active: true, address: `127.0.0.1:${b.port}`, cid: 2 }), 'ephemeral');
    })();
    return [errorAckPacket(400, notActiveMessage('other', 'standby', undefined))];
  });
  const c = new CanalClient({ zk: { connect: zk.connectString, sessionTimeoutMs: 4_000 }, destination: 'other', reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
  try {
    b.put(transactions(0, 1));
    holder = await holdRunning(`127.0.0.1:${stale.port}`, 'other');
    const servers: string[] = [];
    c.on('connected', (s) => servers.push(s));
    await c.connect();
    await c.subscribe();
    assert.deepEqual(ids(await c.get(10, 2000)), ['0']);
    assert.deepEqual(servers, [`127.0.0.1:${stale.port}`, `127.0.0.1:${b.port}`]);
    assert.equal(c.server, `127.0.0.1:${b.port}`);
    // The client can be used again after disconnect(), with a new ZooKeeper session.
    await c.disconnect();
    await c.connect();
    await c.subscribe();
    assert.equal(c.server, `127.0.0.1:${b.port}`);
  } finally {
    await c.disconnect();
    await moved;
    await holder?.close();
    await stale.close();
    await b.stop();
  }
});

test('an exclusive consumer whose node is taken from it stops consuming at once and stands by until it is free', async () => {
  const a = await serve({ name: 'fenced' });
  const holder = await holdRunning(`127.0.0.1:${a.port}`, 'fenced');
  const other = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 4_000 });
  const lockPath = clientRunningPath('fenced', '7');
  const c = new CanalClient({ zk: zk.connectString, exclusive: true, clientId: '7', destination: 'fenced', reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
  try {
    a.put(transactions(0, 2));
    const standbys: string[] = [];
    c.on('standby', (h) => standbys.push(h));
    await c.connect();
    await c.subscribe();
    const b = await c.getWithoutAck(3, 2000);
    assert.deepEqual(ids(b), ['0']);
    // Someone else's session takes the node (as after this client's session expired unnoticed).
    await other.remove(lockPath);
    await other.create(lockPath, Buffer.from('{"active":true,"address":"10.9.9.9:4242","clientId":7}'), 'ephemeral');
    await waitFor(() => !c.connected, 'the client to stop consuming');
    await waitFor(() => a.store.stats().outstandingBatches === 0, 'the server to take the unacknowledged batch back');
    await assert.rejects(c.ack(b), /connection that delivered it was lost/);
    const next = c.getWithoutAck(3, 2000);
    await waitFor(() => standbys.includes('10.9.9.9:4242'), 'the client to stand by for the new holder');
    assert.equal(c.connected, false);
    await other.remove(lockPath);
    assert.deepEqual(ids(await next), ['0'], 'it takes over when the node goes, from the last acknowledged position');
    assert.equal(parseClientRunning((await other.get(lockPath))!.data, lockPath).address, [...a.server.sessions()][0]!.peer);
  } finally {
    await c.disconnect();
    await other.close();
    await holder.close();
    await a.stop();
  }
});

// ---------------------------------------------------------------- consumer processes

interface Tail {
  proc: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
}

const tails = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of tails) p.kill('SIGKILL');
});

/** `sluice tail` as its own process; the kernel kills it if this test process dies (spawnCli). */
function tail(args: string[]): Tail {
  const proc = spawnCli(['tail', ...args]);
  tails.add(proc);
  const t: Tail = { proc, out: '', err: '', exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  proc.stdout!.on('data', (d: Buffer) => (t.out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (t.err += d.toString()));
  void t.exited.then(() => tails.delete(proc));
  return t;
}

/** Row ids a tail printed (json lines), in order. */
function printed(t: Tail): number[] {
  return t.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => (JSON.parse(l) as { rows: { after: { id?: string } }[] }).rows.map((r) => Number(r.after.id)));
}

test('two tails with the same client id: one consumes, the other takes over when it is killed or stops', async () => {
  const a = await serve();
  const holder = await holdRunning(`127.0.0.1:${a.port}`, 'example');
  const reader = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 4_000 });
  const lockPath = clientRunningPath('example', '1001');
  const common = ['--zk', zk.connectString, '--destination', 'example', '--client-id', '1001', '--exclusive', '--format', 'json'];
  const started: Tail[] = [];
  try {
    a.put(transactions(0, 2));
    // 4 s: short enough for a quick takeover below, long enough that a starved process keeps its lease.
    const p1 = tail([...common, '--zk-session-timeout', '4000']);
    started.push(p1);
    await waitFor(() => printed(p1).length >= 2, 'the first tail to consume', 90_000).catch((e: Error) => {
      throw new Error(`${e.message}; its stderr: ${p1.err}`);
    });
    const p2 = tail([...common, '--zk-session-timeout', '30000']);
    started.push(p2);
    await waitFor(() => /standing by: another consumer \(127\.0\.0\.1:\d+\) holds example\/1001/.test(p2.err), 'the second tail to stand by', 90_000);
    const node = await reader.get(lockPath);
    assert.ok(node !== undefined, 'the consumer lock node exists');
    const held = parseClientRunning(node.data, lockPath);
    assert.equal(held.clientId, 1001);
    assert.equal(held.active, true);
    // Named by its end of the connection to the server, which the server sees as its peer.
    assert.ok([...a.server.sessions()].some((s) => s.peer === held.address), `${held.address} is a connection the server has`);

    a.put(transactions(2, 2));
    await waitFor(() => printed(p1).includes(3000), 'the holder to consume the new rows');
    assert.deepEqual(printed(p2), [], 'the standby consumed nothing');

    // SIGKILL: the lock goes when p1's ZooKeeper session expires (4 s); p2 goes on from the last ack.
    p1.proc.kill('SIGKILL');
    await p1.exited;
    a.put(transactions(4, 2));
    await waitFor(() => printed(p2).includes(5000), 'the standby to take over after the session expired', 30_000);
    const all = [...new Set([...printed(p1), ...printed(p2)])].sort((x, y) => x - y);
    assert.deepEqual(all, [0, 1000, 2000, 3000, 4000, 5000], 'nothing missing');
    const p2first = printed(p2)[0]!;
    assert.ok(printed(p1).includes(p2first) || p2first === 4000, 'p2 starts where p1 stopped acknowledging');

    // A clean stop deletes the node at once: p3 does not wait for p2's 30 s session.
    const p3 = tail([...common, '--zk-session-timeout', '30000']);
    started.push(p3);
    await waitFor(() => /standing by/.test(p3.err), 'the third tail to stand by', 90_000);
    p2.proc.kill('SIGTERM');
    assert.equal(await p2.exited, 0, p2.err);
    const stoppedAt = performance.now();
    a.put(transactions(6, 1));
    await waitFor(() => printed(p3).includes(6000), 'the third tail to take over', 30_000);
    const took = performance.now() - stoppedAt;
    assert.ok(took < 20_000, `took over ${Math.round(took)} ms after a clean stop (the session timeout is 30 s)`);
    assert.deepEqual(printed(p3), [6000], 'p2 acknowledged everything it printed before it stopped');
    p3.proc.kill('SIGTERM');
    assert.equal(await p3.exited, 0, p3.err);
    assert.equal(await reader.get(lockPath), undefined, 'the last tail released the lock');
  } finally {
    for (const t of started) t.proc.kill('SIGKILL');
    await Promise.all(started.map((t) => t.exited));
    await reader.close();
    await holder.close();
    await a.stop();
  }
});
