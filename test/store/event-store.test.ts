import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStore, StoreError } from '../../src/store/event-store.ts';
import { getItems, item, serials } from './items.ts';

function txn(store: EventStore, first: number, rows: number, size?: number): number {
  let s = first;
  assert.ok(store.tryPut(...item(s++, 'begin', size)));
  for (let i = 0; i < rows; i++) assert.ok(store.tryPut(...item(s++, 'row', size)));
  assert.ok(store.tryPut(...item(s++, 'end', size)));
  return s;
}

test('store: batch ids start at 1, several batches outstanding, ack position is the last boundary in the batch', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  txn(store, 0, 3); // serials 0..4
  const b1 = await getItems(store, 3, -1);
  const b2 = await getItems(store, 3, -1);
  assert.equal(b1?.id, 1);
  assert.equal(b2?.id, 2);
  assert.deepEqual(serials(b1!.items), [0, 1, 2]);
  assert.equal(b1!.ackPosition, undefined, 'a batch inside a transaction has no boundary');
  assert.deepEqual(serials(b2!.items), [3, 4]);
  assert.equal(b2!.ackPosition?.offset, 4);
  assert.equal(await getItems(store, 3, -1), null, 'nothing unread: empty result, no id spent');
  assert.equal(store.stats().outstandingBatches, 2);
  assert.equal(store.stats().nextBatchId, 3);
});

test('store: ack must name the oldest batch; errors use Canal wording and name the expected id', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  txn(store, 0, 4);
  await getItems(store, 2, -1);
  await getItems(store, 2, -1);
  assert.throws(() => store.ack(2), (e: unknown) => e instanceof StoreError && e.message.startsWith('batchId:2 is not the firstly:1') && e.expected === 1 && e.code === 400);
  assert.throws(() => store.ack(9), (e: unknown) => e instanceof StoreError && /^batchId:9 is not exist; the oldest outstanding batch is batchId:1$/.test(e.message));
  assert.throws(() => store.ack(0), (e: unknown) => e instanceof StoreError && e.code === 402 && e.message.includes('batchId:1'));
  assert.equal(store.ack(-1), undefined, '-1 is ignored');
  assert.equal(store.ack(1)?.id, 1);
  assert.equal(store.ack(2)?.id, 2);
  assert.throws(() => store.ack(2), /batchId:2 is not exist; no batch is outstanding/);
  assert.equal(store.stats().entries, 2, 'four of six entries were released');
});

test('store: rollback(N) drops N and every newer batch and rewinds to the ack cursor; ids keep growing', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  txn(store, 0, 4); // 0..5
  await getItems(store, 2, -1); // 1: 0,1
  store.ack(1);
  await getItems(store, 2, -1); // 2: 2,3
  await getItems(store, 2, -1); // 3: 4,5
  assert.throws(() => store.rollback(3), /batchId:3 is not the firstly:2/);
  assert.equal(store.rollback(2), 2);
  assert.equal(store.stats().outstandingBatches, 0);
  const again = await getItems(store, 10, -1);
  assert.equal(again?.id, 4);
  assert.deepEqual(serials(again!.items), [2, 3, 4, 5]);
  assert.equal(store.rollback(), 1, 'rollback of everything');
  assert.deepEqual(serials((await getItems(store, 10, -1))!.items), [2, 3, 4, 5]);
  assert.equal(store.rollback(-1), 0, '-1 ignored');
});

test('store: bounded by count and by bytes; a single oversize entry passes alone; acks emit space', async () => {
  const store = new EventStore({ maxEntries: 3, maxBytes: 250, batchMode: 'ITEMSIZE' });
  let spaces = 0;
  store.on('space', () => spaces++);
  assert.ok(store.tryPut(...item(0, 'row', 100)));
  assert.ok(store.tryPut(...item(1, 'row', 100)));
  assert.equal(store.tryPut(...item(2, 'row', 100)), false, 'bytes bound');
  assert.ok(store.tryPut(...item(2, 'row', 50)));
  assert.equal(store.tryPut(...item(3, 'row')), false, 'count bound');
  const b = await getItems(store, 10, -1);
  store.ack(b!.id);
  assert.equal(spaces, 1);
  assert.ok(store.tryPut(...item(3, 'row', 500)), 'oversize entry into an empty store');
  assert.equal(store.tryPut(...item(4, 'row')), false, 'nothing beside the oversize entry');
  assert.deepEqual(store.stats().bytes, 500);
});

test('store: MEMSIZE takes entries while bytes so far ≤ fetchSize × memUnit (one entry of overshoot), at least one', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 100_000, batchMode: 'MEMSIZE', memUnit: 100 });
  for (let i = 0; i < 10; i++) assert.ok(store.tryPut(...item(i, 'row', 60)));
  const b = await getItems(store, 2, -1); // budget 200 bytes: 60,120,180 ≤ 200 then one more -> 240
  assert.deepEqual(serials(b!.items), [0, 1, 2, 3]);
  const big = new EventStore({ maxEntries: 100, maxBytes: 100_000, batchMode: 'MEMSIZE', memUnit: 1 });
  big.tryPut(...item(0, 'row', 5000));
  assert.equal((await getItems(big, 1, -1))!.items.length, 1);
});

test('store: fetch size ≤ 0 means 1000', async () => {
  const store = new EventStore({ maxEntries: 5000, maxBytes: 1_000_000, batchMode: 'ITEMSIZE' });
  for (let i = 0; i < 1500; i++) store.tryPut(...item(i, 'row'));
  assert.equal((await getItems(store, 0, -1))!.items.length, 1000);
  assert.equal((await getItems(store, -3, -1))!.items.length, 500);
});

test('store: DDL isolation puts each DDL alone and stops a batch before a DDL', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE', ddlIsolation: true });
  let s = txn(store, 0, 1); // 0,1,2
  store.tryPut(...item(s++, 'ddl')); // 3
  store.tryPut(...item(s++, 'ddl')); // 4
  txn(store, s, 1); // 5,6,7
  const got: number[][] = [];
  for (let b = await getItems(store, 100, -1); b !== null; b = await getItems(store, 100, -1)) got.push(serials(b.items));
  assert.deepEqual(got, [[0, 1, 2], [3], [4], [5, 6, 7]]);
});

test('store: get-time filter skips items but the batch covers them, so they are acked with it', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  store.tryPut(...item(0, 'begin'));
  store.tryPut(...item(1, 'row', undefined, 'hidden'));
  store.tryPut(...item(2, 'row', undefined, 'shown'));
  store.tryPut(...item(3, 'row', undefined, 'hidden'));
  store.tryPut(...item(4, 'end'));
  const b = await getItems(store, 100, -1, { filter: (i) => i.table !== 'hidden' });
  assert.deepEqual(serials(b!.items), [0, 2, 4]);
  assert.equal(b!.covered, 5);
  store.ack(b!.id);
  assert.equal(store.stats().entries, 0);
});

test('store: a blocked get is woken by puts once the batch is full, and aborts through its signal', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  const pending = getItems(store, 3, 0);
  store.tryPut(...item(0, 'row'));
  store.tryPut(...item(1, 'row'));
  assert.equal(store.stats().waitingGets, 1, 'two of three: still waiting');
  store.tryPut(...item(2, 'row'));
  assert.deepEqual(serials((await pending)!.items), [0, 1, 2]);

  const ac = new AbortController();
  const blocked = getItems(store, 5, 0, { signal: ac.signal });
  ac.abort(new Error('client went away'));
  await assert.rejects(blocked, /client went away/);
  assert.equal(store.stats().waitingGets, 0);
});

test('store: a positive timeout returns what is there, possibly nothing', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  assert.equal(await getItems(store, 5, 20), null);
  store.tryPut(...item(0, 'row'));
  assert.deepEqual(serials((await getItems(store, 5, 20))!.items), [0]);
});

test('store: a blocked get returns a partial batch when the store is full and cannot grow', async () => {
  const store = new EventStore({ maxEntries: 4, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  const pending = getItems(store, 10, 0);
  for (let i = 0; i < 4; i++) store.tryPut(...item(i, 'row'));
  assert.equal(store.tryPut(...item(4, 'row')), false);
  assert.deepEqual(serials((await pending)!.items), [0, 1, 2, 3]);
});

test('store: a rollback wakes a blocked get with the rewound entries', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  txn(store, 0, 1);
  await getItems(store, 3, -1);
  const pending = getItems(store, 3, 0);
  assert.equal(store.stats().waitingGets, 1);
  store.rollback();
  const b = await pending;
  assert.equal(b!.id, 2);
  assert.deepEqual(serials(b!.items), [0, 1, 2]);
});

test('store: close answers waiting gets with nothing and refuses puts', async () => {
  const store = new EventStore({ maxEntries: 10, maxBytes: 10_000 });
  const pending = getItems(store, 3, 0);
  store.close('instance stopping');
  assert.equal(await pending, null);
  assert.equal(store.tryPut(...item(0, 'row')), false);
  await assert.rejects(getItems(store, 1, -1), /instance stopping/);
});

test('store: options are checked and name the option', () => {
  assert.throws(() => new EventStore({ maxEntries: 0, maxBytes: 1 }), /maxEntries must be a positive integer, got 0/);
  assert.throws(() => new EventStore({ maxEntries: 1, maxBytes: 1, batchMode: 'BYTES' as 'MEMSIZE' }), /batchMode must be ITEMSIZE or MEMSIZE/);
});
