// The session state machine over real TCP: handshake, auth, and every request with exactly
// Canal's replies (docs/protocol.md), against a real EventStore of encoded entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { PacketType, clientAuthPacket, decodeAck, getPacket, rawPacket, subPacket, unsubPacket } from '../../src/protocol/packets.ts';
import { encodeFrame } from '../../src/protocol/frame.ts';
import { EntryType } from '../../src/protocol/entry-model.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { waitFor } from '../support/sandbox.ts';
import { RawClient } from './support/raw-client.ts';
import { items, startFixture, summarize } from './support/fixture.ts';

const D = 'example';

test('handshake: version 1 and a fresh 8-byte seed per connection', async () => {
  const fx = await startFixture();
  try {
    const a = await RawClient.connect(fx.port);
    const b = await RawClient.connect(fx.port);
    assert.equal(a.seed.length, 8);
    assert.equal(b.seed.length, 8);
    assert.notDeepEqual(Buffer.from(a.seed), Buffer.from(b.seed));
    a.close();
    b.close();
  } finally {
    await fx.stop();
  }
});

test('auth: scramble accepted; failure keeps the connection open for a retry; bad user rejected; plaintext token closes', async () => {
  const fx = await startFixture({ server: { user: 'canal', passwordHash: storedPasswordHash('canal') } });
  try {
    const c = await RawClient.connect(fx.port);
    assert.deepEqual(await c.auth('canal', 'wrong'), { errorCode: 400, errorMessage: 'auth failed for user:canal' });
    assert.deepEqual(await c.auth('other', 'canal'), { errorCode: 400, errorMessage: 'auth failed for user:other' });
    // empty password against a server with a password
    assert.deepEqual(await c.auth('canal', undefined), { errorCode: 400, errorMessage: 'auth failed for user:canal' });
    assert.deepEqual(await c.auth('canal', 'canal'), { errorCode: 0, errorMessage: '' });
    assert.deepEqual(await c.subscribe(D), { errorCode: 0, errorMessage: '' });
    c.close();

    // canal-python sends the plaintext: not hex, so the connection is closed without a reply
    const py = await RawClient.connect(fx.port);
    py.send(clientAuthPacket({ username: 'canal', password: 'Plain-Secret-7' }));
    await py.closed;
    assert.equal(py.isClosed, true);
    await waitFor(() => fx.logs.some((l) => l.msg.includes('not a hex scramble')), 'the malformed-token log line');
    // neither a plaintext password nor a scramble reaches the logs
    const logged = JSON.stringify(fx.logs);
    assert.equal(logged.includes('Plain-Secret-7'), false);
    assert.equal(/[0-9a-f]{40}/.test(logged), false);

    // before auth, any request is read as ClientAuth (Canal does not look at the type):
    // Sub's field 1, the destination, lands in ClientAuth's username
    const early = await RawClient.connect(fx.port);
    early.send(subPacket({ destination: D, clientId: '1001' }));
    assert.deepEqual(await early.nextAck(), { errorCode: 400, errorMessage: 'auth failed for user:example' });
    early.close();
  } finally {
    await fx.stop();
  }
});

test('auth off: any username and password (even plaintext) are accepted', async () => {
  const fx = await startFixture();
  try {
    const c = await RawClient.connect(fx.port);
    c.send(clientAuthPacket({ username: 'whoever', password: 'plain text' }));
    assert.deepEqual(await c.nextAck(), { errorCode: 0, errorMessage: '' });
    c.close();
  } finally {
    await fx.stop();
  }
});

test('flow: rollback(0) before SUB is silent, GET returns raw entries, no reply to ack or rollback, several outstanding batches', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 4)); // 12 entries: B I E per transaction
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    // what every official client does on connect: rollback(0) then SUB; the first reply must be SUB's ACK
    c.sendRollback(D, 0);
    assert.deepEqual(await c.subscribe(D), { errorCode: 0, errorMessage: '' });
    assert.deepEqual(fx.subs, [{ clientId: '1001', filter: '' }]);

    const b1 = await c.get(D, 3);
    assert.equal(b1.batchId, 1);
    assert.deepEqual(summarize(b1.entries), ['B', 'I:t:1', 'E']);
    // the entries are the stored bytes, unchanged
    assert.deepEqual(Buffer.from(b1.entries[0]!), Buffer.from(encodeEntry(items(1, 1)[0]!)));
    const b2 = await c.get(D, 3);
    const b3 = await c.get(D, 2);
    assert.deepEqual([b2.batchId, b3.batchId], [2, 3]);
    assert.deepEqual(summarize(b3.entries), ['B', 'I:t:3']);

    // ack out of order: an error ACK, read as the reply to the next request (here a GET)
    c.sendAck(D, 2);
    assert.deepEqual(await c.nextAck(), { errorCode: 400, errorMessage: 'batchId:2 is not the firstly:1' });
    // ack 1 then GET pipelined in one write: the first packet back is MESSAGES, so the ack had no reply
    c.sendAck(D, 1);
    c.sendGet(D, 1);
    const b4 = await c.nextMessages();
    assert.equal(b4.batchId, 4);
    assert.deepEqual(summarize(b4.entries), ['E']);
    assert.equal(fx.acks.length, 1);
    assert.deepEqual(fx.acks[0]!.clientId, '1001');
    assert.equal(fx.acks[0]!.cursor.position, 4 + 300 + 200); // the END of transaction 1
    assert.equal(fx.acks[0]!.cursor.gtid, '0-1-1');

    // rollback(2): drops 2 and every newer batch, rewinds to the ack cursor; no reply
    c.sendRollback(D, 2);
    c.sendGet(D, 100);
    const again = await c.nextMessages();
    assert.equal(again.batchId, 5);
    assert.deepEqual(summarize(again.entries), ['B', 'I:t:2', 'E', 'B', 'I:t:3', 'E', 'B', 'I:t:4', 'E']);
    // ack -1 is ignored silently; ack 5 accepted silently
    c.sendAck(D, -1);
    c.sendAck(D, 5);
    c.sendGet(D, 10, -1);
    assert.deepEqual(await c.nextMessages(), { batchId: -1, entries: [] });
    assert.equal(fx.store.stats().entries, 0);
    assert.equal(fx.acks.at(-1)!.cursor.position, 4 + 4 * 300 + 200);

    // rollback(0) with nothing outstanding: silent
    c.sendRollback(D, 0);
    c.send(unsubPacket({ destination: D, clientId: '1001' }));
    assert.deepEqual(await c.nextAck(), { errorCode: 0, errorMessage: '' });
    assert.deepEqual(fx.unsubs, ['1001']);
    c.close();
  } finally {
    await fx.stop();
  }
});

test('errors of §5: 401 for empty fields, 402 for ack 0, 400 with clear messages; the connection stays usable', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 1));
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    const expectError = async (code: number, pattern: RegExp): Promise<void> => {
      const a = await c.nextAck();
      assert.equal(a.errorCode, code, a.errorMessage);
      assert.match(a.errorMessage, pattern);
    };

    c.send(subPacket({ destination: '', clientId: '1001' }));
    await expectError(401, /^destination or clientId is null\. Sub\{/);
    c.send(subPacket({ destination: D, clientId: '' }));
    await expectError(401, /destination or clientId is null/);
    c.send(subPacket({ destination: D, clientId: 'abc' }));
    await expectError(400, /clientId:"abc" is not a number/);
    c.send(subPacket({ destination: 'nope', clientId: '1001' }));
    await expectError(400, /destination:nope is not defined on this server \(known: example\)/);
    c.send(getPacket({ destination: D, clientId: '1001', fetchSize: 10 }));
    await expectError(400, /clientId:1001 should subscribe to destination:example first/);
    c.send(getPacket({ destination: '', clientId: '1001', fetchSize: 10 }));
    await expectError(401, /destination or clientId is null/);
    c.sendAck(D, 0);
    await expectError(402, /^batchId should assign value/);
    c.sendAck('', 5);
    await expectError(401, /destination or clientId is null/);
    c.sendAck(D, 7);
    await expectError(400, /should subscribe/);
    c.sendRollback('', 0);
    await expectError(401, /destination or clientId is null/);
    c.sendRollback('nope', 0);
    await expectError(400, /destination:nope is not defined/);
    c.send(unsubPacket({ destination: '', clientId: '' }));
    await expectError(401, /destination or clientId is null\. Unsub/);
    for (const [type, name] of [
      [PacketType.HEARTBEAT, 'HEARTBEAT'],
      [PacketType.DUMP, 'DUMP'],
      [PacketType.SHUTDOWN, 'SHUTDOWN'],
      [PacketType.CLIENTAUTHENTICATION, 'CLIENTAUTHENTICATION'],
      [PacketType.ACK, 'ACK'],
      [PacketType.MESSAGES, 'MESSAGES'],
      [0, 'PACKAGETYPECOMPATIBLEPROTO2'],
      [77, 'UNRECOGNIZED(77)'],
    ] as const) {
      c.send(rawPacket(type));
      await expectError(400, new RegExp(`^packet type: ${name.replace(/[()]/g, '\\$&')} is NOT supported!$`));
    }
    // an inner body that does not parse: 400, and the connection goes on (as Canal)
    // field 8 with wire type 7: no such wire type
    c.send(rawPacket(PacketType.SUBSCRIPTION, Buffer.from([0x47, 0x01])));
    await expectError(400, /malformed Sub/);

    assert.deepEqual(await c.subscribe(D), { errorCode: 0, errorMessage: '' });
    c.sendAck(D, 9);
    await expectError(400, /^ack error , clientId:1001 batchId:9 is not exist , please check$/);
    c.sendRollback(D, 9);
    await expectError(400, /^rollback error, clientId:1001 batchId:9 is not exist , please check$/);
    const b = await c.get(D, 100);
    assert.equal(b.batchId, 1);
    assert.deepEqual(summarize(b.entries), ['B', 'I:t:1', 'E']);

    // a destination that is not running: error naming it and its state
    fx.state = { state: 'failed', error: 'binlog binlog.000001 was purged' };
    c.sendGet(D, 10);
    await expectError(400, /destination:example is failed \(binlog binlog\.000001 was purged\)/);
    c.send(subPacket({ destination: D, clientId: '1001' }));
    await expectError(400, /destination:example is failed/);
    fx.state = { state: 'running' };
    c.sendAck(D, 1);
    c.sendGet(D, 10);
    assert.equal((await c.nextMessages()).batchId, -1);
    c.close();
  } finally {
    await fx.stop();
  }
});

test('GET waits: -1 returns at once, 0 blocks until a full batch, >0 returns what is there after the wait', async () => {
  const fx = await startFixture();
  try {
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    await c.subscribe(D);
    assert.deepEqual(await c.get(D, 10, -1), { batchId: -1, entries: [] });
    // timeout 0 and a full batch of 6: the first transaction alone does not answer it
    c.sendGet(D, 6, 0);
    fx.put(items(1, 1));
    await waitFor(() => fx.store.stats().waitingGets === 1, 'the GET to be blocked in the store');
    fx.put(items(2, 1));
    const full = await c.nextMessages();
    assert.deepEqual(summarize(full.entries), ['B', 'I:t:1', 'E', 'B', 'I:t:2', 'E']);
    // positive timeout in seconds (unit 3): returns the partial batch when the wait ends
    fx.put(items(3, 1));
    c.send(getPacket({ destination: D, clientId: '1001', fetchSize: 100, timeout: 1, unit: 3 }));
    const partial = await c.nextMessages();
    assert.deepEqual(summarize(partial.entries), ['B', 'I:t:3', 'E']);
    // fetch size 0 (canal-go) means 1000
    fx.put(items(4, 2));
    c.send(getPacket({ destination: D, clientId: '1001', fetchSize: 0, timeout: -1 }));
    assert.equal((await c.nextMessages()).entries.length, 6);
    c.close();
  } finally {
    await fx.stop();
  }
});

test('narrowing filter: a subscription filter narrows what this client sees; an invalid one is refused', async () => {
  const fx = await startFixture({ narrow: true });
  try {
    fx.put([...items(1, 1, 'keep'), ...items(2, 1, 'drop'), ...items(3, 1, 'keep')]);
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    const bad = await c.subscribe(D, '1001', 'db\\.(');
    assert.equal(bad.errorCode, 400);
    assert.match(bad.errorMessage, /invalid subscription filter "db\\\\\.\(" for destination:example/);
    assert.deepEqual(await c.subscribe(D, '1001', 'db\\.keep'), { errorCode: 0, errorMessage: '' });
    const b = await c.get(D, 100);
    assert.deepEqual(summarize(b.entries), ['B', 'I:keep:1', 'E', 'B', 'E', 'B', 'I:keep:3', 'E']);
    assert.ok(fx.logs.some((l) => l.msg === 'client subscribed' && JSON.stringify(l.obj).includes('narrowed by db\\\\.keep')));
    const subscribed = fx.logs.find((l) => l.msg === 'client subscribed');
    assert.equal((subscribed?.obj as Record<string, unknown> | undefined)?.['destination'], undefined, 'the instance logger carries destination; the line must not repeat it');
    c.close();
  } finally {
    await fx.stop();
  }
});

test('a destination without a narrowing factory refuses a non-empty filter instead of ignoring it', async () => {
  const fx = await startFixture();
  try {
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    const a = await c.subscribe(D, '1001', 'db\\..*');
    assert.equal(a.errorCode, 400);
    assert.match(a.errorMessage, /does not support client filters/);
    c.close();
  } finally {
    await fx.stop();
  }
});

test('auto-subscribe during auth when ClientAuth names destination and client id', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 1));
    const c = await RawClient.connect(fx.port);
    assert.deepEqual(await c.auth('', undefined, { destination: D, clientId: '1001' }), { errorCode: 0, errorMessage: '' });
    assert.equal((await c.get(D, 10)).batchId, 1);
    const d = await RawClient.connect(fx.port);
    const refused = await d.auth('', undefined, { destination: 'nope', clientId: '1001' });
    assert.equal(refused.errorCode, 400);
    assert.match(refused.errorMessage, /destination:nope is not defined/);
    c.close();
    d.close();
  } finally {
    await fx.stop();
  }
});

test('malformed Packet after auth: error ACK, then the connection is closed; pipelined bytes in one write are all handled in order', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 2));
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    // SUB, rollback(0), GET, ACK 1, GET in a single TCP write
    c.sendBytes(
      Buffer.concat([
        encodeFrame(subPacket({ destination: D, clientId: '1001' })),
        encodeFrame(getPacket({ destination: D, clientId: '1001', fetchSize: 3, timeout: -1 })),
        encodeFrame(rawPacket(PacketType.CLIENTACK, Buffer.from('0a076578616d706c6512043130303118' + '01', 'hex'))),
        encodeFrame(getPacket({ destination: D, clientId: '1001', fetchSize: 3, timeout: -1 })),
      ]),
    );
    assert.equal((await c.nextAck()).errorCode, 0);
    assert.equal((await c.nextMessages()).batchId, 1);
    const second = await c.nextMessages();
    assert.equal(second.batchId, 2);
    assert.deepEqual(summarize(second.entries), ['B', 'I:t:2', 'E']);
    // field 6 with wire type 7 does not exist: the Packet itself does not parse
    c.send(Buffer.from([0x37, 0x01]));
    const p = await c.next();
    assert.equal(p.type, PacketType.ACK);
    assert.match(decodeAck(p.body).errorMessage, /malformed Packet/);
    await c.closed;
    await waitFor(() => fx.server.sessionCount === 0, 'the session to be gone');
    // batch 2 was outstanding on that connection: released, it is handed out again
    const d = await RawClient.connect(fx.port);
    await d.auth('', undefined);
    await d.subscribe(D);
    assert.deepEqual(summarize((await d.get(D, 10)).entries), ['B', 'I:t:2', 'E']);
    d.close();
  } finally {
    await fx.stop();
  }
});

test('large entries are written from the store without a copy (gathered write): the client gets every byte, in order, across batches and store reuse', async () => {
  const fx = await startFixture({ store: { maxBytes: 256 * 1024 } });
  try {
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    await c.subscribe(D);
    // Rows of 3-9 KB (each past the 2 KB gather size) between small BEGIN/END entries; several
    // rounds through a 256 KiB store, so acknowledged ring space is written again.
    let n = 1;
    for (let round = 0; round < 6; round++) {
      const list = items(n, 20).map((it, k) => {
        if (it.entryType !== EntryType.ROWDATA) return it;
        it.rowChange!.rowDatas[0]!.afterColumns[0]!.value = String.fromCharCode(65 + (k % 26)).repeat(3000 + ((n + k) % 7) * 1000);
        return it;
      });
      n += 20;
      fx.put(list);
      let got = 0;
      while (got < list.length) {
        const b = await c.get(D, 7);
        for (const e of b.entries) assert.deepEqual(Buffer.from(e), Buffer.from(encodeEntry(list[got++]!)));
        c.sendAck(D, b.batchId);
      }
    }
    c.sendGet(D, 10, -1);
    assert.deepEqual(await c.nextMessages(), { batchId: -1, entries: [] });
    c.close();
  } finally {
    await fx.stop();
  }
});
