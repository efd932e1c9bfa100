// The client's fixed list of servers: it tries them in turn, follows a standby's refusal to the
// server it names, rolls back across a failover so nothing unacknowledged is lost, and refuses an
// ack of a batch that a lost connection handed out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runTail } from '../../src/cli/tail.ts';
import { CanalClient } from '../../src/client/canal-client.ts';
import { CanalConnectionError, CanalError, CanalNotActiveError, CanalReconnectError, notActiveError } from '../../src/client/errors.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { notActiveMessage } from '../../src/coord/refusal.ts';
import { errorAckPacket, successAckPacket } from '../../src/protocol/packets.ts';
import { freePort, waitFor } from '../support/sandbox.ts';
import { ScriptedPeer } from './support/scripted-peer.ts';
import { serve, transactions } from './support/serve.ts';

function ids(batch: CanalBatch): string[] {
  return batch.entries.filter((e) => e.entryType === 'ROWDATA').map((e) => String(e.rows[0]?.after.id));
}

/** A standby as sluice's is: authentication succeeds, anything about the destination is refused. */
async function standby(active: string): Promise<ScriptedPeer> {
  return await ScriptedPeer.start((p) => {
    if (p.type === 2) return [successAckPacket()];
    return [errorAckPacket(400, notActiveMessage('example', 'standby', active))];
  });
}

test("a standby's refusal is recognised, with the active server it names", () => {
  const e = notActiveError('GET of d/1001', 400, notActiveMessage('d', 'standby', '10.0.0.7:11111'));
  assert.ok(e instanceof CanalNotActiveError);
  assert.equal(e.activeAddress, '10.0.0.7:11111');
  assert.match(e.message, /^GET of d\/1001 failed: destination d is not active on this server/);
  assert.equal(notActiveError('x', 400, notActiveMessage('d', 'standby', undefined))?.activeAddress, undefined);
  assert.equal(notActiveError('x', 400, 'batchId:7 is not the firstly:6'), undefined);
});

test("a standby's refusal sends the client to the server it names, even one not in its list", async () => {
  const active = await serve();
  const sb = await standby(`127.0.0.1:${active.port}`);
  try {
    active.put(transactions(0, 2));
    const c = new CanalClient({ servers: `127.0.0.1:${sb.port}`, destination: 'example', reconnect: { initialDelayMs: 5_000 } });
    const servers: string[] = [];
    c.on('connected', (s) => servers.push(s));
    const started = performance.now();
    await c.connect();
    await c.subscribe();
    const b = await c.get(100, 2000);
    assert.deepEqual(ids(b), ['0', '1000']);
    assert.deepEqual(servers, [`127.0.0.1:${sb.port}`, `127.0.0.1:${active.port}`]);
    assert.equal(c.server, `127.0.0.1:${active.port}`);
    // The named server is tried at once, not after the 5 s backoff.
    assert.ok(performance.now() - started < 4_000, `followed the refusal after ${Math.round(performance.now() - started)} ms`);
    await c.disconnect();
  } finally {
    await sb.close();
    await active.stop();
  }
});

test('a fixed list fails over to the next server; unacknowledged batches come again there, and acks of the old connection are refused', async () => {
  const a = await serve();
  const b = await serve();
  try {
    // Both hold the same stream, as a new active re-reads from the last acknowledged cursor.
    a.put(transactions(0, 3));
    b.put(transactions(0, 3));
    const c = new CanalClient({ servers: [`127.0.0.1:${a.port}`, { host: '127.0.0.1', port: b.port }], destination: 'example', reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const servers: string[] = [];
    c.on('connected', (s) => servers.push(s));
    await c.connect();
    await c.subscribe();
    const old = await c.getWithoutAck(3, 2000);
    assert.deepEqual(ids(old), ['0']);
    await c.sync();
    await a.stop();
    await waitFor(() => !c.connected, 'the client to see the server go');

    const again = await c.getWithoutAck(3, 2000);
    assert.deepEqual(ids(again), ['0'], 'the unacknowledged batch comes again from the next server');
    assert.deepEqual(servers, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    assert.equal(old.id, again.id, 'the new server counts batch ids afresh: the same id names another batch');
    // By id it is ambiguous; the old batch itself is refused; the new one is acknowledged.
    await assert.rejects(c.ack(old.id), (e: unknown) => e instanceof CanalError && /cannot be acknowledged by id.*pass the batch itself/.test(e.message));
    await assert.rejects(c.ack(old), (e: unknown) => e instanceof CanalConnectionError && /connection that delivered it was lost/.test(e.message));
    await c.ack(again);
    await c.sync();
    await waitFor(() => b.store.stats().outstandingBatches === 0, 'the new server to have the ack');
    const rest = await c.get(10, 2000);
    assert.deepEqual(ids(rest), ['1000', '2000']);
    await c.disconnect();
  } finally {
    await a.stop().catch(() => undefined);
    await b.stop();
  }
});

test('the reconnect deadline bounds how long the client looks for a server', async () => {
  const dead = [await freePort(), await freePort()];
  const c = new CanalClient({ servers: dead.map((p) => `127.0.0.1:${p}`), destination: 'example', reconnect: { initialDelayMs: 50, maxDelayMs: 100, deadlineMs: 600 } });
  const started = performance.now();
  const err = await c.connect().then(
    () => assert.fail('connected to nothing'),
    (e: unknown) => e,
  );
  const took = performance.now() - started;
  assert.ok(err instanceof CanalReconnectError, String(err));
  assert.match(err.message, /gave up connecting to 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ for example after \d+ ms \(reconnect\.deadlineMs 600\)/);
  assert.ok(took >= 550 && took < 10_000, `gave up after ${Math.round(took)} ms`);
  await c.disconnect();
});

test('options: host/port, servers and zk exclude each other; addresses and exclusive are checked', () => {
  assert.throws(() => new CanalClient({ host: 'h', port: 1, servers: 'h:2', destination: 'd' }), /give one of host and port, servers, or zk/);
  assert.throws(() => new CanalClient({ servers: 'h', destination: 'd' }), /"h" is not a server address; write host:port/);
  assert.throws(() => new CanalClient({ servers: '', destination: 'd' }), /no server address given/);
  assert.throws(() => new CanalClient({ destination: 'd' }), /host and port are required/);
  assert.throws(() => new CanalClient({ servers: 'h:1', exclusive: true, destination: 'd' }), /exclusive needs zk/);
  assert.throws(() => new CanalClient({ zk: 'z:2181', exclusive: true, clientId: 'abc', destination: 'd' }), /clientId must be a number/);
});

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

test('sluice tail --servers: a dead server in the list is passed over; conflicting options are refused', async () => {
  const live = await serve();
  try {
    live.put(transactions(0, 2));
    const base = { destination: 'example', clientId: '1001', batchSize: 100, format: 'json' as const };
    const out = sink();
    const err = sink();
    const code = await runTail({ ...base, servers: `127.0.0.1:${await freePort()},127.0.0.1:${live.port}`, limit: 2 }, { out: out.stream, err: err.stream });
    assert.equal(code, 0, err.text());
    assert.equal(out.text().split('\n').filter((l) => l.includes('"INSERT"')).length, 2);
    assert.match(err.text(), new RegExp(`connected to 127\\.0\\.0\\.1:${live.port}`));

    for (const [opts, message] of [
      [{ servers: 'a:1', host: 'h' }, /give one of --host\/--port, --servers or --zk/],
      [{ zk: 'z:2181', port: 5 }, /give one of --host\/--port, --servers or --zk/],
      [{ servers: 'a:1', exclusive: true }, /--exclusive needs --zk/],
      [{ servers: 'a:1', zkSessionTimeout: 2000 }, /--zk-session-timeout needs --zk/],
      [{ servers: 'nonsense' }, /"nonsense" is not a server address/],
    ] as const) {
      const e = sink();
      assert.equal(await runTail({ ...base, ...opts }, { out: sink().stream, err: e.stream }), 1);
      assert.match(e.text(), message);
    }
  } finally {
    await live.stop();
  }
});
