// CanalClient against the real CanalServer, StoreDestination and EventStore, fed with synthetic
// transactions: the protocol semantics a consumer relies on, without MySQL in the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CanalClient, type CanalClientOptions } from '../../src/client/canal-client.ts';
import { CanalAuthError, CanalConnectionError, CanalProtocolError, CanalServerError, CanalTimeoutError } from '../../src/client/errors.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { encodeFrame } from '../../src/protocol/frame.ts';
import { pb } from '../../src/protocol/proto.ts';
import { waitFor } from '../support/sandbox.ts';
import { serve, transaction, transactions, type Served } from './support/serve.ts';

/** "B", "I:<first id>", "E" per entry. */
function shape(batch: CanalBatch): string[] {
  return batch.entries.map((e) => (e.entryType === 'TRANSACTIONBEGIN' ? 'B' : e.entryType === 'TRANSACTIONEND' ? 'E' : `I:${e.rows[0]?.after.id}`));
}

async function withServer(fn: (s: Served, opts: CanalClientOptions) => Promise<void>, serveOpts: Parameters<typeof serve>[0] = {}): Promise<void> {
  const s = await serve(serveOpts);
  try {
    await fn(s, { host: '127.0.0.1', port: s.port, destination: 'example', reconnect: false });
  } finally {
    await s.stop();
  }
}

async function listenOn(onSocket: (s: Socket) => void): Promise<{ srv: Server; port: number }> {
  const srv = createServer(onSocket);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { srv, port: addr.port };
}

test('authenticates with the scramble and names the user when the password is wrong', async () => {
  await withServer(
    async (_s, opts) => {
      const good = new CanalClient({ ...opts, user: 'canal', password: 'canal' });
      await good.connect();
      assert.equal(good.connected, true);
      await good.disconnect();

      const bad = new CanalClient({ ...opts, user: 'canal', password: 'wrong-secret' });
      const err = await bad.connect().then(
        () => assert.fail('a wrong password was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CanalAuthError, `expected CanalAuthError, got ${String(err)}`);
      assert.match(err.message, /authentication of user "canal"/);
      assert.match(err.message, /auth failed for user:canal/);
      assert.doesNotMatch(err.message, /wrong-secret/);
      assert.equal(bad.connected, false);
    },
    { server: { user: 'canal', passwordHash: storedPasswordHash('canal') } },
  );
});

test('a peer that is not a Canal server is reported as such', async () => {
  // A MySQL server greets with a 3-byte little-endian length: read as Canal's header it is huge.
  const mysqlLike = await listenOn((sock) => sock.write(Buffer.concat([Buffer.from([0x5b, 0, 0, 0, 0x0a]), Buffer.from('5.5.5-10.11.6-MariaDB\0', 'latin1')])));
  const silent = await listenOn(() => {});
  const wrongVersion = await listenOn((sock) => {
    const body = pb.Packet.encode({ version: 2, type: 1, body: pb.Handshake.encode({ seeds: Buffer.alloc(8, 1) }).finish() }).finish();
    sock.write(encodeFrame(body));
  });
  try {
    const base = { host: '127.0.0.1', destination: 'example', reconnect: false as const, connectTimeoutMs: 1500 };
    await assert.rejects(new CanalClient({ ...base, port: mysqlLike.port }).connect(), (e: unknown) => e instanceof CanalProtocolError && /is not a Canal server/.test(e.message));
    await assert.rejects(new CanalClient({ ...base, port: silent.port }).connect(), (e: unknown) => e instanceof CanalTimeoutError && /handshake.*is 127\.0\.0\.1:\d+ a Canal server/.test(e.message));
    await assert.rejects(new CanalClient({ ...base, port: wrongVersion.port }).connect(), (e: unknown) => e instanceof CanalProtocolError && /version 2; this client supports version 1/.test(e.message));
  } finally {
    for (const s of [mysqlLike, silent, wrongVersion]) s.srv.close();
  }
});

test('getWithoutAck, ack and rollback follow Canal semantics; entries decode to typed rows', async () => {
  await withServer(async (s, opts) => {
    s.put(transactions(0, 3, 2));
    const c = new CanalClient(opts);
    await c.connect();
    await c.subscribe();
    const b1 = await c.getWithoutAck(3);
    assert.equal(b1.id, 1);
    assert.deepEqual(shape(b1), ['B', 'I:0', 'E']);
    const ins = b1.entry(1);
    assert.equal(ins.entryType, 'ROWDATA');
    assert.equal(ins.eventType, 'INSERT');
    assert.equal(ins.schemaName, 'db');
    assert.equal(ins.tableName, 't');
    assert.equal(ins.logfileName, 'binlog.000001');
    assert.equal(ins.logfileOffset, 104);
    assert.equal(ins.props.rowsCount, '2');
    assert.deepEqual(ins.rows.map((r) => [r.before, r.after]), [
      [{}, { id: '0', note: 'n0' }],
      [{}, { id: '1', note: null }],
    ]);
    assert.equal(ins.rows[0]!.afterColumns[0]!.mysqlType, 'int(11)');
    assert.equal(b1.entry(0).eventType, null);
    assert.equal(b1.entry(2).transactionId, '5000');

    const b2 = await c.getWithoutAck(3);
    assert.equal(b2.id, 2);
    assert.deepEqual(shape(b2), ['B', 'I:1000', 'E']);
    assert.deepEqual(c.outstanding(), [1, 2]);

    await c.rollback();
    assert.deepEqual(c.outstanding(), []);
    const again = await c.getWithoutAck(6);
    assert.equal(again.id, 3, 'batch ids keep growing after a rollback');
    assert.deepEqual(shape(again), ['B', 'I:0', 'E', 'B', 'I:1000', 'E']);
    await c.ack(again.id);

    const rest = await c.get(100);
    assert.deepEqual(shape(rest), ['B', 'I:2000', 'E']);
    const empty = await c.getWithoutAck(100, -1);
    assert.equal(empty.id, -1);
    assert.equal(empty.size, 0);
    await waitFor(() => s.store.stats().entries === 0, 'every entry acknowledged and freed');
    await c.disconnect();
  });
});

test('several batches outstanding; rollback(N) drops N and every newer one', async () => {
  await withServer(async (s, opts) => {
    s.put(transactions(0, 4));
    const c = new CanalClient(opts);
    await c.connect();
    await c.subscribe();
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await c.getWithoutAck(3)).id);
    assert.deepEqual(ids, [1, 2, 3, 4]);
    assert.equal(s.store.stats().outstandingBatches, 4);
    await c.ack(1);
    await c.rollback(2);
    assert.deepEqual(c.outstanding(), []);
    const next = await c.getWithoutAck(3);
    assert.deepEqual(shape(next), ['B', 'I:1000', 'E'], 'delivery restarts after the acknowledged batch');
    assert.equal(next.id, 5);
    // Acking the new id works: the server holds no stale records of batches 3 and 4.
    await c.ack(next.id);
    const after = await c.getWithoutAck(100);
    assert.deepEqual(shape(after), ['B', 'I:2000', 'E', 'B', 'I:3000', 'E']);
    await c.ack(after.id);
    await waitFor(() => s.store.stats().outstandingBatches === 0 && s.store.stats().entries === 0, 'all acknowledged');
    await c.disconnect();
  });
});

test('a refused ack fails the next call with the server message, and the batch fetched meanwhile is kept', async () => {
  await withServer(async (s, opts) => {
    s.put(transactions(0, 3));
    const c = new CanalClient(opts);
    await c.connect();
    await c.subscribe();
    const b1 = await c.getWithoutAck(3);
    const b2 = await c.getWithoutAck(3);
    // Not the oldest: the server refuses it, but only on the next request's reply.
    await c.ack(b2.id);
    const err = await c.getWithoutAck(3).then(
      () => assert.fail('the refused ack was hidden'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CanalServerError, String(err));
    assert.equal(err.request, `ack of batch ${b2.id} on example/1001`);
    assert.match(err.serverMessage, new RegExp(`batchId:${b2.id} is not the firstly:${b1.id}`));
    // The GET that carried the error still fetched batch 3; it is handed out now, not lost.
    const b3 = await c.getWithoutAck(3);
    assert.equal(b3.id, 3);
    assert.deepEqual(shape(b3), ['B', 'I:2000', 'E']);
    // The stream is in step: acks in order succeed and nothing more is outstanding on the server.
    await c.ack(b1.id);
    await c.ack(b2.id);
    await c.ack(b3.id);
    const empty = await c.getWithoutAck(3, -1);
    assert.equal(empty.id, -1);
    assert.equal(s.store.stats().outstandingBatches, 0);

    // The same when the refusal arrives with nothing in flight: the next call (here an ack) fails.
    s.put(transaction(7));
    const b4 = await c.getWithoutAck(3, 2000);
    await c.ack(b4.id + 10);
    await waitFor(() => c.pendingFailure !== undefined, 'the refusal of the bad ack to arrive');
    await assert.rejects(c.ack(b4.id), (e: unknown) => e instanceof CanalServerError && /is not exist/.test(e.serverMessage));
    await c.ack(b4.id);
    await waitFor(() => s.store.stats().outstandingBatches === 0, 'the good ack processed');
    await c.disconnect();
  });
});

test('requests are pipelined: an ack then a get without waiting stay in order', async () => {
  await withServer(async (s, opts) => {
    s.put(transactions(0, 20));
    const c = new CanalClient(opts);
    await c.connect();
    await c.subscribe();
    const seen: string[] = [];
    let batch = await c.getWithoutAck(3);
    for (let i = 1; i < 20; i++) {
      const acked = c.ack(batch.id);
      const next = c.getWithoutAck(3);
      await acked;
      seen.push(...shape(batch));
      batch = await next;
    }
    seen.push(...shape(batch));
    await c.ack(batch.id);
    assert.deepEqual(seen.filter((x) => x.startsWith('I:')), Array.from({ length: 20 }, (_, n) => `I:${n * 1000}`));
    await waitFor(() => s.store.stats().entries === 0, 'all acknowledged');
    await c.disconnect();
  });
});

test('a narrowing filter and unsubscribe', async () => {
  await withServer(async (s, opts) => {
    s.put([...transaction(0, 1, 'a'), ...transaction(1, 1, 'b'), ...transaction(2, 1, 'a')]);
    const c = new CanalClient(opts);
    await c.connect();
    await c.subscribe('db\\.a');
    const b = await c.get(100);
    const tables = b.entries.filter((e) => e.entryType === 'ROWDATA').map((e) => e.tableName);
    assert.deepEqual(tables, ['a', 'a']);
    await c.unsubscribe();
    assert.equal(c.isSubscribed, false);
    await assert.rejects(c.getWithoutAck(10), (e: unknown) => e instanceof CanalServerError && /should subscribe/.test(e.serverMessage));
    await c.disconnect();
  });
});

test('the stream acknowledges a batch only after the loop body finished; break leaves it unacknowledged', async () => {
  await withServer(async (s, opts) => {
    s.put(transactions(0, 3));
    const c = new CanalClient(opts);
    await c.connect();
    const bodies: number[] = [];
    for await (const batch of c.stream({ batchSize: 3, timeoutMs: 2000 })) {
      bodies.push(batch.id);
      const st = s.store.stats();
      // While the body runs, this batch is outstanding and the previous one is acknowledged.
      assert.equal(st.oldestBatchId, batch.id, `batch ${batch.id} is the oldest outstanding while its body runs`);
      assert.equal(st.outstandingBatches, 1);
      if (bodies.length === 2) break;
    }
    assert.deepEqual(bodies, [1, 2]);
    await c.disconnect();
    // Batch 2 was not acknowledged: a new consumer starts with it.
    const d = new CanalClient(opts);
    await d.connect();
    await d.subscribe();
    const b = await d.get(100, 2000);
    assert.deepEqual(shape(b), ['B', 'I:1000', 'E', 'B', 'I:2000', 'E']);
    await d.disconnect();
  });
});

test('the stream reconnects after the server drops the connection and unacknowledged entries come again', async () => {
  await withServer(async (s, opts) => {
    s.put(transactions(0, 4));
    const c = new CanalClient({ ...opts, reconnect: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 50 } });
    const reconnects: string[] = [];
    c.on('reconnecting', (info) => reconnects.push(info.error.message));
    await c.connect();
    const seen: string[] = [];
    let dropped = false;
    for await (const batch of c.stream({ batchSize: 3, timeoutMs: 2000 })) {
      seen.push(...shape(batch).filter((x) => x.startsWith('I:')));
      if (seen.length === 2 && !dropped) {
        // Batch with id 2000 is handed out but not acknowledged when the server drops us.
        dropped = true;
        s.dropSessions('test drops the connection');
        await waitFor(() => !c.connected, 'the client to see the connection closed');
      }
      if (seen.includes('I:3000')) {
        await c.ack(batch.id);
        break;
      }
    }
    assert.deepEqual(seen, ['I:0', 'I:1000', 'I:1000', 'I:2000', 'I:3000']);
    // An id from the lost connection is refused locally rather than sent to the new one.
    await assert.rejects(c.ack(2), /batch 2 cannot be acknowledged: the connection that delivered it was lost/);
    assert.ok(reconnects.length >= 1, 'a reconnect was reported');
    assert.match(reconnects[0]!, /closed by the server/);
    await waitFor(() => s.store.stats().entries === 0, 'everything acknowledged in the end');
    await c.disconnect();
  });
});

test('over TLS: the server certificate is verified and the stream works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-client-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    await withServer(
      async (s, opts) => {
        s.put(transactions(0, 2));
        const tlsOpts = { ...opts, port: s.tlsPort! };
        const untrusted = new CanalClient({ ...tlsOpts, tls: {} });
        await assert.rejects(untrusted.connect(), (e: unknown) => e instanceof CanalConnectionError && /self-signed certificate/.test(e.message));
        const c = new CanalClient({ ...tlsOpts, tls: { ca: cert } });
        await c.connect();
        await c.subscribe();
        const b = await c.get(100, 2000);
        assert.deepEqual(shape(b), ['B', 'I:0', 'E', 'B', 'I:1000', 'E']);
        await c.disconnect();
      },
      { server: { tls: { port: 0, key, cert } } },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the idle timeout is sent to the server, and a call after the idle close reconnects', async () => {
  await withServer(async (s, opts) => {
    const c = new CanalClient({ ...opts, idleTimeoutMs: 300, reconnect: { initialDelayMs: 20 } });
    const lost: Error[] = [];
    c.on('disconnected', (e) => lost.push(e));
    await c.connect();
    await c.subscribe();
    await waitFor(() => lost.length === 1, 'the server to close the idle connection', 10_000);
    assert.match(lost[0]!.message, /closed by the server/);
    s.put(transaction(1));
    // A GET waiting longer than the idle timeout would itself be cut off, as in Canal.
    const b = await c.get(10, -1);
    assert.deepEqual(shape(b), ['B', 'I:1000', 'E'], 'reconnected and subscribed again');
    await c.disconnect();
  });
});
