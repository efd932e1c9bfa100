// DECIMAL and DATETIME(n) text from stored bytes (src/parser/columns/raw-values.ts) against zongji's
// own decoding of the same bytes (readMysqlValue with the parser's value options), on arbitrary
// bytes and every precision/scale/fsp; and the retyped column hands those bytes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { datetime2Size, datetime2Text, decimalSize, decimalText, keepRawBytes, originalColumn } from '../../src/parser/columns/raw-values.ts';
import { ZONGJI_VALUE_OPTIONS } from '../../src/parser/columns/zongji-options.ts';
import type { TableMapEntry } from '@vlasky/zongji';

const base = new URL(import.meta.resolve('@vlasky/zongji'));
const { readMysqlValue } = (await import(new URL('./lib/common.js', base).href)) as {
  readMysqlValue: (parser: unknown, column: unknown, schema: unknown, tableMap: unknown, zongji: unknown) => unknown;
};
const { Parser } = (await import(new URL('./lib/reader.js', base).href)) as {
  Parser: new (packet: { buffer: Buffer; offset: number; end: number }) => { _offset: number };
};
const zongji = { connection: { config: { ...ZONGJI_VALUE_OPTIONS } }, emit() {} };

function zongjiValue(type: number, metadata: object, bytes: Buffer): { value: unknown; offset: number } {
  // bytes after a 3-byte prefix, so offsets other than 0 are covered
  const buf = Buffer.concat([Buffer.from([1, 2, 3]), bytes, Buffer.from([9, 9])]);
  const parser = new Parser({ buffer: buf, offset: 3, end: buf.length });
  const value = readMysqlValue(parser, { name: 'c', type, metadata }, { COLUMN_NAME: 'c', COLUMN_TYPE: '' }, {}, zongji);
  return { value, offset: parser._offset - 3 };
}

test('DECIMAL text equals zongji parseNewDecimal on any bytes, every precision and scale', () => {
  const spec = fc.integer({ min: 1, max: 65 }).chain((precision) => fc.tuple(fc.constant(precision), fc.integer({ min: 0, max: Math.min(30, precision) })));
  fc.assert(
    fc.property(spec, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom('any', 'zero', 'ones', 'small'), ([precision, scale], raw, kind) => {
      const size = decimalSize(precision, scale)!;
      assert.ok(size > 0);
      const bytes = Buffer.from(raw.subarray(0, size));
      if (kind === 'zero') bytes.fill(0, 1);
      if (kind === 'ones') bytes.fill(0xff, 1);
      // a plausible positive or negative value: sign byte then mostly zeros
      if (kind === 'small') bytes.fill(bytes[0]! & 0x80 ? 0 : 0xff, 1, Math.max(1, size - 2));
      const z = zongjiValue(246, { precision, decimals: scale }, bytes);
      assert.equal(z.offset, size);
      assert.equal(decimalText(bytes, precision, scale), z.value, `DECIMAL(${precision},${scale}) ${bytes.toString('hex')}`);
    }),
    { numRuns: 4000 },
  );
});

test('DATETIME(n) text equals zongji DATETIME2 decoding on any bytes, every fsp', () => {
  fc.assert(
    fc.property(fc.constantFrom(undefined, 0, 1, 2, 3, 4, 5, 6), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.boolean(), (fsp, raw, real) => {
      const size = datetime2Size(fsp)!;
      const bytes = Buffer.from(raw.subarray(0, size));
      // a real value: the sign bit set (non-negative), fraction a multiple of 10 for odd fsp
      if (real) {
        bytes[0] = bytes[0]! | 0x80;
        if (fsp !== undefined && fsp > 0) {
          const n = Math.ceil(fsp / 2);
          const max = 10 ** (2 * n);
          let v = Number(BigInt(`0x${bytes.subarray(5).toString('hex')}`) % BigInt(max));
          if (fsp % 2 === 1) v -= v % 10;
          bytes.writeUIntBE(v, 5, n);
        }
      }
      const z = zongjiValue(18, fsp === undefined ? {} : { decimals: fsp }, bytes);
      assert.equal(z.offset, size);
      assert.equal(datetime2Text(bytes, fsp), z.value, `DATETIME(${fsp}) ${bytes.toString('hex')}`);
    }),
    { numRuns: 4000 },
  );
});

test('keepRawBytes retypes DECIMAL and DATETIME2 as BIT of their width, once, and keeps the original', () => {
  const dec = { name: 'd', charset: null, type: 246, metadata: { precision: 12, decimals: 2 } };
  const dt = { name: 'dt', charset: null, type: 18, metadata: { decimals: 3 } };
  const other = { name: 'i', charset: null, type: 3, metadata: undefined };
  const odd = { name: 'x', charset: null, type: 246, metadata: { precision: 'x' } };
  const entry = { columnSchemas: [], parentSchema: 's', tableName: 't', columns: [dec, dt, other, odd] } as unknown as TableMapEntry;
  keepRawBytes(entry);
  const cols = entry.columns!;
  assert.deepEqual([cols[0]!.type, cols[0]!.metadata], [16, { bits: 6 * 8 }]);
  assert.deepEqual([cols[1]!.type, cols[1]!.metadata], [16, { bits: 7 * 8 }]);
  assert.equal(cols[0]!.name, 'd');
  assert.equal(originalColumn(cols[0]!), dec);
  assert.equal(originalColumn(cols[1]!), dt);
  assert.equal(cols[2], other);
  assert.equal(cols[3], odd);
  const first = cols[0];
  keepRawBytes(entry);
  assert.equal(entry.columns![0], first, 'idempotent');
  assert.deepEqual(dec, { name: 'd', charset: null, type: 246, metadata: { precision: 12, decimals: 2 } }, 'original untouched');
  // zongji reads the BIT column as the stored bytes
  const bytes = Buffer.from('800001020304', 'hex');
  const z = zongjiValue(cols[0]!.type, cols[0]!.metadata as object, bytes);
  assert.deepEqual(z.value, bytes);
});
