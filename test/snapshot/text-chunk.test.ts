// The text-protocol chunk reader on hand-made row packets: length-encoded values (one past 250
// bytes, whose length takes three bytes), NULL, a key whose columns are not in table order, the
// key texts the stream's changes are matched by, and the last key as SQL literals to resume after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { BinlogType, buildColumnSpec } from '../../src/parser/columns/column-spec.ts';
import { TimestampRenderer } from '../../src/parser/columns/temporal.ts';
import { afterKeyLiteralSql, keyLiteral } from '../../src/snapshot/chunk-reader.ts';
import { rowKey } from '../../src/snapshot/row-keys.ts';
import { TextRows, textShape } from '../../src/snapshot/text-chunk.ts';

/** A text-protocol row: each value length-encoded, null as 0xfb. */
function rowPacket(values: (string | Buffer | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    parts.push(b.length < 251 ? Buffer.from([b.length]) : Buffer.from([0xfc, b.length & 0xff, b.length >> 8]), b);
  }
  return Buffer.concat(parts);
}

const columns = [
  { name: 'id', type: BinlogType.LONG, metadata: {}, charset: null },
  { name: 'name', type: BinlogType.VARCHAR, metadata: { max_length: 1200 }, charset: 'utf8mb4' },
  { name: 'raw', type: BinlogType.VARCHAR, metadata: { max_length: 10 }, charset: null },
  { name: 'price', type: BinlogType.NEWDECIMAL, metadata: { precision: 10, decimals: 2 }, charset: null },
];
const schemas = [
  { COLUMN_NAME: 'id', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'int(11)', UNSIGNED: false },
  { COLUMN_NAME: 'name', COLLATION_NAME: 'utf8mb4_general_ci', CHARACTER_SET_NAME: 'utf8mb4', COLUMN_COMMENT: '', COLUMN_TYPE: 'varchar(300)' },
  { COLUMN_NAME: 'raw', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'varbinary(10)' },
  { COLUMN_NAME: 'price', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'decimal(10,2)', UNSIGNED: false },
];
// the key is (name, id): not the table's column order
const key = ['name', 'id'];
const specs = columns.map((c, i) => buildColumnSpec(i, c, schemas[i], key.includes(c.name), undefined));

test('rows read from text-protocol packets become the cells, keys and resume point of the chunk', () => {
  const shape = textShape(specs, key, 'db.t', new TimestampRenderer('UTC'))!;
  assert.ok(shape);
  const rows = new TextRows(shape, 10);
  const long = 'é'.repeat(150);
  const p1 = rowPacket(['7', long, null, '12.00']);
  const p2 = rowPacket(['8', 'b', Buffer.from([0x00, 0xff, 0x41]), '-0.50']);
  // a packet's payload lies inside a larger buffer
  const buf = Buffer.concat([Buffer.alloc(5), p1, p2, Buffer.alloc(3)]);
  rows.row(buf, 5, 5 + p1.length);
  rows.row(buf, 5 + p1.length, 5 + p1.length + p2.length);
  const data = rows.rowDatas();
  assert.equal(data.length, 2);
  const values = data.map((r) => r.afterColumns.map((c) => (c.isNull ? null : c.value)));
  assert.deepEqual(values, [
    ['7', long, null, '12.0'],
    ['8', 'b', '\u0000\u00ffA', '-0.50'],
  ]);
  assert.ok(data[0]!.afterColumns.every((c) => c.updated));
  // the key texts the stream's changes are matched by (columns in key order, not table order)
  assert.deepEqual(
    data.map((r) => rowKey(r, 'after', key)),
    [`\u0000${long}\u00007`, '\u0000b\u00008'],
  );
  assert.deepEqual(rows.lastKey(), ['b', '8']);
  assert.throws(() => new TextRows(shape, 1).row(Buffer.from([0x01, 0x37]), 0, 2), /ended after 1/);
});

test('key values become SQL literals that no sql_mode reads differently', () => {
  assert.equal(keyLiteral('123', true), '123');
  assert.equal(keyLiteral('-1.50', true), '-1.50');
  // digits of a text column stay text: '0123' and 123 do not compare alike
  assert.equal(keyLiteral('0123', false), "_utf8mb4 X'30313233'");
  assert.equal(keyLiteral("it's \\", false), "_utf8mb4 X'69742773205c'");
  assert.equal(keyLiteral('1; DROP TABLE t', true), "_utf8mb4 X'313b2044524f50205441424c452074'");
  assert.equal(keyLiteral(42, true), '42');
  assert.equal(keyLiteral({ hex: '00ff' }, false), "X'00ff'");
  assert.throws(() => keyLiteral({ hex: "00' OR 1" }, false), /not hex/);
  assert.equal(afterKeyLiteralSql(['name', 'id'], ['b', '8'], [false, true]), "`name` >= _utf8mb4 X'62' AND (`name` > _utf8mb4 X'62' OR (`id` > 8))");
});
