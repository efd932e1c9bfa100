// Random sequences of put, get, ack and rollback against a simple model of what the store owes
// its consumer: every entry in put order, each exactly once between rollbacks, within bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ParsedEntry } from '../../src/protocol/entry-model.ts';
import { EventStore, StoreError, type BatchMode } from '../../src/store/event-store.ts';
import { isIsolatedDdl } from '../../src/store/store-item.ts';
import { padded, readItem, serials, type Kind } from './items.ts';

type Op =
  | { op: 'put'; kind: Kind; pad: number; table: string; shared: boolean }
  | { op: 'get'; size: number; filtered: boolean }
  | { op: 'ack'; pick: 'oldest' | 'newest' | 'other' | 'zero' }
  | { op: 'rollback'; pick: 'all' | 'oldest' | 'newest' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), kind: fc.constantFrom<Kind>('begin', 'row', 'row', 'end', 'ddl'), pad: fc.integer({ min: 0, max: 280 }), table: fc.constantFrom('a', 'b'), shared: fc.boolean() }) },
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

/** One entry put: what the store was given, and what it must hand out. */
interface Put {
  entry: ParsedEntry;
  /** the entry's encoding; also given to the store when `shared` */
  bytes: Uint8Array;
  shared: boolean;
  table: string;
  boundary: boolean;
}

const onlyA = (i: { table: string }): boolean => i.table !== 'b';

/** Entries whose bytes differ per serial; some are given to the store encoded (shared), the others it encodes into its ring. */
function makePut(serial: number, kind: Kind, pad: number, table: string, shared: boolean): Put {
  const [entry, bytes] = padded(serial, kind, pad, `${table}${serial % 7}`);
  // A RENAME-like entry also concerns another table; other entries carry their own GTIDs.
  if (kind === 'ddl' && table === 'b') entry.alsoNames = ['db.c'];
  entry.position = { ...entry.position, gtid: `0-1-${serial}`, gtidSet: `0-1-${serial}`, timestamp: 1_700_000_000_000 + serial * 1000 };
  return { entry, bytes, shared, table: entry.header.tableName ?? '', boundary: kind === 'end' || kind === 'ddl' };
}

/** What a batch handed out must still say until its ack: each entry's bytes, compared with what was put. */
function assertIntact(views: readonly Uint8Array[], puts: readonly Put[]): void {
  assert.equal(views.length, puts.length);
  for (let k = 0; k < views.length; k++) {
    if (!Buffer.from(views[k]!).equals(Buffer.from(puts[k]!.bytes))) assert.fail(`entry ${puts[k]!.entry.position.offset} (${puts[k]!.bytes.byteLength} bytes) was overwritten before its ack`);
  }
}

test('store property: nothing lost, bytes intact until acked, order kept, unacked entries come again after rollback, bounds hold, ack errors name the expected batch', async () => {
  await fc.assert(
    fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 80 }), async (cfg, ops) => {
      const store = new EventStore(cfg);
      const all: Put[] = []; // every entry the store accepted, in put order
      const waiting: Put[] = []; // refused by a full store, kept by the "parser" in order
      const outstanding: { id: number; from: number; to: number; views: Uint8Array[]; shown: Put[] }[] = [];
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
        for (const b of outstanding) assertIntact(b.views, b.shown);
      };
      // The store must refuse exactly when the entry does not fit: bounds are exact, not approximate.
      const putWaiting = (): void => {
        while (waiting.length > 0) {
          const next = waiting[0]!;
          const held = all.slice(acked);
          const bytes = held.reduce((n, i) => n + i.bytes.byteLength, 0);
          const fits = held.length < cfg.maxEntries && (held.length === 0 || bytes + next.bytes.byteLength <= cfg.maxBytes);
          assert.equal(store.tryPut(next.entry, next.shared ? next.bytes : undefined), fits, `put of ${next.bytes.byteLength} bytes beside ${held.length} entries / ${bytes} bytes`);
          if (!fits) break;
          all.push(waiting.shift()!);
        }
      };
      const ackOldest = (): void => {
        const b = outstanding.shift()!;
        const range = store.ack(b.id);
        assert.equal(range?.covered, b.to - b.from);
        for (let k = b.from; k < b.to; k++) delivered.push(all[k]!.entry.position.offset);
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
          waiting.push(makePut(serial++, op.kind, op.pad, op.table, op.shared));
          putWaiting();
        } else if (op.op === 'get') {
          const filter = op.filtered ? onlyA : undefined;
          const b = await store.getBytes(op.size, -1, filter ? { filter } : {});
          if (cursor === all.length) {
            assert.equal(b, null);
            continue;
          }
          assert.ok(b !== null);
          const covered = all.slice(cursor, cursor + b.covered);
          assert.equal(b.covered, covered.length, 'covers only entries that exist');
          const items = b.entries.map(readItem);
          const shown = filter ? covered.filter(filter) : covered;
          assert.deepEqual(serials(items), shown.map((p) => p.entry.position.offset), 'batch continues exactly at the get cursor');
          assertIntact(b.entries, shown);
          const size = op.size > 0 ? op.size : 1000;
          if (cfg.batchMode === 'ITEMSIZE') assert.ok(items.length <= size);
          else assert.ok(items.slice(0, -1).reduce((n, i) => n + i.bytes.byteLength, 0) <= size * cfg.memUnit);
          if (cfg.ddlIsolation && items.some(isIsolatedDdl)) assert.equal(items.length, 1);
          const lastBoundary = [...covered].reverse().find((i) => i.boundary);
          assert.deepEqual(b.ackPosition, lastBoundary?.entry.position, 'the ack position is the last boundary covered, as it was put');
          assert.deepEqual(b.end, covered.at(-1)!.entry.position);
          assert.equal(b.id, ++lastId, 'batch ids count up from 1, one per non-empty get');
          outstanding.push({ id: b.id, from: cursor, to: cursor + b.covered, views: b.entries, shown });
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
        const b = await store.getBytes(1000, -1);
        if (b === null) break;
        assert.equal(b.id, ++lastId);
        const shown = all.slice(cursor, cursor + b.covered);
        assertIntact(b.entries, shown);
        outstanding.push({ id: b.id, from: cursor, to: cursor + b.covered, views: b.entries, shown });
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
