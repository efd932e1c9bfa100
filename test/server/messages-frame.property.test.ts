// The session's reusing MESSAGES writer must give exactly the bytes of the reference
// rawMessagesFrame, and must never write over a frame the socket still holds.
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

test('messages frame property: byte-identical to rawMessagesFrame; a frame still being written is never overwritten', () => {
  fc.assert(
    fc.property(fc.integer({ min: 16, max: 3000 }), fc.array(batchArb, { minLength: 1, maxLength: 15 }), (maxReused, batches) => {
      const writer = new MessagesFrameWriter(maxReused);
      let inFlight: { frame: Buffer; copy: Buffer } | undefined;
      for (const b of batches) {
        const expected = rawMessagesFrame(b.batchId, b.entries);
        const built = writer.build(b.batchId, b.entries);
        assert.deepEqual(built.frame, expected);
        if (inFlight !== undefined) assert.deepEqual(inFlight.frame, inFlight.copy, 'a frame the socket still held was overwritten');
        assert.equal(built.reused, inFlight === undefined && expected.length <= maxReused, 'reuses exactly when the buffer is free and big enough');
        if (built.reused) {
          if (b.written) writer.release();
          else inFlight = { frame: built.frame, copy: Buffer.from(built.frame) };
        }
      }
    }),
    { numRuns: 500 },
  );
});
