// FLOAT and DOUBLE texts against Java 8-17's Float.toString / Double.toString. The committed
// golden file (made once by test/parser/support/JavaNumberText.java on Java 17) covers edge cases
// and a seeded sample; where `java` is installed, a fresh random sample is also checked against it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { javaDoubleToString, javaFloatToString } from '../../src/parser/columns/java-number.ts';

const here = new URL('.', import.meta.url).pathname;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

function textOf(kind: string, hex: string): string {
  if (kind === 'f') {
    u32[0] = Number.parseInt(hex, 16);
    return javaFloatToString(f32[0]!);
  }
  u64[0] = BigInt(`0x${hex}`);
  return javaDoubleToString(f64[0]!);
}

test('golden: Java 17 texts of edge cases and a seeded sample of floats and doubles', () => {
  const lines = readFileSync(`${here}golden/java-number-texts.txt`, 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 1000);
  const wrong: string[] = [];
  for (const l of lines) {
    const [kind, hex, java] = l.split(' ');
    const mine = textOf(kind!, hex!);
    if (mine !== java) wrong.push(`${l} -> ${mine}`);
  }
  assert.deepEqual(wrong.slice(0, 10), []);
});

test('the older JDK rule, not the shortest digits: the smallest normal float and 1.0E23', () => {
  assert.equal(javaFloatToString(1.17549435e-38), '1.17549435E-38');
  assert.equal(javaDoubleToString(1e23), '9.999999999999999E22');
  assert.equal(javaFloatToString(1.1), '1.1');
  assert.equal(javaFloatToString(100), '100.0');
  assert.equal(javaFloatToString(1e10), '1.0E10');
  assert.equal(javaDoubleToString(0.001), '0.001');
  assert.equal(javaDoubleToString(5e-324), '4.9E-324');
});

const java = spawnSync('java', ['-version']).status === 0;

test('property: random floats and doubles print as java prints them', { skip: java ? false : 'java is not installed' }, () => {
  const sample = fc.sample(
    fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }).map((b) => `f ${b.toString(16)}`),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => `d ${b.toString(16)}`),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => {
        f64[0] = v;
        return `d ${u64[0]!.toString(16)}`;
      }),
      fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => {
        f32[0] = v;
        return `f ${u32[0]!.toString(16)}`;
      }),
      // decimals people store: few digits, any scale
      fc.tuple(fc.integer({ min: -99_999_999, max: 99_999_999 }), fc.integer({ min: 0, max: 12 })).map(([n, s]) => {
        f32[0] = n / 10 ** s;
        return `f ${u32[0]!.toString(16)}`;
      }),
    ),
    { numRuns: 60_000, seed: Date.now() % 1_000_000 },
  );
  const r = spawnSync('java', [`${here}support/JavaNumberText.java`], { input: sample.join('\n'), maxBuffer: 1 << 26, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr?.toString());
  const texts = r.stdout.toString().split('\n');
  const wrong: string[] = [];
  sample.forEach((l, i) => {
    const [kind, hex] = l.split(' ');
    const mine = textOf(kind!, hex!);
    if (mine !== texts[i]) wrong.push(`${l}: java ${texts[i]}, sluice ${mine}`);
  });
  assert.deepEqual(wrong.slice(0, 10), []);
});
