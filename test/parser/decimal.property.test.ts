// canalDecimal's one-pass path for zongji's usual DECIMAL text against the general formatter it
// short-cuts, on random texts: well-formed ones of every scale, near misses (leading zeros, a
// fraction of the wrong length, no integer digits) and stray characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canalDecimal, canalDecimalGeneral } from '../../src/parser/columns/decimal.ts';

const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom('0', '0', '1', '5', '9'), { minLength: min, maxLength: max }).map((a) => a.join(''));

const decimalText = fc
  .record({
    sign: fc.constantFrom('', '', '-', '+'),
    int: fc.oneof(digits(0, 12), fc.constant('0')),
    point: fc.constantFrom('.', '.', '.', '', ','),
    frac: digits(0, 20),
    stray: fc.option(fc.constantFrom('x', ' ', 'e', '٣'), { freq: 8 }),
  })
  .map(({ sign, int, point, frac, stray }) => `${sign}${int}${point}${frac}${stray ?? ''}`);

function outcome(f: () => string): { ok: string } | { error: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

test('canalDecimal gives what the general formatter gives, text or error', () => {
  fc.assert(
    fc.property(decimalText, fc.integer({ min: 0, max: 30 }), (text, scale) => {
      assert.deepEqual(
        outcome(() => canalDecimal(text, scale)),
        outcome(() => canalDecimalGeneral(text, scale)),
      );
    }),
    { numRuns: 20_000 },
  );
});

test('canalDecimal on zongji-shaped values of DECIMAL(12,2) and (10,4), including zeros', () => {
  fc.assert(
    fc.property(fc.integer({ min: -99_999_999, max: 99_999_999 }), fc.constantFrom(2, 4), (n, scale) => {
      const text = (n / 10 ** scale).toFixed(scale);
      assert.equal(canalDecimal(text, scale), canalDecimalGeneral(text, scale));
    }),
    { numRuns: 5_000 },
  );
  assert.equal(canalDecimal('-0.00', 2), '0.0');
  assert.equal(canalDecimal('1000.00', 2), '1000.0');
  assert.equal(canalDecimal('-0.50', 2), '-0.50');
  assert.equal(canalDecimal('12.30', 2), '12.30');
});
