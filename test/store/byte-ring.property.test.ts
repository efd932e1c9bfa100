// The store's byte block: placements released oldest first must never overlap a live one, and a
// placement refused for lack of contiguous room must really have had none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteRing } from '../../src/store/byte-ring.ts';

type Op = { op: 'place'; size: number } | { op: 'release'; count: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('place' as const), size: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), count: fc.integer({ min: 1, max: 4 }) }) },
);

interface Live {
  serial: number;
  view: Uint8Array;
  offset: number;
}

const fill = (serial: number, k: number): number => (serial * 31 + k * 7 + 1) & 0xff;

test('byte ring property: live placements never overlap or change, and room is refused only when there is none', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.array(opArb, { minLength: 20, maxLength: 150 }), (capacity, ops) => {
      const ring = new ByteRing(capacity);
      const live: Live[] = [];
      let serial = 0;
      for (const op of ops) {
        if (op.op === 'place') {
          const bytes = new Uint8Array(op.size);
          for (let k = 0; k < op.size; k++) bytes[k] = fill(serial, k);
          const at = ring.place(bytes);
          if (at < 0) {
            // Refused: the size is out of range, or neither the gap after the newest placement nor
            // (before wrapping) the one before the oldest holds it.
            if (op.size > 0 && op.size <= capacity) {
              assert.ok(live.length > 0, `${op.size} bytes refused by an empty ring of ${capacity}`);
              const oldest = live[0]!.offset;
              const newestEnd = live.at(-1)!.offset + live.at(-1)!.view.byteLength;
              if (live.at(-1)!.offset >= oldest) {
                assert.ok(newestEnd + op.size > capacity && op.size > oldest, `${op.size} bytes refused with ${capacity - newestEnd} free at the end and ${oldest} at the start`);
              } else {
                assert.ok(newestEnd + op.size > oldest, `${op.size} bytes refused with ${oldest - newestEnd} free between the newest and the oldest`);
              }
            }
          } else {
            assert.ok(at + op.size <= capacity);
            for (const l of live) {
              const apart = at + op.size <= l.offset || l.offset + l.view.byteLength <= at;
              assert.ok(apart, `placement ${at}+${op.size} overlaps live ${l.offset}+${l.view.byteLength}`);
            }
            live.push({ serial, view: ring.view(at, op.size), offset: at });
          }
          serial++;
        } else {
          const gone = live.splice(0, op.count);
          if (gone.length === live.length + gone.length && gone.length > 0) ring.reset();
          else if (gone.length > 0) ring.release(gone.at(-1)!.offset, gone.at(-1)!.view.byteLength);
        }
        for (const l of live) {
          for (let k = 0; k < l.view.byteLength; k++) {
            if (l.view[k] !== fill(l.serial, k)) assert.fail(`placement ${l.serial} at ${l.offset} changed at byte ${k}`);
          }
        }
      }
    }),
    { numRuns: 1000 },
  );
});

// Entries written in place (openWindow, then claim) mixed with copied placements and releases:
// the same guarantees, and a window is refused only when place() would have refused as many bytes.
type WOp = { op: 'write'; size: number; min: number } | Op;
const wopArb: fc.Arbitrary<WOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), size: fc.integer({ min: 1, max: 50 }), min: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: opArb },
);

test('byte ring property: bytes written into windows and claimed stay apart from every live placement', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.array(wopArb, { minLength: 20, maxLength: 150 }), (capacity, ops) => {
      const ring = new ByteRing(capacity);
      const live: Live[] = [];
      let serial = 0;
      const check = (at: number, size: number): void => {
        assert.ok(at >= 0 && at + size <= capacity);
        for (const l of live) {
          const apart = at + size <= l.offset || l.offset + l.view.byteLength <= at;
          assert.ok(apart, `placement ${at}+${size} overlaps live ${l.offset}+${l.view.byteLength}`);
        }
      };
      for (const op of ops) {
        if (op.op === 'write') {
          const win = ring.openWindow(op.min);
          const probe = new Uint8Array(op.min);
          if (win === undefined) {
            // place() of `min` bytes must fail as well; undo nothing, since it refused
            assert.equal(ring.place(probe), -1, `window of ${op.min} refused where place() found room`);
            continue;
          }
          const start = ring.windowStart;
          assert.ok(win.length - start >= op.min);
          const size = Math.min(op.size, win.length - start);
          for (let k = 0; k < size; k++) win[start + k] = fill(serial, k);
          const at = ring.claim(size);
          check(at, size);
          live.push({ serial, view: ring.view(at, size), offset: at });
          serial++;
        } else if (op.op === 'place') {
          const bytes = new Uint8Array(op.size);
          for (let k = 0; k < op.size; k++) bytes[k] = fill(serial, k);
          const at = ring.place(bytes);
          if (at >= 0) {
            check(at, op.size);
            live.push({ serial, view: ring.view(at, op.size), offset: at });
          }
          serial++;
        } else {
          const gone = live.splice(0, op.count);
          if (gone.length > 0 && live.length === 0) ring.reset();
          else if (gone.length > 0) ring.release(gone.at(-1)!.offset, gone.at(-1)!.view.byteLength);
        }
        for (const l of live) {
          for (let k = 0; k < l.view.byteLength; k++) {
            if (l.view[k] !== fill(l.serial, k)) assert.fail(`placement ${l.serial} at ${l.offset} changed at byte ${k}`);
          }
        }
      }
    }),
    { numRuns: 1000 },
  );
});
