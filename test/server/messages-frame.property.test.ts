// The session's reusing MESSAGES writer must give exactly the bytes of the reference
// rawMessagesFrame (its pieces in order), write entries of at least the gather size from where
// they lie (no copy), and never write over a frame the socket still holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rawMessagesFrame } from '../../src/protocol/packets.ts';
import { MessagesFrameWriter } from '../../src/server/messages-frame.ts';

const batchArb = fc.record({
  batchId: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
  entries: fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 100, maxLength: 400 })), { minLength: 1, maxLength: 12 }),
  /** whether the socket is done with this frame before the next one is built */
  written: fc.boolean(),
});

test('messages frame property: byte-identical to rawMessagesFrame; large entries gathered, not copied; a frame still being written is never overwritten', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: 3000 }),
      fc.integer({ min: 1, max: 500 }),
      fc.array(batchArb, { minLength: 1, maxLength: 15 }),
      (maxReused, gatherMin, batches) => {
        const writer = new MessagesFrameWriter(maxReused, gatherMin);
        let inFlight: { chunks: Uint8Array[]; copy: Buffer } | undefined;
        for (const b of batches) {
          const expected = rawMessagesFrame(b.batchId, b.entries);
          const built = writer.build(b.batchId, b.entries);
          const frame = Buffer.concat(built.chunks);
          assert.deepEqual(frame, expected);
          const large = b.entries.filter((e) => e.length >= gatherMin);
          assert.equal(built.gathered, large.length > 0);
          for (const e of large) assert.ok(built.chunks.includes(e), 'an entry of the gather size or more is a piece of its own, not a copy');
          for (const c of built.chunks) assert.ok(c.length > 0, 'no empty piece');
          if (inFlight !== undefined) assert.deepEqual(Buffer.concat(inFlight.chunks), inFlight.copy, 'a frame the socket still held was overwritten');
          const copied = expected.length - large.reduce((n, e) => n + e.length, 0);
          assert.equal(built.reused, inFlight === undefined && copied <= maxReused, 'reuses exactly when the buffer is free and big enough');
          if (built.reused) {
            if (b.written) writer.release();
            else inFlight = { chunks: built.chunks, copy: frame };
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});
