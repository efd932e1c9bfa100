// The store's one put, both ways: tryPut(e) (the store encodes the entry into its ring, or into
// the writer's scratch and copies it once) against tryPut(e, encodeEntry(e)) (bytes made once
// for several stores, kept by reference): two stores fed the same random entries under the same
// random puts, gets, acks and rollbacks must refuse the same puts, hand out equal bytes in equal
// batches, and report equal stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { EventStore, type BatchMode } from '../../src/store/event-store.ts';
import { begin, col, ddl, end, heartbeat, rows } from '../sink/entries.ts';

const nameArb = fc.constantFrom('', 'a', 'db', 'schéma', '表');
const valueArb = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 40, maxLength: 700 }));

const entryArb: fc.Arbitrary<(serial: number) => ParsedEntry> = fc
  .record({
    kind: fc.constantFrom('begin', 'row', 'row', 'end', 'ddl', 'heartbeat'),
    schema: nameArb,
    table: nameArb,
    eventType: fc.constantFrom(EventType.INSERT, EventType.UPDATE, EventType.DELETE),
    ddlType: fc.constantFrom(EventType.CREATE, EventType.ALTER, EventType.RENAME, EventType.QUERY),
    alsoNames: fc.option(fc.array(fc.constantFrom('db.x', 'db.y'), { maxLength: 2 }), { nil: undefined }),
    values: fc.array(valueArb, { minLength: 1, maxLength: 4 }),
    gtid: fc.constantFrom('', '0-1-5'),
    gtidSet: fc.constantFrom('', '0-1-5', '0-1-5,1-2-3'),
    ts: fc.integer({ min: 0, max: 2 ** 41 }),
  })
  .map((r) => (serial: number): ParsedEntry => {
    const at = { offset: serial, ts: r.ts };
    let e: ParsedEntry;
    if (r.kind === 'begin') e = begin(at);
    else if (r.kind === 'end') e = end(at);
    else if (r.kind === 'heartbeat') e = heartbeat(at);
    else if (r.kind === 'ddl') e = ddl(at, r.schema, r.table, r.ddlType, `ALTER TABLE ${r.table}`, r.alsoNames);
    else e = rows(at, r.schema, r.table, r.eventType, r.values.map((v, i) => col(i, `c${i}`, v)));
    e.position = { ...e.position, gtid: r.gtid, gtidSet: r.gtidSet };
    return e;
  });

type Op = { op: 'put'; entry: (serial: number) => ParsedEntry } | { op: 'get'; size: number } | { op: 'ack' } | { op: 'rollback' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: entryArb.map((entry) => ({ op: 'put' as const, entry })) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), size: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 3, arbitrary: fc.constant({ op: 'ack' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'rollback' as const }) },
);

const configArb = fc.record({
  maxEntries: fc.integer({ min: 1, max: 12 }),
  maxBytes: fc.integer({ min: 50, max: 3000 }),
  batchMode: fc.constantFrom<BatchMode>('ITEMSIZE', 'MEMSIZE'),
  memUnit: fc.integer({ min: 1, max: 200 }),
  ddlIsolation: fc.boolean(),
});

test('tryPut(e) equals tryPut(e, encodeEntry(e)): same refusals, bytes, batches and stats', async () => {
  await fc.assert(
    fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 80 }), async (cfg, ops) => {
      const viaItem = new EventStore(cfg);
      const direct = new EventStore(cfg);
      const outstanding: number[] = [];
      let serial = 0;
      for (const op of ops) {
        if (op.op === 'put') {
          const e = op.entry(serial++);
          const a = viaItem.tryPut(e, encodeEntry(e));
          const b = direct.tryPut(e);
          assert.equal(b, a, `put #${serial - 1} accepted by one store only`);
        } else if (op.op === 'get') {
          const a = await viaItem.getBytes(op.size, -1);
          const b = await direct.getBytes(op.size, -1);
          // The same batch; its bytes equal whatever holds them (a shared Buffer, a view of the ring).
          const plain = (x: typeof a) => (x === null ? null : { ...x, entries: x.entries.map((e) => Buffer.from(e)) });
          assert.deepEqual(plain(b), plain(a));
          if (a !== null) outstanding.push(a.id);
        } else if (op.op === 'ack') {
          const id = outstanding.shift();
          if (id !== undefined) assert.deepEqual(direct.ack(id), viaItem.ack(id));
        } else {
          outstanding.length = 0;
          assert.equal(direct.rollback(), viaItem.rollback());
        }
        assert.deepEqual(direct.stats(), viaItem.stats());
      }
    }),
    { numRuns: 300 },
  );
});

test('tryPut stores exactly encodeEntry’s bytes, in the ring and in an entry larger than the ring', async () => {
  const store = new EventStore({ maxEntries: 10, maxBytes: 120 });
  const small = rows({ offset: 1 }, 'db', 't', EventType.INSERT, [col(0, 'id', '1')]);
  const large = rows({ offset: 2 }, 'db', 't', EventType.INSERT, [col(0, 'v', 'x'.repeat(500))]);
  assert.ok(store.tryPut(small));
  const first = await store.getBytes(10, -1);
  assert.deepEqual(first?.entries.map((b) => Buffer.from(b)), [Buffer.from(encodeEntry(small))]);
  store.ack(first!.id);
  assert.ok(store.tryPut(large), 'an entry larger than maxBytes passes into an empty store');
  assert.equal(store.tryPut(small), false, 'nothing more fits beside it');
  const second = await store.getBytes(10, -1);
  assert.deepEqual(second?.entries.map((b) => Buffer.from(b)), [Buffer.from(encodeEntry(large))]);
});

// Entries much larger than the first in-place window's margin (batched rows): the first ones
// outgrow their windows and are moved, later ones find room; every one is encodeEntry's bytes.
test('tryPut keeps large entries byte for byte in a full-size ring, across windows and wraps', async () => {
  const store = new EventStore({ maxEntries: 1000, maxBytes: 4 * 1024 * 1024, batchMode: 'ITEMSIZE' });
  const sizes = [150_000, 90_000, 300_000, 20, 700_000, 250_000, 60_000, 1_200_000, 5, 400_000];
  // the last few batches stay unacknowledged, so the ring wraps instead of starting over
  const held: { id: number; k: number; bytes: Uint8Array; expected: Buffer }[] = [];
  for (let k = 0; k < 120; k++) {
    const n = sizes[k % sizes.length]!;
    const e = rows({ offset: k }, 'db', 't', EventType.INSERT, [col(0, 'id', String(k)), col(1, 'v', String.fromCharCode(97 + (k % 26)).repeat(n))]);
    while (held.length > 0 && store.stats().bytes + n > 1.5 * 1024 * 1024) store.ack(held.shift()!.id);
    assert.ok(store.tryPut(e), `entry ${k}`);
    const b = await store.getBytes(1, -1);
    assert.ok(b !== null && b.entries.length === 1);
    held.push({ id: b.id, k, bytes: b.entries[0]!, expected: Buffer.from(encodeEntry(e)) });
    // every held entry is intact after the newest was written
    for (const h of held) assert.deepEqual(Buffer.from(h.bytes), h.expected, `entry ${h.k} after entry ${k}`);
  }
});
