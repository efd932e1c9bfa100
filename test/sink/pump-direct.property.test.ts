// The pump's direct path (entries put with store.tryPutEntry as they arrive, no StoreItem, no
// queue turn) against its queued path (a store that offers only tryPut): the same random script
// of three sources emitting batches and a consumer taking batches must leave the same entries in
// the same order with the same bytes, and the same pauses, resumes and pump stats at every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import type { ParsedEntry } from '../../src/protocol/entry-model.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { Pump, type ItemTarget } from '../../src/sink/pump.ts';
import { EventStore } from '../../src/store/event-store.ts';
import { begin, end, heartbeat, rows } from './entries.ts';

class FakeSource extends EventEmitter<{ entries: [ParsedEntry[]] }> {
  pauses = 0;
  resumes = 0;
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
}

/** The store seen through the ItemTarget surface the pump had before tryPutEntry. */
function itemsOnly(store: EventStore): ItemTarget {
  return {
    tryPut: (item) => store.tryPut(item),
    on: (event, listener) => store.on(event, listener),
    off: (event, listener) => store.off(event, listener),
  };
}

interface Rig {
  store: EventStore;
  pump: Pump;
  sources: FakeSource[];
  out: string[];
}

function rig(cap: number, maxBytes: number, direct: boolean): Rig {
  const store = new EventStore({ maxEntries: cap, maxBytes, batchMode: 'ITEMSIZE' });
  const pump = new Pump(new EventSink(), direct ? store : itemsOnly(store));
  const sources = [new FakeSource(), new FakeSource(), new FakeSource()];
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

test('pump property: the direct path puts, pauses and resumes exactly as the queued path', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 200, max: 3000 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
      fc.array(stepArb, { maxLength: 100 }),
      async (cap, maxBytes, shape, steps) => {
        const rigs = [rig(cap, maxBytes, true), rig(cap, maxBytes, false)];
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
            const k = step.source;
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
