// Random sequences of put, get, ack and rollback against a simple model of what the store owes
// its consumer: every entry in put order, each exactly once between rollbacks, within bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStore, StoreError, type BatchMode } from '../../src/store/event-store.ts';
import { isIsolatedDdl, type StoreItem } from '../../src/store/store-item.ts';
import { item, serials, type Kind } from './items.ts';

type Op =
  | { op: 'put'; kind: Kind; size: number; table: string }
  | { op: 'get'; size: number; filtered: boolean }
  | { op: 'ack'; pick: 'oldest' | 'newest' | 'other' | 'zero' }
  | { op: 'rollback'; pick: 'all' | 'oldest' | 'newest' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), kind: fc.constantFrom<Kind>('begin', 'row', 'row', 'end', 'ddl'), size: fc.integer({ min: 1, max: 300 }), table: fc.constantFrom('a', 'b') }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), size: fc.integer({ min: -1, max: 6 }), filtered: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('ack' as const), pick: fc.constantFrom('oldest' as const, 'oldest' as const, 'newest' as const, 'other' as const, 'zero' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rollback' as const), pick: fc.constantFrom('all' as const, 'oldest' as const, 'newest' as const) }) },
);

const configArb = fc.record({
  maxEntries: fc.integer({ min: 1, max: 12 }),
  maxBytes: fc.integer({ min: 50, max: 1500 }),
  batchMode: fc.constantFrom<BatchMode>('ITEMSIZE', 'MEMSIZE'),
  memUnit: fc.integer({ min: 1, max: 200 }),
  ddlIsolation: fc.boolean(),
});

const onlyA = (i: StoreItem): boolean => i.table !== 'b';

/** Bytes that differ per entry and per offset, so an entry overwritten in the store's block shows. */
function patterned(serial: number, kind: Kind, size: number, table: string): StoreItem {
  const it = item(serial, kind, size, table);
  for (let k = 0; k < size; k++) it.bytes[k] = (serial * 31 + k * 7) & 0xff;
  // A RENAME-like entry also concerns another table; other entries carry their own GTIDs.
  if (kind === 'ddl' && table === 'b') it.alsoNames = ['db.c'];
  it.position = { ...it.position, gtid: `0-1-${serial}`, gtidSet: `0-1-${serial}`, timestamp: 1_700_000_000_000 + serial * 1000 };
  return it;
}

/** An item as a value: the store hands out equal items, not the objects it was given. */
const asValue = (i: StoreItem): object => ({ ...i, position: { ...i.position }, bytes: Buffer.from(i.bytes) });

function assertIntact(items: readonly StoreItem[]): void {
  for (const it of items) {
    const serial = it.position.offset;
    for (let k = 0; k < it.bytes.byteLength; k++) {
      if (it.bytes[k] !== ((serial * 31 + k * 7) & 0xff)) assert.fail(`entry ${serial} (${it.bytes.byteLength} bytes) was overwritten at byte ${k} before its ack`);
    }
  }
}

test('store property: nothing lost, bytes intact until acked, order kept, unacked entries come again after rollback, bounds hold, ack errors name the expected batch', async () => {
  await fc.assert(
    fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 80 }), async (cfg, ops) => {
      const store = new EventStore(cfg);
      const all: StoreItem[] = []; // every item the store accepted, in put order
      const waiting: StoreItem[] = []; // refused by a full store, kept by the "parser" in order
      const outstanding: { id: number; from: number; to: number }[] = [];
      let acked = 0; // model ack cursor (index into all)
      let cursor = 0; // model get cursor
      let serial = 0;
      let lastId = 0;
      const delivered: number[] = []; // serials of entries acknowledged, in ack order

      const checkBounds = (): void => {
        const s = store.stats();
        assert.equal(s.entries, all.length - acked);
        assert.ok(s.entries <= cfg.maxEntries, `count ${s.entries} > ${cfg.maxEntries}`);
        assert.ok(s.bytes <= cfg.maxBytes || s.entries === 1, `bytes ${s.bytes} > ${cfg.maxBytes} with ${s.entries} entries`);
        assert.equal(s.bytes, all.slice(acked).reduce((n, i) => n + i.bytes.byteLength, 0));
        assertIntact(all.slice(acked));
      };
      // The store must refuse exactly when the entry does not fit: bounds are exact, not approximate.
      const putWaiting = (): void => {
        while (waiting.length > 0) {
          const next = waiting[0]!;
          const held = all.slice(acked);
          const bytes = held.reduce((n, i) => n + i.bytes.byteLength, 0);
          const fits = held.length < cfg.maxEntries && (held.length === 0 || bytes + next.bytes.byteLength <= cfg.maxBytes);
          assert.equal(store.tryPut(next), fits, `put of ${next.bytes.byteLength} bytes beside ${held.length} entries / ${bytes} bytes`);
          if (!fits) break;
          all.push(waiting.shift()!);
        }
      };
      const ackOldest = (): void => {
        const b = outstanding.shift()!;
        const range = store.ack(b.id);
        assert.equal(range?.covered, b.to - b.from);
        for (let k = b.from; k < b.to; k++) delivered.push(all[k]!.position.offset);
        acked = b.to;
      };
      const expectError = (fn: () => unknown, id: number): void => {
        const oldest = outstanding[0]?.id;
        assert.throws(fn, (e: unknown) => {
          assert.ok(e instanceof StoreError, String(e));
          assert.equal(e.expected, oldest);
          if (oldest !== undefined) assert.match(e.message, new RegExp(`(firstly|batchId):${oldest}\\b`));
          assert.ok(e.message.includes(`batchId:${id}`) || id === 0);
          return true;
        });
      };

      for (const op of ops) {
        if (op.op === 'put') {
          waiting.push(patterned(serial++, op.kind, op.size, op.table));
          putWaiting();
        } else if (op.op === 'get') {
          const filter = op.filtered ? onlyA : undefined;
          const b = await store.get(op.size, -1, filter ? { filter } : {});
          if (cursor === all.length) {
            assert.equal(b, null);
            continue;
          }
          assert.ok(b !== null);
          const covered = all.slice(cursor, cursor + b.covered);
          assert.equal(b.covered, covered.length, 'covers only entries that exist');
          assert.deepEqual(serials(b.items), serials(filter ? covered.filter(filter) : covered), 'batch continues exactly at the get cursor');
          assertIntact(b.items);
          assert.deepEqual(b.items.map(asValue), (filter ? covered.filter(filter) : covered).map(asValue), 'items handed out equal the items put');
          const size = op.size > 0 ? op.size : 1000;
          if (cfg.batchMode === 'ITEMSIZE') assert.ok(b.items.length <= size);
          else assert.ok(b.items.slice(0, -1).reduce((n, i) => n + i.bytes.byteLength, 0) <= size * cfg.memUnit);
          if (cfg.ddlIsolation && b.items.some(isIsolatedDdl)) assert.equal(b.items.length, 1);
          const lastBoundary = [...covered].reverse().find((i) => i.boundary);
          assert.equal(b.ackPosition?.offset, lastBoundary?.position.offset);
          assert.equal(b.id, ++lastId, 'batch ids count up from 1, one per non-empty get');
          outstanding.push({ id: b.id, from: cursor, to: cursor + b.covered });
          cursor += b.covered;
        } else if (op.op === 'ack') {
          const oldest = outstanding[0];
          if (op.pick === 'zero') {
            assert.throws(() => store.ack(0), (e: unknown) => e instanceof StoreError && e.code === 402);
          } else if (op.pick === 'oldest' && oldest !== undefined) {
            ackOldest();
            putWaiting();
          } else if (op.pick === 'newest' && outstanding.length > 1) {
            const id = outstanding.at(-1)!.id;
            expectError(() => store.ack(id), id);
          } else {
            const id = store.stats().nextBatchId + 5;
            expectError(() => store.ack(id), id);
          }
        } else {
          const oldest = outstanding[0];
          if (op.pick === 'newest' && outstanding.length > 1) {
            const id = outstanding.at(-1)!.id;
            expectError(() => store.rollback(id), id);
            continue;
          }
          assert.equal(op.pick === 'oldest' && oldest !== undefined ? store.rollback(oldest.id) : store.rollback(), outstanding.length);
          outstanding.length = 0;
          cursor = acked;
        }
        checkBounds();
      }

      // Drain: roll back, then take and acknowledge everything, refilling as acks free space.
      store.rollback();
      outstanding.length = 0;
      cursor = acked;
      for (;;) {
        putWaiting();
        const b = await store.get(1000, -1);
        if (b === null) break;
        assert.equal(b.id, ++lastId);
        assertIntact(b.items);
        outstanding.push({ id: b.id, from: cursor, to: cursor + b.covered });
        cursor += b.covered;
        ackOldest();
        checkBounds();
      }
      assert.equal(waiting.length, 0, 'the store took every entry once consumers acked');
      assert.deepEqual(delivered, Array.from({ length: serial }, (_, k) => k), 'every entry acknowledged once, in put order');
    }),
    { numRuns: 400 },
  );
});
