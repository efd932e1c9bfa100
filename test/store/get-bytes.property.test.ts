// getBytes() is get() without the per-entry StoreItems: on the same history, the same batches
// (ids, ranges, ack positions) with the same entry bytes, whether answered at once or after waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStore, type BatchMode } from '../../src/store/event-store.ts';
import type { StoreItem } from '../../src/store/store-item.ts';
import { item, type Kind } from './items.ts';

type Op = { op: 'put'; kind: Kind; size: number; table: string } | { op: 'get'; size: number; filtered: boolean } | { op: 'ack' } | { op: 'rollback' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), kind: fc.constantFrom<Kind>('begin', 'row', 'end', 'ddl'), size: fc.integer({ min: 1, max: 200 }), table: fc.constantFrom('a', 'b') }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), size: fc.integer({ min: -1, max: 5 }), filtered: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('ack' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rollback' as const) }) },
);

const onlyA = (i: StoreItem): boolean => i.table !== 'b';

function filled(serial: number, kind: Kind, size: number, table: string): StoreItem {
  const it = item(serial, kind, size, table);
  for (let k = 0; k < size; k++) it.bytes[k] = (serial * 13 + k) & 0xff;
  return it;
}

test('getBytes property: the batches of get(), with the same entry bytes, and no StoreItem', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ maxEntries: fc.integer({ min: 1, max: 10 }), maxBytes: fc.integer({ min: 50, max: 1200 }), batchMode: fc.constantFrom<BatchMode>('ITEMSIZE', 'MEMSIZE'), memUnit: fc.integer({ min: 1, max: 150 }), ddlIsolation: fc.boolean() }),
      fc.array(opArb, { maxLength: 60 }),
      async (cfg, ops) => {
        const a = new EventStore(cfg);
        const b = new EventStore(cfg);
        const ids: number[] = [];
        let serial = 0;
        for (const op of ops) {
          if (op.op === 'put') {
            const x = filled(serial, op.kind, op.size, op.table);
            const y = filled(serial, op.kind, op.size, op.table);
            serial++;
            assert.equal(b.tryPut(y), a.tryPut(x));
          } else if (op.op === 'get') {
            const opts = op.filtered ? { filter: onlyA } : {};
            const full = await a.get(op.size, -1, opts);
            const lean = await b.getBytes(op.size, -1, opts);
            if (full === null) {
              assert.equal(lean, null);
              continue;
            }
            assert.ok(lean !== null);
            const { items, ...range } = full;
            const { entries, ...leanRange } = lean;
            assert.deepEqual(leanRange, range);
            assert.deepEqual(
              entries.map((e) => Buffer.from(e)),
              items.map((i) => Buffer.from(i.bytes)),
            );
            assert.ok(!('items' in lean), 'no StoreItems are built');
            ids.push(full.id);
          } else if (op.op === 'ack') {
            const id = ids.shift();
            if (id !== undefined) assert.deepEqual(b.ack(id), a.ack(id));
          } else {
            assert.equal(b.rollback(), a.rollback());
            ids.length = 0;
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('getBytes: a waiting get is answered with bytes once enough is put', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 10_000, batchMode: 'ITEMSIZE' });
  const pending = store.getBytes(3, 0);
  for (let s = 0; s < 3; s++) assert.ok(store.tryPut(filled(s, 'row', 10 + s, 'a')));
  const batch = await pending;
  assert.ok(batch !== null);
  assert.deepEqual(
    batch.entries.map((e) => e.byteLength),
    [10, 11, 12],
  );
  assert.deepEqual(Buffer.from(batch.entries[2]!), Buffer.from(filled(2, 'row', 12, 'a').bytes));
  assert.equal(batch.covered, 3);
});
