// The streaming frame decoder: any split of the byte stream gives the same frames, and an
// oversized length prefix fails before the body is buffered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, FrameTooLargeError, encodeFrame } from '../../src/protocol/frame.ts';

test('frame: encode puts a 4-byte big-endian length before the body', () => {
  assert.equal(encodeFrame(Buffer.from([0x10, 0x01, 0x18, 0x03])).toString('hex'), '0000000410011803');
  assert.equal(encodeFrame(new Uint8Array(0)).toString('hex'), '00000000');
});

test('frame: decoding is independent of how the stream is split (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
      (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
        const dec = new FrameDecoder(1024);
        const got: Buffer[] = [];
        let at = 0;
        let i = 0;
        while (at < stream.length) {
          const n = cuts[i++ % cuts.length]!;
          got.push(...dec.push(stream.subarray(at, at + n)));
          at += n;
        }
        assert.deepEqual(
          got.map((b) => b.toString('hex')),
          bodies.map((b) => Buffer.from(b).toString('hex')),
        );
        assert.equal(dec.bufferedBytes, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test('frame: a length above the cap throws as soon as the header is complete', () => {
  const dec = new FrameDecoder(100);
  assert.deepEqual(dec.push(Buffer.from([0, 0])), []);
  assert.throws(
    () => dec.push(Buffer.from([0x7f, 0xff])),
    (err: unknown) => err instanceof FrameTooLargeError && err.length === 0x7fff && err.maxFrameBytes === 100,
  );
  assert.equal(dec.bufferedBytes, 0);
  assert.throws(() => dec.push(Buffer.from([1])), /already failed/);
});

test('frame: a frame exactly at the cap passes; the sign bit is a size, not a negative length', () => {
  const dec = new FrameDecoder(8);
  const frames = dec.push(encodeFrame(Buffer.alloc(8, 1)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.length, 8);
  assert.throws(() => new FrameDecoder(8).push(Buffer.from('ffffffff', 'hex')), FrameTooLargeError);
});

test('frame: returned frames do not alias the socket chunk', () => {
  const dec = new FrameDecoder(16);
  const chunk = encodeFrame(Buffer.from('abcd', 'hex'));
  const [frame] = dec.push(chunk);
  chunk.fill(0);
  assert.equal(frame!.toString('hex'), 'abcd');
});
