// The in-place row reader of zongji-patch.ts against zongji's own readRow (the original
// _fetchOneRow of its rows events) on arbitrary bytes: for tables of arbitrary columns (integers
// signed or not, with or without binlog signedness, BIGINT across 2^53, CHAR/VARCHAR of every
// flavour and charset, TEXT/BLOB of every length size, BIT, and types it leaves to zongji), with
// arbitrary present and null bitmaps, rows cut anywhere: the same row objects (keys, order,
// values, Buffers), the same parser offset after, or the same error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { installZongjiPatches } from '../../src/parser/zongji-patch.ts';

const base = new URL(import.meta.resolve('@vlasky/zongji'));

interface Column {
  name: string;
  type: number;
  charset?: unknown;
  metadata?: Record<string, unknown>;
}

let seed = 424242;
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % n;
}
function pick<T>(xs: readonly T[]): T {
  return xs[rnd(xs.length)]!;
}

const CHARSETS = ['utf8mb4', 'utf8mb3', 'utf8', 'latin1', null, undefined, 'binary'];
const VARCHAR_DEFS = ['varchar(20)', 'char(4)', 'varbinary(8)', 'binary(4)', 'uuid', 'inet4', 'inet6', 'vector(2)', 'text'];

function column(i: number): { column: Column; schema: Record<string, unknown> } {
  const name = `c${i}`;
  const signedness = (): Record<string, unknown> => {
    switch (rnd(4)) {
      case 0:
        return { UNSIGNED: true };
      case 1:
        return { UNSIGNED: false };
      case 2:
        return { COLUMN_TYPE: pick(['int(11)', 'int(10) unsigned', 'bigint(20) unsigned', 'tinyint(4)']) };
      default:
        return {};
    }
  };
  switch (rnd(9)) {
    case 0:
    case 1:
      return { column: { name, type: pick([1, 2, 9, 3]) }, schema: signedness() };
    case 2:
      return { column: { name, type: 8 }, schema: signedness() };
    case 3:
      return {
        column: { name, type: pick([15, 254]), charset: pick(CHARSETS), metadata: rnd(8) === 0 ? undefined : { max_length: pick([4, 20, 255, 256, 1000]) } },
        schema: rnd(10) === 0 ? {} : { COLUMN_TYPE: pick(VARCHAR_DEFS) },
      };
    case 4:
      return { column: { name, type: pick([249, 250, 251, 252]), charset: pick(CHARSETS), metadata: { length_size: pick([1, 2, 3, 4, 1, 2, undefined, 1.5]) } }, schema: {} };
    case 5:
      return { column: { name, type: 16, metadata: rnd(8) === 0 ? {} : { bits: pick([1, 8, 16, 40, 48, 64]) } }, schema: {} };
    case 6:
      return { column: { name, type: 5 }, schema: {} };
    case 7:
      return { column: { name, type: 13 }, schema: {} };
    default:
      return { column: { name, type: 4 }, schema: {} };
  }
}

type Fetch = (this: object, parser: unknown) => unknown;

function outcome(fetch: Fetch, self: object, Parser: new (p: object) => { _offset: number }, buf: Buffer, offset: number): unknown {
  const parser = new Parser({ buffer: buf, offset, end: buf.length });
  try {
    const row = fetch.call(self, parser) as Record<string, unknown>;
    // deepEqual does not compare key order
    const keys = 'before' in row ? [Object.keys(row.before as object), Object.keys(row.after as object)] : Object.keys(row);
    return { row, keys, offset: parser._offset };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}`, offset: parser._offset };
  }
}

test('in-place rows equal zongji readRow on arbitrary bytes', async () => {
  const r = await installZongjiPatches();
  assert.equal(r.fastRows, true, r.problems.join('; '));
  const { Parser } = (await import(new URL('./lib/reader.js', base).href)) as { Parser: new (p: object) => { _offset: number } };
  const rows = (await import(new URL('./lib/rows_event.js', base).href)) as { WriteRows: { prototype: object }; UpdateRows: { prototype: { _fetchOneRow: Fetch } } };
  const rowsProto = Object.getPrototypeOf(rows.WriteRows.prototype) as { _fetchOneRow: Fetch & { original: Fetch } };
  const update = rows.UpdateRows.prototype._fetchOneRow as Fetch & { original: Fetch };
  assert.equal(typeof rowsProto._fetchOneRow.original, 'function');
  assert.equal(typeof update.original, 'function');
  const zongji = { connection: { config: { dateStrings: true } }, emit() {}, useChecksum: false };
  let fast = 0;
  for (let k = 0; k < 4000; k++) {
    const width = 1 + rnd(6);
    const cols = Array.from({ length: width }, (_, i) => column(i));
    const tablemap = { columns: cols.map((c) => c.column), columnSchemas: cols.map((c) => c.schema) };
    const bitmap = (): Buffer => Buffer.from([rnd(4) === 0 ? rnd(256) : 0xff]);
    const self = { tableMap: { 7: tablemap }, tableId: 7, columns_present_bitmap: bitmap(), columns_present_bitmap2: bitmap(), _zongji: zongji };
    const body = Buffer.alloc(rnd(40));
    for (let i = 0; i < body.length; i++) body[i] = rnd(4) === 0 ? 0 : rnd(256);
    // mostly plausible: small lengths and a clear null bitmap
    if (body.length > 0 && rnd(2) === 0) body[0] = 0;
    const lead = rnd(3);
    const buf = Buffer.concat([Buffer.alloc(lead, 0xaa), body]);
    for (const [fetch, orig] of [
      [rowsProto._fetchOneRow, rowsProto._fetchOneRow.original],
      [update, update.original],
    ] as const) {
      const want = outcome(orig, self, Parser, buf, lead);
      const got = outcome(fetch, self, Parser, buf, lead);
      assert.deepEqual(got, want, `columns ${JSON.stringify(tablemap)} bytes ${buf.toString('hex')} from ${lead}`);
      if (!('error' in (want as object))) fast++;
    }
  }
  assert.ok(fast > 2000, `rows decoded without error: ${fast}`);
});
