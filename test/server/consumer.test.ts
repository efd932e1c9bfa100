// One consumer per destination: a second connection is refused with the holder named, and the
// hold (with its outstanding batches) is released when the holder's connection goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { waitFor } from '../support/sandbox.ts';
import { RawClient } from './support/raw-client.ts';
import { items, startFixture, summarize } from './support/fixture.ts';
import { subPacket, unsubPacket } from '../../src/protocol/packets.ts';
import { StoreDestination } from '../../src/instance/store-destination.ts';
import { EventStore } from '../../src/store/event-store.ts';
import type { StoreItem } from '../../src/store/store-item.ts';

const D = 'example';

test('second subscriber is refused naming the holder; released (and rolled back) when the first disconnects', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 2));
    const first = await RawClient.connect(fx.port);
    await first.auth('', undefined);
    await first.subscribe(D);
    const b1 = await first.get(D, 3);
    assert.deepEqual(summarize(b1.entries), ['B', 'I:t:1', 'E']);
    const localPort = first.socket.localPort;

    const second = await RawClient.connect(fx.port);
    await second.auth('', undefined);
    // its connect-time rollback(0) gets no reply (as from Canal) and leaves the holder's batch alone ...
    second.sendRollback(D, 0);
    // ... and its SUB, the first reply it reads, is refused naming who holds the destination
    const refused = await second.subscribe(D, '2002');
    assert.equal(refused.errorCode, 400);
    assert.match(refused.errorMessage, new RegExp(`destination:example is already consumed by clientId:1001 from 127\\.0\\.0\\.1:${localPort}`));
    second.sendGet(D, 10);
    assert.match((await second.nextAck()).errorMessage, /should subscribe|already consumed/);

    // the same connection re-subscribing is fine
    assert.equal((await first.subscribe(D)).errorCode, 0);

    first.close();
    await waitFor(() => fx.dest.currentHolder() === undefined, 'the hold to be released');
    assert.equal((await second.subscribe(D, '1001')).errorCode, 0);
    // batch 1 was never acked: the new consumer gets it again, from the start
    const again = await second.get(D, 100);
    assert.equal(again.batchId, 2);
    assert.deepEqual(summarize(again.entries), ['B', 'I:t:1', 'E', 'B', 'I:t:2', 'E']);
    assert.equal(fx.dest.currentHolder()?.clientId, '1001');
    second.close();
  } finally {
    await fx.stop();
  }
});

test('one connection cannot consume a destination under two client ids at once', async () => {
  const fx = await startFixture();
  try {
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    await c.subscribe(D, '1001');
    const other = await c.subscribe(D, '1002');
    assert.equal(other.errorCode, 400);
    assert.match(other.errorMessage, /already consumes destination:example as clientId:1001/);
    c.close();
  } finally {
    await fx.stop();
  }
});

test('persisted subscriptions: a reconnecting client is subscribed before SUB, so its rollback(0) and GET work', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 1 << 20, batchMode: 'ITEMSIZE' });
  for (const e of items(1, 1)) store.tryPut(e);
  const dest = new StoreDestination<StoreItem>({ name: D, store, status: () => ({ state: 'running' }), subscriptions: [{ clientId: '1001', filter: '' }] });
  assert.equal(dest.isSubscribed('1001'), true);
  assert.equal(dest.isSubscribed('1002'), false);
  const sub = { clientId: '1001', peer: 'test:1', sessionId: 1 };
  const b = await dest.get(sub, 10, -1, new AbortController().signal);
  assert.equal(b.batchId, 1);
  dest.rollback(sub, 0);
  const again = await dest.get(sub, 10, -1, new AbortController().signal);
  assert.deepEqual(summarize(again.entries), ['B', 'I:t:1', 'E']);
  assert.equal(again.batchId, 2);
  // an unsubscribed client's rollback is a silent no-op
  dest.rollback({ clientId: '1002', peer: 'test:2', sessionId: 2 }, 0);
  dest.release(sub);
  assert.equal(dest.currentHolder(), undefined);
  // a persisted filter that no longer compiles is dropped with a warning, not an exception
  const warnings: string[] = [];
  const d2 = new StoreDestination<StoreItem>({
    name: D,
    store,
    status: () => ({ state: 'running' }),
    subscriptions: [{ clientId: '1001', filter: 'x' }],
    narrow: () => {
      throw new Error('bad regex');
    },
    logger: { info() {}, debug() {}, error() {}, warn: (_o, m) => warnings.push(m ?? '') },
  });
  assert.equal(d2.isSubscribed('1001'), true);
  assert.deepEqual(warnings, ['persisted subscription filter ignored']);
  store.close();
});

test('a retrying destination keeps serving what its store holds; starting and stopped do not', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 1));
    const c = await RawClient.connect(fx.port);
    await c.auth('', undefined);
    fx.state = { state: 'starting' };
    const a = await c.subscribe(D);
    assert.equal(a.errorCode, 400);
    assert.match(a.errorMessage, /destination:example is starting/);
    fx.state = { state: 'retrying', error: 'connection lost' };
    assert.equal((await c.subscribe(D)).errorCode, 0);
    assert.equal((await c.get(D, 10)).batchId, 1);
    fx.state = { state: 'stopped' };
    c.sendGet(D, 10);
    assert.match((await c.nextAck()).errorMessage, /destination:example is stopped/);
    // ack of data already delivered still works in any state, silently
    c.sendAck(D, 1);
    fx.state = { state: 'running' };
    c.sendGet(D, 10);
    assert.equal((await c.nextMessages()).batchId, -1);
    assert.equal(fx.acks.length, 1);
    c.close();
  } finally {
    await fx.stop();
  }
});

// What a second connection sends, and the reply Canal's server gives it: SUB, UNSUB and GET one
// reply each; ACK and ROLLBACK none, except Canal's own errors for a batch id that client does not have.
type Req = { kind: 'sub' | 'unsub' | 'get' } | { kind: 'ack' | 'rollback'; batchId: number };

test('reply pairing: after any sequence of requests from a non-holding connection, each request that expects a reply gets exactly one, in order', async () => {
  const fx = await startFixture();
  try {
    fx.put(items(1, 6));
    const first = await RawClient.connect(fx.port);
    await first.auth('', undefined);
    await first.subscribe(D);
    const b1 = await first.get(D, 3);
    const b2 = await first.get(D, 3);
    assert.deepEqual([b1.batchId, b2.batchId], [1, 2]);
    const holderBatches = [b1.batchId, b2.batchId];

    const req: fc.Arbitrary<Req> = fc.oneof(
      fc.constantFrom<Req>({ kind: 'sub' }, { kind: 'unsub' }, { kind: 'get' }),
      fc.record({ kind: fc.constantFrom('ack' as const, 'rollback' as const), batchId: fc.constantFrom(-1, 0, 1, 2, 3, 77) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(req, { minLength: 1, maxLength: 12 }), async (seq) => {
        const second = await RawClient.connect(fx.port);
        try {
          await second.auth('', undefined);
          // Canal's reply for each request: a pattern for the error, or nothing
          const expected: RegExp[] = [];
          for (const r of seq) {
            switch (r.kind) {
              case 'sub':
                second.send(subPacketFor());
                expected.push(/already consumed by clientId:1001/);
                break;
              case 'unsub':
                second.send(unsubPacketFor());
                expected.push(/already consumed by clientId:1001/);
                break;
              case 'get':
                second.sendGet(D, 10);
                expected.push(/already consumed by clientId:1001/);
                break;
              case 'ack':
                if (r.batchId === 0) {
                  second.sendAck(D, 0);
                  expected.push(/^batchId should assign value/);
                } else {
                  second.sendAck(D, r.batchId);
                  const e = foreignError('ack', r.batchId, holderBatches);
                  if (e) expected.push(e);
                }
                break;
              case 'rollback':
                second.sendRollback(D, r.batchId);
                if (r.batchId !== 0) {
                  const e = foreignError('rollback', r.batchId, holderBatches);
                  if (e) expected.push(e);
                }
                break;
            }
          }
          // a marker whose reply must come last: nothing unsolicited before or after it
          second.send(subPacketFor('2002'));
          expected.push(/already consumed by clientId:1001/);
          for (const [i, pattern] of expected.entries()) {
            const ack = await second.nextAck();
            assert.ok(ack.errorCode > 0, `reply ${i} is an error`);
            assert.match(ack.errorMessage, pattern, `reply ${i} of ${JSON.stringify(seq)}`);
          }
          await assert.rejects(second.next(150), /no packet/);
        } finally {
          second.close();
        }
      }),
      { numRuns: 25 },
    );
    // the holder's batches were not touched by any of it: it acks both in order and reads on
    first.sendAck(D, 1);
    first.sendAck(D, 2);
    const b3 = await first.get(D, 100);
    assert.equal(b3.batchId, 3);
    assert.deepEqual(summarize(b3.entries), ['B', 'I:t:3', 'E', 'B', 'I:t:4', 'E', 'B', 'I:t:5', 'E', 'B', 'I:t:6', 'E']);
    first.close();
  } finally {
    await fx.stop();
  }
});

function subPacketFor(clientId = '1001'): Uint8Array {
  return subPacket({ destination: D, clientId, filter: '' });
}

function unsubPacketFor(): Uint8Array {
  return unsubPacket({ destination: D, clientId: '1001', filter: '' });
}

/** Canal answers ack/rollback(N) only when N is not the client's oldest outstanding batch. */
function foreignError(kind: 'ack' | 'rollback', batchId: number, outstanding: number[]): RegExp | undefined {
  if (kind === 'ack' && batchId === -1) return undefined;
  if (!outstanding.includes(batchId)) return kind === 'ack' ? new RegExp(`^ack error , clientId:1001 batchId:${batchId} is not exist`) : new RegExp(`^rollback error, clientId:1001 batchId:${batchId} is not exist`);
  if (outstanding[0] !== batchId) return new RegExp(`^batchId:${batchId} is not the firstly:${outstanding[0]}$`);
  return undefined;
}
