// The byte writers of src/parser/columns/text-bytes.ts against the string functions they stand in
// for: each must write exactly the UTF-8 of that string (or decline and write nothing), on any
// bytes, so a cell's bytes are the same whichever way it was made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { ImageBuilder } from '../../src/parser/columns/row-batch.ts';
import { decimalLayout, putDatetime2, putDecimal, putInteger, putUtf8 } from '../../src/parser/columns/text-bytes.ts';
import { datetime2Size, datetime2Text, decimalSize, decimalText } from '../../src/parser/columns/raw-values.ts';
import { canalDecimal } from '../../src/parser/columns/decimal.ts';
import { wellFormed } from '../../src/parser/columns/bytes.ts';

/** The bytes one writer call puts into a fresh cell after some earlier cell (so offsets other than 0 are covered). */
function written(write: (out: ImageBuilder) => boolean | void): Buffer | undefined {
  const out = new ImageBuilder(1, 1);
  out.text('x', 1);
  const ok = write(out);
  out.end(1);
  const image = out.finish();
  const bytes = Buffer.from(image.bytes.subarray(image.offsets[image.base + 1], image.offsets[image.base + 2]));
  if (ok === false) {
    assert.equal(bytes.length, 0, 'a writer that declines writes nothing');
    return undefined;
  }
  return bytes;
}

test('putInteger writes String(n) for every integer up to 2^53 in size', () => {
  const big = fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).chain((n) => fc.constantFrom(n, Math.trunc(n / 1e6), Math.trunc(n / 1e12)));
  fc.assert(
    fc.property(fc.oneof(fc.integer(), big, fc.constantFrom(0, -1, 4294967295, 4294967296, 1e9, 1e9 - 1, 999999999999, 2 ** 53, -(2 ** 53))), (n) => {
      assert.deepEqual(written((out) => putInteger(out, n)), Buffer.from(String(n)));
    }),
    { numRuns: 20000 },
  );
});

test('putUtf8 writes the UTF-8 of wellFormed(toString("utf8")) on any bytes', () => {
  const valid = fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => Buffer.from(s));
  const anyBytes = fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a));
  const spliced = fc.tuple(valid, anyBytes, valid).map(([a, b, c]) => Buffer.concat([a, b.subarray(0, 3), c]));
  fc.assert(
    fc.property(fc.oneof(valid, anyBytes, spliced), fc.integer({ min: 0, max: 5 }), (value, shift) => {
      const buf = Buffer.concat([Buffer.alloc(shift, 0x61), value, Buffer.from([0xff])]);
      const expected = Buffer.from(wellFormed(value.toString('utf8')));
      assert.deepEqual(written((out) => putUtf8(out, buf, shift, value.length)), expected);
    }),
    { numRuns: 20000 },
  );
});

test('putDecimal writes canalDecimal(decimalText) or declines, on any bytes of every covered precision and scale', () => {
  let covered = 0;
  // mostly the covered shapes (scale 1-8, up to 15 integer digits), some of every other
  const covering = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 8 })).map(([integral, scale]) => [integral + scale, scale] as const);
  const any = fc.integer({ min: 1, max: 65 }).chain((precision) => fc.tuple(fc.constant(precision), fc.integer({ min: 0, max: Math.min(30, precision) })));
  fc.assert(
    fc.property(fc.oneof({ arbitrary: covering, weight: 4 }, { arbitrary: any, weight: 1 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom('any', 'zero', 'ones', 'small'), ([precision, scale], raw, kind) => {
      const layout = decimalLayout(precision, scale);
      if (layout === undefined) return;
      const size = decimalSize(precision, scale)!;
      const bytes = Buffer.concat([Buffer.from([7]), raw.subarray(0, size)]);
      if (kind === 'zero') bytes.fill(0, 2);
      if (kind === 'ones') bytes.fill(0xff, 2);
      if (kind === 'small') bytes.fill(bytes[1]! & 0x80 ? 0 : 0xff, 2, Math.max(2, size - 1));
      const got = written((out) => putDecimal(out, bytes, 1, layout));
      if (got === undefined) return;
      covered++;
      assert.deepEqual(got, Buffer.from(canalDecimal(decimalText(bytes, precision, scale, 1), scale)), `DECIMAL(${precision},${scale}) ${bytes.toString('hex')}`);
    }),
    { numRuns: 20000 },
  );
  assert.ok(covered > 1000, `only ${covered} values took the byte path`);
});

test('putDatetime2 writes datetime2Text or declines, on any bytes of every fsp', () => {
  let covered = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.boolean(), (fsp, raw, plausible) => {
      const size = datetime2Size(fsp)!;
      const bytes = Buffer.concat([Buffer.from([7]), raw.subarray(0, size)]);
      // a real date: sign bit set, year below 10000
      if (plausible) bytes[1] = 0x80 | (bytes[1]! & 0x3f);
      const got = written((out) => putDatetime2(out, bytes, 1, fsp));
      if (got === undefined) return;
      covered++;
      assert.deepEqual(got, Buffer.from(datetime2Text(bytes, fsp, 1)), `DATETIME(${fsp}) ${bytes.toString('hex')}`);
    }),
    { numRuns: 20000 },
  );
  assert.ok(covered > 1000, `only ${covered} values took the byte path`);
});
