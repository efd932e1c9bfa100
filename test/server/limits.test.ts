// What bounds a connection: the inbound frame cap, Canal's idle timeouts, the auth deadline,
// and a blocked GET that must end with its connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/sandbox.ts';
import { RawClient } from './support/raw-client.ts';
import { items, startFixture, summarize, transaction } from './support/fixture.ts';
import { encodeFrame } from '../../src/protocol/frame.ts';
import { getPacket } from '../../src/protocol/packets.ts';
import { clientAckPacket } from '../../src/protocol/packets.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

const D = 'example';

test('frame cap: a length prefix above the limit closes that connection (logged) while another keeps working', async () => {
  const fx = await startFixture({ server: { maxFrameBytes: 4096 } });
  try {
    fx.put(items(1, 2));
    const good = await RawClient.connect(fx.port);
    await good.auth('', undefined);
    await good.subscribe(D);
    assert.deepEqual(summarize((await good.get(D, 3)).entries), ['B', 'I:t:1', 'E']);

    const bad = await RawClient.connect(fx.port);
    await bad.auth('', undefined);
    // announces 1 GiB and sends only a few bytes of it: the server must not wait for or allocate the body
    bad.sendBytes(Buffer.from([0x40, 0x00, 0x00, 0x00, 1, 2, 3]));
    await bad.closed;
    await waitFor(() => fx.logs.some((l) => l.level === 'warn' && l.msg.includes('larger than the limit')), 'the frame-cap log line');
    const line = fx.logs.find((l) => l.msg.includes('larger than the limit'))!;
    assert.equal((line.obj as { frameLength: number }).frameLength, 0x40000000);
    assert.equal((line.obj as { maxFrameBytes: number }).maxFrameBytes, 4096);

    // before auth the cap applies too
    const early = await RawClient.connect(fx.port);
    early.sendBytes(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await early.closed;

    good.sendAck(D, 1);
    assert.deepEqual(summarize((await good.get(D, 3)).entries), ['B', 'I:t:2', 'E']);
    await waitFor(() => fx.server.sessionCount === 1, 'only the good session to remain');
    good.close();
  } finally {
    await fx.stop();
  }
});

test('idle timeouts after auth, in milliseconds: read idle and write idle each close the connection', async () => {
  const fx = await startFixture();
  try {
    const reader = await RawClient.connect(fx.port);
    await reader.auth('', undefined, { netReadTimeoutMs: 300, netWriteTimeoutMs: 0 });
    await reader.closed;
    await waitFor(() => fx.logs.some((l) => l.msg.includes('nothing read from the client')), 'the read-idle log line');

    // a client that keeps sending acks of -1 (never answered) is read but never written to
    const writer = await RawClient.connect(fx.port);
    await writer.auth('', undefined, { netReadTimeoutMs: 60_000, netWriteTimeoutMs: 400 });
    await writer.subscribe(D);
    const keepSending = setInterval(() => writer.send(clientAckPacket({ destination: D, clientId: '1001', batchId: -1 })), 50);
    try {
      await writer.closed;
    } finally {
      clearInterval(keepSending);
    }
    assert.ok(fx.logs.some((l) => l.msg.includes('nothing written to the client')));
    await waitFor(() => fx.server.sessionCount === 0, 'the sessions to be gone');
  } finally {
    await fx.stop();
  }
});

test('no idle timeout applies before auth; an auth deadline does', async () => {
  const fx = await startFixture({ server: { authTimeoutMs: 300 } });
  try {
    const c = await RawClient.connect(fx.port);
    await c.closed;
    assert.ok(fx.logs.some((l) => l.msg.includes('did not authenticate in time')));
  } finally {
    await fx.stop();
  }
});

test('a blocked GET ends with its connection: the store has no waiter left and the hold is released', async () => {
  const fx = await startFixture();
  try {
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    await c.subscribe(D);
    c.sendGet(D, 10, 0); // block until 10 entries
    await waitFor(() => fx.store.stats().waitingGets === 1, 'the GET to block');
    c.close();
    await waitFor(() => fx.store.stats().waitingGets === 0 && fx.dest.currentHolder() === undefined && fx.server.sessionCount === 0, 'the GET to be aborted and the hold released');
    // the data that arrives later is intact for the next consumer
    fx.put(items(1, 1));
    const d = await RawClient.connect(fx.port);
    await d.auth('', undefined);
    await d.subscribe(D);
    const b = await d.get(D, 10);
    assert.equal(b.batchId, 1);
    assert.deepEqual(summarize(b.entries), ['B', 'I:t:1', 'E']);
    d.close();
  } finally {
    await fx.stop();
  }
});

test('stop(): stops accepting and closes every session, aborting blocked GETs', async () => {
  const fx = await startFixture();
  const c = await RawClient.connect(fx.port);
  await c.auth('', undefined);
  await c.subscribe(D);
  c.sendGet(D, 10, 0);
  await waitFor(() => fx.store.stats().waitingGets === 1, 'the GET to block');
  await fx.server.stop();
  await c.closed;
  assert.equal(fx.server.sessionCount, 0);
  assert.equal(fx.store.stats().waitingGets, 0);
  await assert.rejects(RawClient.connect(fx.port));
  fx.store.close();
});

test('TCP keepalive is armed on server sockets with the configured initial delay (seen through ss)', async () => {
  // Node cannot read keepalive settings back from a socket; the kernel's view through ss is the proof.
  await execFileP('ss', ['-V']).catch((err: Error) => {
    throw new Error(`this test reads socket timers with ss: apt-get install -y iproute2 (${err.message})`);
  });
  const fx = await startFixture({ server: { keepAliveDelayMs: 15_000 } });
  try {
    const c = await RawClient.connect(fx.port);
    const { stdout } = await execFileP('ss', ['-tnoH', 'state', 'established', `( sport = :${fx.port} and dport = :${c.socket.localPort} )`]);
    // e.g. "timer:(keepalive,14sec,0)": the first probe goes out after 15 s of silence
    const m = /timer:\(keepalive,(\d+)(ms|sec),/.exec(stdout);
    assert.ok(m !== null, `no keepalive timer on the server socket: ${stdout}`);
    const seconds = m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1]);
    assert.ok(seconds > 0 && seconds <= 15, `keepalive timer ${m[0]}`);
    c.close();
  } finally {
    await fx.stop();
  }
});

test('back-pressure: a client that stops reading stops being served; nothing piles up in server memory', async () => {
  const fx = await startFixture();
  try {
    const BATCHES = 200;
    const big = 'x'.repeat(100_000);
    for (let n = 1; n <= BATCHES; n++) {
      const row = transaction(n)[1]!;
      row.rowChange!.rowDatas[0]!.afterColumns[0]!.value = `${n}:${big}`;
      fx.put([row]);
    }
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    await c.subscribe(D);
    c.socket.pause();
    const get = encodeFrame(getPacket({ destination: D, clientId: '1001', fetchSize: 1, timeout: -1, unit: 2 }));
    c.sendBytes(Buffer.concat(Array.from({ length: BATCHES }, () => get)));
    const session = fx.server.sessions()[0]!;
    // The kernel buffers fill, a write is refused, and the session waits for the client to drain.
    await waitFor(() => session.stats().pendingWriteBytes > 0, 'the server to have more to write than the socket takes', 30_000);
    const stats = session.stats();
    const handed = fx.store.stats().outstandingBatches;
    assert.ok(handed < BATCHES, `only what the socket took was handed out (${handed} of ${BATCHES})`);
    assert.ok(stats.pendingWriteBytes <= 2 * 101_000, `at most one reply waits in user space (${stats.pendingWriteBytes} bytes)`);
    assert.ok(stats.queuedBytes <= 64 * 1024 + get.length * BATCHES, 'the read-ahead queue is bounded');

    c.socket.resume();
    const seen: string[] = [];
    for (let i = 0; i < BATCHES; i++) {
      const m = await c.nextMessages();
      assert.equal(m.batchId, i + 1);
      seen.push(summarize(m.entries)[0]!.split(':').slice(0, 3).join(':'));
    }
    assert.deepEqual(seen, Array.from({ length: BATCHES }, (_, i) => `I:t:${i + 1}`));
    c.close();
  } finally {
    await fx.stop();
  }
});
