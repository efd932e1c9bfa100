// A get that waits is answered with the bytes of the entries put meanwhile, once its batch is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStore } from '../../src/store/event-store.ts';
import { item, readItem, serials } from './items.ts';

test('getBytes: a waiting get is answered with bytes once enough is put', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  const pending = store.getBytes(3, 0);
  const put = [item(0, 'row', 40, 'a'), item(1, 'row', 41, 'a'), item(2, 'row', 42, 'a')];
  assert.ok(store.tryPut(...put[0]!));
  assert.ok(store.tryPut(put[1]![0]));
  assert.equal(store.stats().waitingGets, 1, 'two of three: still waiting');
  assert.ok(store.tryPut(...put[2]!));
  const batch = await pending;
  assert.ok(batch !== null);
  assert.deepEqual(
    batch.entries.map((e) => e.byteLength),
    [40, 41, 42],
  );
  assert.deepEqual(serials(batch.entries.map(readItem)), [0, 1, 2]);
  assert.deepEqual(Buffer.from(batch.entries[1]!), Buffer.from(put[1]![1]), 'the entry the store encoded itself');
  assert.equal(batch.covered, 3);
});
