// The pump with fake sources (plain EventEmitters standing in for parsers) and a real store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { decodeEntry } from '../../src/protocol/entry-codec.ts';
import { EntryType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { Pump } from '../../src/sink/pump.ts';
import { EventStore } from '../../src/store/event-store.ts';
import { getItems, type ReadItem } from '../store/items.ts';
import { begin, end, heartbeat, rows } from './entries.ts';

class FakeSource extends EventEmitter<{ entries: [ParsedEntry[]] }> {
  paused = false;
  pauses = 0;
  resumes = 0;
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
    this.resumes++;
  }
  send(...entries: ParsedEntry[]): void {
    this.emit('entries', entries);
  }
}

/** Takes and acknowledges everything the store holds, returning "file:offset" of each entry in order. */
async function consumeAll(store: EventStore): Promise<string[]> {
  const seen: string[] = [];
  for (let b = await getItems(store, 1000, -1); b !== null; b = await getItems(store, 1000, -1)) {
    for (const i of b.items) seen.push(`${i.position.file}:${i.position.offset}`);
    store.ack(b.id);
  }
  return seen;
}

test('pump: filters, encodes once and stores; the bytes decode to the entry', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 100_000 });
  const pump = new Pump(new EventSink({ include: 'shop\\..*' }), store);
  const src = new FakeSource();
  pump.addSource(src, 'db1');
  src.send(begin({ offset: 1 }), rows({ offset: 2 }, 'shop', 'orders'), rows({ offset: 3 }, 'crm', 'c'), end({ offset: 4 }), heartbeat({ offset: 5 }));
  const b = await getItems(store, 100, -1);
  assert.deepEqual(b!.items.map((i) => i.position.offset), [1, 2, 4]);
  const decoded = decodeEntry(b!.items[1]!.bytes);
  assert.equal(decoded.header.tableName, 'orders');
  assert.equal(decoded.rowChange?.rowDatas[0]?.afterColumns[0]?.value, '2');
  assert.equal(pump.stats()[0]!.lastPosition?.offset, 5, 'the heartbeat moved the position');
  assert.equal(pump.stats()[0]!.lastStoredPosition?.offset, 4);
  pump.close();
});

test('pump: a full store pauses the source and keeps its items; space resumes it; nothing lost, order kept', async () => {
  const store = new EventStore({ maxEntries: 4, maxBytes: 100_000, batchMode: 'ITEMSIZE' });
  const pump = new Pump(new EventSink(), store);
  const src = new FakeSource();
  pump.addSource(src);
  src.send(begin({ offset: 0 }));
  for (let i = 1; i <= 6; i++) src.send(rows({ offset: i }, 'd', 't'));
  src.send(end({ offset: 7 }));
  assert.equal(store.stats().entries, 4);
  assert.ok(src.paused, 'paused while the store is full');
  assert.equal(pump.stats()[0]!.pending, 4);

  const first = await getItems(store, 2, -1);
  assert.ok(src.paused, 'handing out a batch frees nothing');
  store.ack(first!.id);
  assert.equal(store.stats().entries, 4, 'the ack let two queued entries in');
  assert.ok(src.paused, 'two still queued');
  const rest = await consumeAll(store);
  assert.equal(src.paused, false);
  assert.equal(src.resumes, 1);
  assert.deepEqual([...first!.items.map((i) => `${i.position.file}:${i.position.offset}`), ...rest], Array.from({ length: 8 }, (_, k) => `binlog.000001:${k}`));
  assert.equal(pump.stats()[0]!.pending, 0);
});

test('pump: two sources interleave only at transaction boundaries; a transaction still arriving holds nobody up', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 100_000 });
  const pump = new Pump(new EventSink(), store, { skewMs: 0 });
  const a = new FakeSource();
  const b = new FakeSource();
  pump.addSource(a, 'A');
  pump.addSource(b, 'B');
  a.send(begin({ offset: 1, file: 'A' }));
  a.send(rows({ offset: 2, file: 'A' }, 'd', 't'));
  b.send(begin({ offset: 1, file: 'B' }));
  b.send(rows({ offset: 2, file: 'B' }, 'd', 't'));
  b.send(end({ offset: 3, file: 'B' }));
  assert.equal(a.paused, false, 'A keeps reading until its transaction is complete');
  assert.equal(b.paused, false, 'B went to the store: A had only part of a transaction');
  a.send(rows({ offset: 3, file: 'A' }, 'd', 't'));
  a.send(end({ offset: 4, file: 'A' }));
  assert.deepEqual(await consumeAll(store), ['B:1', 'B:2', 'B:3', 'A:1', 'A:2', 'A:3', 'A:4']);
});

test('pump property: random interleavings of three sources keep each order, never split a transaction, lose nothing', async () => {
  // A script of steps: a source emits its next binlog event (which the source does even when
  // paused, as a parser's in-flight events do), or the consumer takes and acknowledges a batch.
  const stepArb = fc.oneof(fc.record({ source: fc.integer({ min: 0, max: 2 }) }), fc.record({ consume: fc.integer({ min: 1, max: 5 }) }));
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }), fc.array(stepArb, { maxLength: 120 }), async (cap, shape, steps) => {
      const store = new EventStore({ maxEntries: cap, maxBytes: 1_000_000, batchMode: 'ITEMSIZE' });
      const pump = new Pump(new EventSink(), store, { skewMs: 0 });
      const names = ['A', 'B', 'C'];
      const sources = names.map(() => new FakeSource());
      sources.forEach((s, k) => pump.addSource(s, names[k]));
      // each source produces transactions of shape[k] rows, forever (never empty: the sink would drop those)
      const next = names.map(() => 0);
      const emit = (k: number): void => {
        const n = next[k]!++;
        const perTxn = shape[k]! + 2;
        const inTxn = n % perTxn;
        const at = { offset: n, file: names[k]! };
        sources[k]!.send(inTxn === 0 ? begin(at) : inTxn === perTxn - 1 ? end(at) : rows(at, 'd', 't'));
      };
      const out: ReadItem[] = [];
      const consume = async (size: number): Promise<void> => {
        const b = await getItems(store, size, -1);
        if (b === null) return;
        out.push(...b.items);
        store.ack(b.id);
      };
      for (const step of steps) {
        if ('source' in step) emit(step.source);
        else await consume(step.consume);
        assert.ok(store.stats().entries <= cap);
      }
      // Let every source finish its current transaction, then drain everything.
      for (let k = 0; k < 3; k++) while (next[k]! % (shape[k]! + 2) !== 0) emit(k);
      for (let guard = 0; guard < 10_000 && (store.stats().entries > 0 || pump.stats().some((s) => s.pending > 0)); guard++) await consume(5);

      for (let k = 0; k < 3; k++) {
        const mine = out.filter((i) => i.position.file === names[k]).map((i) => i.position.offset);
        assert.deepEqual(mine, Array.from({ length: next[k]! }, (_, n) => n), `source ${names[k]}: every entry once, in order`);
        assert.equal(sources[k]!.paused, false, `source ${names[k]} resumed at the end`);
      }
      let open: string | undefined;
      for (const i of out) {
        if (open !== undefined) assert.equal(i.position.file, open, 'a transaction is never split by another source');
        if (i.entryType === EntryType.TRANSACTIONBEGIN) open = i.position.file;
        if (i.entryType === EntryType.TRANSACTIONEND) open = undefined;
      }
      pump.close();
    }),
    { numRuns: 300 },
  );
});

test('pump merge: units go in commit-time order; a unit waits at most skewMs for a quiet live source; a source that is down is not waited for', async () => {
  const store = new EventStore({ maxEntries: 100, maxBytes: 100_000 });
  const pump = new Pump(new EventSink(), store, { skewMs: 200 });
  const a = new FakeSource();
  const b = new FakeSource();
  pump.addSource(a, 'A', { tag: true });
  pump.addSource(b, 'B', { tag: true });
  const t0 = 1_700_000_000_000;
  // B's transaction is older than A's: it goes first although A's arrived first.
  a.send(begin({ offset: 1, file: 'A', ts: t0 + 2000 }), rows({ offset: 2, file: 'A', ts: t0 + 2000 }, 'd', 't'), end({ offset: 3, file: 'A', ts: t0 + 2000 }));
  assert.equal(store.stats().entries, 0, 'A waits: B has shown nothing as recent yet');
  b.send(begin({ offset: 1, file: 'B', ts: t0 + 1000 }), rows({ offset: 2, file: 'B', ts: t0 + 1000 }, 'd', 't'), end({ offset: 3, file: 'B', ts: t0 + 1000 }));
  // B's unit went at once (A's head is newer); A's still waits for B (its watermark is older than A's unit) until the window ends.
  assert.equal(store.stats().entries, 3);
  const started = Date.now();
  for (const deadline = Date.now() + 10_000; store.stats().entries < 6 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  assert.ok(Date.now() - started >= 100, 'A waited for the skew window');
  const b1 = await getItems(store, 100, -1);
  const seen = b1!.items.map((i) => `${i.position.file}:${i.position.offset}`);
  assert.deepEqual(seen, ['B:1', 'B:2', 'B:3', 'A:1', 'A:2', 'A:3']);
  const props = decodeEntry(b1!.items[1]!.bytes).header.props ?? [];
  assert.ok(props.some((p) => p.key === 'source' && p.value === 'B'), 'entries name their source');
  store.ack(b1!.id);
  // B down: A's newer units go without waiting.
  pump.setLive(b, false);
  a.send(begin({ offset: 4, file: 'A', ts: t0 + 9000 }), rows({ offset: 5, file: 'A', ts: t0 + 9000 }, 'd', 't'), end({ offset: 6, file: 'A', ts: t0 + 9000 }));
  assert.equal(store.stats().entries, 3, 'no wait for a source that is down');
  // Held (a group paused on a failure): nothing moves until released.
  pump.setHeld(true);
  a.send(begin({ offset: 7, file: 'A', ts: t0 + 9000 }), end({ offset: 8, file: 'A', ts: t0 + 9000 }));
  assert.equal(store.stats().entries, 3);
  pump.setHeld(false);
  assert.equal(store.stats().entries, 5);
  pump.close();
});
