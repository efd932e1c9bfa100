// The pump over the store's one put, both ways: entries the store encodes itself against entries
// whose sources say they are shared (encoded once, kept by reference, as destinations on one
// reader do): the same random script of one or three sources emitting batches (one source: put as
// they arrive while the store has room, else queued; three: merged) and a consumer taking batches
// must leave the same entries in the same order with the same bytes, and the same pauses, resumes
// and pump stats at every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import type { ParsedEntry } from '../../src/protocol/entry-model.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { Pump } from '../../src/sink/pump.ts';
import { EventStore } from '../../src/store/event-store.ts';
import { begin, end, heartbeat, rows } from './entries.ts';

class FakeSource extends EventEmitter<{ entries: [ParsedEntry[]] }> {
  pauses = 0;
  resumes = 0;
  constructor(private readonly shared: boolean) {
    super();
  }
  entriesShared(): boolean {
    return this.shared;
  }
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
}

interface Rig {
  store: EventStore;
  pump: Pump;
  sources: FakeSource[];
  out: string[];
}

function rig(cap: number, maxBytes: number, shared: boolean, count: number): Rig {
  const store = new EventStore({ maxEntries: cap, maxBytes, batchMode: 'ITEMSIZE' });
  const pump = new Pump(new EventSink(), store);
  const sources = Array.from({ length: count }, () => new FakeSource(shared));
  sources.forEach((s, k) => pump.addSource(s, `s${k}`));
  return { store, pump, sources, out: [] };
}

async function consume(r: Rig, size: number): Promise<void> {
  const b = await r.store.getBytes(size, -1);
  if (b === null) return;
  b.entries.forEach((bytes, i) => r.out.push(`${i}:${Buffer.from(bytes).toString('hex')}`));
  r.store.ack(b.id);
}

const stepArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ source: fc.integer({ min: 0, max: 2 }), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ consume: fc.integer({ min: 1, max: 5 }) }) },
);

test('pump property: shared encodings are put, paused and resumed exactly as entries the store encodes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 200, max: 3000 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
      fc.array(stepArb, { maxLength: 100 }),
      fc.constantFrom(1, 3),
      async (cap, maxBytes, shape, steps, count) => {
        const rigs = [rig(cap, maxBytes, false, count), rig(cap, maxBytes, true, count)];
        const next = [0, 0, 0];
        // Source k's n-th binlog event: transactions of shape[k] rows (0: an empty one the sink drops), heartbeats between.
        const entry = (k: number, n: number): ParsedEntry => {
          const perTxn = shape[k]! + 3;
          const i = n % perTxn;
          const at = { offset: n, file: `f${k}` };
          if (i === 0) return heartbeat(at);
          if (i === 1) return begin(at);
          if (i === perTxn - 1) return end(at);
          return rows(at, 'd', `t${k}`);
        };
        for (const step of steps) {
          if ('source' in step) {
            const k = step.source % count;
            const batch = Array.from({ length: step.count }, () => next[k]!++);
            for (const r of rigs) r.sources[k]!.emit('entries', batch.map((n) => entry(k, n)));
          } else {
            for (const r of rigs) await consume(r, step.consume);
          }
          const [d, q] = rigs as [Rig, Rig];
          assert.deepEqual(d.out, q.out, 'same entries, same order, same bytes');
          assert.deepEqual(d.pump.stats(), q.pump.stats());
          assert.deepEqual(d.store.stats(), q.store.stats());
          assert.deepEqual(
            d.sources.map((s) => [s.pauses, s.resumes]),
            q.sources.map((s) => [s.pauses, s.resumes]),
          );
        }
        for (const r of rigs) r.pump.close();
      },
    ),
    { numRuns: 300 },
  );
});
