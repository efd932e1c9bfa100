// The client's hand-written protobuf reader reads varints exactly as protobufjs does, and
// refuses truncated input instead of reading past a message; its string reuse by position
// always returns the string of the bytes asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { PositionStrings } from '../../src/client/position-strings.ts';
import { WireReader } from '../../src/protocol/wire-reader.ts';

/** A protobuf varint of the 64-bit two's complement of `v`. */
function varint(v: bigint): Buffer {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u !== 0n) b |= 0x80;
    out.push(b);
  } while (u !== 0n);
  return Buffer.from(out);
}

const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -1000n, max: 1000n }), fc.integer({ min: 0, max: 2 ** 31 }).map(BigInt));

test('int64, int32, uint32 and bool read every varint as protobufjs reads it', () => {
  fc.assert(
    fc.property(int64, (v) => {
      const bytes = varint(v);
      const r = new WireReader(bytes, 0, bytes.length);
      const got = r.int64();
      assert.equal(r.pos, bytes.length);
      const long = protobuf.Reader.create(bytes).int64() as unknown as number | { toNumber(): number };
      assert.equal(got, typeof long === 'number' ? long : long.toNumber());
      assert.equal(got, Number(v));
      // protobufjs reads 32-bit varints of 1-5 bytes, or 10 (a negative int32); it skips a fixed 5
      // bytes after the fifth, so 6-9 byte varints are not valid 32-bit input for it.
      if (bytes.length > 5 && bytes.length < 10) return;
      assert.equal(new WireReader(bytes, 0, bytes.length).int32(), protobuf.Reader.create(bytes).int32());
      assert.equal(new WireReader(bytes, 0, bytes.length).uint32(), protobuf.Reader.create(bytes).uint32());
      assert.equal(new WireReader(bytes, 0, bytes.length).bool(), protobuf.Reader.create(bytes).bool());
    }),
    { numRuns: 2000 },
  );
});

test('strings are UTF-8 as protobufjs decodes them, and lengths past the end are refused', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const bytes = Buffer.from(protobuf.Writer.create().string(s).finish());
      assert.equal(new WireReader(bytes, 0, bytes.length).string(), protobuf.Reader.create(bytes).string());
    }),
    { numRuns: 500 },
  );
  const short = Buffer.from([5, 0x61, 0x62]);
  assert.throws(() => new WireReader(short, 0, short.length).string(), /length 5 at offset 1 runs past the end/);
  assert.throws(() => new WireReader(Buffer.from([0xff, 0xff]), 0, 2).uint32(), /index out of range/);
  assert.throws(() => new WireReader(Buffer.from([0x80]), 0, 1).int64(), /index out of range/);
  assert.throws(() => new WireReader(Buffer.from([7]), 0, 1).skip(7), /invalid wire type 7/);
});

test('reused strings are always the text of the bytes asked for', () => {
  // Few short strings and positions, so that hits, misses, same-length changes and '' all occur.
  const word = fc.oneof(fc.constantFrom('', 'id', 'di', 'é', 'ab', 'abc'), fc.string({ unit: 'grapheme', maxLength: 70 }));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(3), word), { maxLength: 40 }), (lookups) => {
      const cache = new PositionStrings();
      for (const [position, text] of lookups) {
        const bytes = Buffer.concat([Buffer.from('xx'), Buffer.from(text), Buffer.from('yy')]);
        assert.equal(cache.get(bytes, 2, bytes.length - 2, position), text);
      }
    }),
    { numRuns: 500 },
  );
});
