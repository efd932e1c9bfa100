// Unit tests of each column formatter against Canal's documented examples (docs/client.md, Entries),
// and of buildTableCodec on hand-made table maps (no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { TableMapEntry } from '@vlasky/zongji';
import { SqlType } from '../../src/protocol/entry-model.ts';
import { bitValue, latin1, wellFormed } from '../../src/parser/columns/bytes.ts';
import { BinlogType } from '../../src/parser/columns/column-spec.ts';
import { canalDecimal } from '../../src/parser/columns/decimal.ts';
import { EnumIndex, parseValueList, SetMask, valueListType } from '../../src/parser/columns/enum-set.ts';
import { javaDoubleToString, javaFloatToString } from '../../src/parser/columns/java-number.ts';
import { formatInet4, formatInet6, formatUuid } from '../../src/parser/columns/mariadb-types.ts';
import { buildTableCodec } from '../../src/parser/columns/table-codec.ts';
import { canalYear, TimestampRenderer } from '../../src/parser/columns/temporal.ts';
import type { TableMapInput, TableMeta } from '../../src/parser/columns/types.ts';

test('DECIMAL: full 9-digit fraction groups always, the partial group only when non-zero', () => {
  assert.equal(canalDecimal('1.50', 2), '1.50');
  assert.equal(canalDecimal('1.05', 2), '1.05');
  assert.equal(canalDecimal('500.00', 2), '500.0');
  assert.equal(canalDecimal('0.00', 2), '0.0');
  assert.equal(canalDecimal('-0.00', 2), '0.0', 'BigDecimal has no negative zero');
  assert.equal(canalDecimal('-0.50', 2), '-0.50');
  assert.equal(canalDecimal('0.0000000000000000', 16), '0.000000000', 'DECIMAL(64,16) zero: one full group');
  assert.equal(canalDecimal('1.0000000001000000', 16), '1.0000000001000000');
  assert.equal(canalDecimal('123', 0), '123');
  assert.equal(canalDecimal('-0', 0), '0');
  assert.equal(canalDecimal('007.10', 2), '7.10', 'no leading zeros');
  assert.equal(
    canalDecimal('-99999999999999999999999999999999999.999999999999999999999999999999', 30),
    '-99999999999999999999999999999999999.999999999999999999999999999999',
  );
  assert.equal(canalDecimal('500.000000000000000000000000000000', 30), '500.000000000000000000000000000', 'DECIMAL(65,30): 3 full groups, zero partial dropped');
  assert.throws(() => canalDecimal('1e5', 2), /DECIMAL value '1e5'/);
});

test('FLOAT: Java Float.toString of the float32 that zongji widened', () => {
  assert.equal(javaFloatToString(Math.fround(1.5)), '1.5');
  assert.equal(javaFloatToString(Math.fround(100)), '100.0');
  assert.equal(javaFloatToString(Math.fround(1e10)), '1.0E10');
  assert.equal(javaFloatToString(Math.fround(1e-5)), '1.0E-5');
  assert.equal(javaFloatToString(1.100000023841858), '1.1');
  assert.equal(javaFloatToString(0.10000000149011612), '0.1');
  assert.equal(javaFloatToString(-3.3999999521443642e38), '-3.4E38');
  assert.equal(javaFloatToString(Math.fround(3.4028234663852886e38)), '3.4028235E38', 'Float.MAX_VALUE');
  assert.equal(javaFloatToString(Math.fround(1.401298464324817e-45)), '1.4E-45', 'Float.MIN_VALUE takes two digits');
  assert.equal(javaFloatToString(Math.fround(16777216)), '1.6777216E7');
  assert.equal(javaFloatToString(Math.fround(9999999)), '9999999.0');
  assert.equal(javaFloatToString(Math.fround(0.001)), '0.001');
  assert.equal(javaFloatToString(Math.fround(0.000999)), '9.99E-4');
  assert.equal(javaFloatToString(0), '0.0');
  assert.equal(javaFloatToString(-0), '-0.0');
  // every float must print digits that read back as the same float
  for (const bits of [0x00000001, 0x00800000, 0x3f800001, 0x4b7fffff, 0x7f7fffff, 0x3dcccccd, 0x42f6e979]) {
    const v = new Float32Array(new Uint32Array([bits]).buffer)[0]!;
    assert.equal(Math.fround(Number(javaFloatToString(v))), v, `float bits ${bits.toString(16)}`);
  }
});

/** The significant digits of a Java float/double text ("1.25E-7" -> "125"). */
function significand(text: string): string {
  const mantissa = text.replace('-', '').split(/[eE]/)[0]!;
  return mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '') || '0';
}

test('FLOAT and DOUBLE texts read back exactly (property; digits against Java in java-number.property.test.ts)', () => {
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const text = javaFloatToString(v);
      assert.equal(Math.fround(Number(text)), Math.fround(v), text);
      assert.match(text, /^-?(\d+\.\d+|\d\.\d+E-?\d+)$/);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const text = javaDoubleToString(v);
      assert.equal(Number(text), v, text);
      assert.ok(significand(text).length <= 19, text); // the old JDK digit loop may take up to 19
    }),
    { numRuns: 3000 },
  );
});

test('FLOAT at powers of two, where the rounding interval is lopsided', () => {
  for (let e = -149; e <= 127; e++) {
    const v = Math.fround(2 ** e);
    assert.equal(Math.fround(Number(javaFloatToString(v))), v, `2^${e}`);
  }
  assert.equal(javaFloatToString(Math.fround(2 ** -10)), '9.765625E-4');
  // JDK 8-17 print one digit more here than the shortest (JDK 19+: 1.0737418E9)
  assert.equal(javaFloatToString(Math.fround(2 ** 30)), '1.07374182E9');
});

test('DOUBLE: Java Double.toString', () => {
  assert.equal(javaDoubleToString(1.5), '1.5');
  assert.equal(javaDoubleToString(100), '100.0');
  assert.equal(javaDoubleToString(1e10), '1.0E10');
  assert.equal(javaDoubleToString(1e-5), '1.0E-5');
  assert.equal(javaDoubleToString(Math.PI), '3.141592653589793');
  assert.equal(javaDoubleToString(0.1), '0.1');
  assert.equal(javaDoubleToString(1e7), '1.0E7');
  assert.equal(javaDoubleToString(9999999.999), '9999999.999');
  assert.equal(javaDoubleToString(-1.7976931348623157e308), '-1.7976931348623157E308');
  assert.equal(javaDoubleToString(Number.MIN_VALUE), '4.9E-324', 'Double.MIN_VALUE takes two digits');
  assert.equal(javaDoubleToString(123456789012), '1.23456789012E11');
  assert.equal(javaDoubleToString(0.001), '0.001');
  assert.equal(javaDoubleToString(2e-3 / 3), '6.666666666666666E-4');
});

test('TIMESTAMP: UTC text re-rendered in the configured zone; zero stays zero', () => {
  const shanghai = new TimestampRenderer('Asia/Shanghai');
  assert.equal(shanghai.render('2024-02-29 13:14:15.123'), '2024-02-29 21:14:15.123');
  assert.equal(shanghai.render('2024-12-31 20:00:00'), '2025-01-01 04:00:00');
  assert.equal(shanghai.render('0000-00-00 00:00:00'), '0000-00-00 00:00:00');
  assert.equal(shanghai.render('0000-00-00 00:00:00.000000'), '0000-00-00 00:00:00.000000');
  const ny = new TimestampRenderer('America/New_York');
  assert.equal(ny.render('2024-03-10 06:59:59'), '2024-03-10 01:59:59', 'before the spring-forward');
  assert.equal(ny.render('2024-03-10 07:00:00'), '2024-03-10 03:00:00', 'after the spring-forward');
  assert.equal(ny.render('2024-11-03 05:30:00'), '2024-11-03 01:30:00', 'first 01:30 (EDT)');
  assert.equal(ny.render('2024-11-03 06:30:00'), '2024-11-03 01:30:00', 'second 01:30 (EST)');
  assert.equal(new TimestampRenderer('+05:30').render('1970-01-01 00:00:01.5'), '1970-01-01 05:30:01.5');
  assert.equal(new TimestampRenderer('UTC').render('2038-01-19 03:14:07.999999'), '2038-01-19 03:14:07.999999');
  const system = new TimestampRenderer('SYSTEM');
  const local = new Date(Date.UTC(2024, 5, 1, 12, 0, 0));
  const expected = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, '0')}-${String(local.getDate()).padStart(2, '0')} ${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}:00`;
  assert.equal(system.render('2024-06-01 12:00:00'), expected, 'SYSTEM is the process zone');
  assert.throws(() => new TimestampRenderer('Mars/Olympus'), /unknown timezone 'Mars\/Olympus'/);
  assert.throws(() => shanghai.render('yesterday'), /TIMESTAMP value 'yesterday'/);
});

test('YEAR: zongji reads 0000 as 1900', () => {
  assert.equal(canalYear(1900), '0000');
  assert.equal(canalYear(1901), '1901');
  assert.equal(canalYear(2155), '2155');
});

test('BIT as unsigned decimal, binary as Latin-1, text kept valid UTF-8', () => {
  assert.equal(bitValue(Buffer.from([0b101])), '5');
  assert.equal(bitValue(Buffer.from([0])), '0');
  assert.equal(bitValue(Buffer.from([1])), '1');
  assert.equal(bitValue(Buffer.alloc(8, 0xff)), '18446744073709551615');
  assert.equal(bitValue(Buffer.from([0x80, 0, 0, 0, 0, 0, 0])), String(2n ** 55n));
  const s = latin1(Buffer.from([0xe6, 0x88, 0x91]));
  assert.equal(s, '\u00e6\u0088\u0091');
  assert.deepEqual([...Buffer.from(s, 'utf8')], [0xc3, 0xa6, 0xc2, 0x88, 0xc2, 0x91], 'the Canal example: E6 goes on the wire as C3 A6');
  assert.equal(wellFormed('caf\u00e9 \u{1f600}'), 'caf\u00e9 \u{1f600}');
  assert.equal(wellFormed('a\ud800b'), 'a\ufffdb');
});

test('ENUM index and SET bitmask from the labels zongji gives', () => {
  const e = new EnumIndex('t.e', ['a', 'b', 'c,d']);
  assert.equal(e.index('a'), '1');
  assert.equal(e.index('c,d'), '3');
  assert.equal(e.index(undefined), '0', 'invalid value');
  assert.throws(() => e.index('zz'), /ENUM column t\.e: value 'zz'/);
  const s = new SetMask('t.s', ['x', 'y', 'z']);
  assert.equal(s.mask('x,z'), '5');
  assert.equal(s.mask(''), '0');
  assert.equal(s.mask('x,y,z'), '7');
  const wide = new SetMask('t.w', Array.from({ length: 64 }, (_, i) => `m${i}`));
  assert.equal(wide.mask('m63'), String(2n ** 63n));
  assert.deepEqual(parseValueList("enum('a','it''s','c,d')"), ['a', "it's", 'c,d']);
  assert.equal(valueListType('set', ['a', "it's"]), "set('a','it''s')");
});

test('MariaDB UUID, INET4 and INET6 printed as the server prints them', () => {
  assert.equal(formatUuid(Buffer.from('f47ac10b58cc4372a5670e02b2c3d479', 'hex')), 'f47ac10b-58cc-4372-a567-0e02b2c3d479');
  assert.equal(formatInet4(Buffer.from([1, 2, 3, 4])), '1.2.3.4');
  const v6 = (hex: string) => formatInet6(Buffer.from(hex, 'hex'));
  assert.equal(v6('00000000000000000000000000000000'), '::');
  assert.equal(v6('00000000000000000000000000000001'), '::1');
  assert.equal(v6('00010000000000000000000000000000'), '1::');
  assert.equal(v6('20010db8000000000000ff0000428329'), '2001:db8::ff00:42:8329');
  assert.equal(v6('00000000000000000000ffff01020304'), '::ffff:1.2.3.4');
  assert.equal(v6('00000000000000000000000001020304'), '::1.2.3.4');
  assert.equal(v6('00010000000100000000000100000001'), '1:0:1::1:0:1', 'first longest run');
  assert.equal(v6('ffffffffffffffffffffffffffffffff'), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  assert.throws(() => formatUuid(Buffer.alloc(3)), /UUID value has 3 bytes, expected 16/);
});

// A hand-made zongji table map: the shape zongji builds under binlog_row_metadata=FULL.
function tableMap(columns: { name: string; type: number; charset?: string | null; metadata?: Record<string, unknown>; schema?: Record<string, unknown> }[], primaryKey?: number[]): TableMapInput {
  const entry: TableMapEntry = {
    parentSchema: 'db',
    tableName: 't',
    columns: columns.map((c) => ({ name: c.name, type: c.type, charset: c.charset ?? null, metadata: c.metadata ?? {} })),
    columnSchemas: columns.map((c) => ({
      COLUMN_NAME: c.name,
      COLLATION_NAME: null,
      CHARACTER_SET_NAME: c.charset ?? null,
      COLUMN_COMMENT: '',
      COLUMN_TYPE: '',
      ...c.schema,
    })),
  };
  return { tableId: 42, schemaName: 'db', tableName: 't', tableMap: { 42: entry }, columnNames: columns.map((c) => c.name), primaryKey };
}

test('buildTableCodec: INSERT, UPDATE and DELETE columns as Canal fills them', () => {
  const input = tableMap(
    [
      { name: 'id', type: BinlogType.LONG, schema: { UNSIGNED: true } },
      { name: 'ti', type: BinlogType.TINY, schema: { UNSIGNED: true } },
      { name: 'big', type: BinlogType.LONGLONG, schema: { UNSIGNED: true } },
      { name: 'd', type: BinlogType.NEWDECIMAL, metadata: { precision: 10, decimals: 2 } },
      { name: 'name', type: BinlogType.VARCHAR, charset: 'utf8mb4', metadata: { max_length: 256 } },
      { name: 's', type: BinlogType.SET, charset: 'utf8mb4', schema: { SET_VALUES: ['x', 'y'] } },
      { name: 'b', type: BinlogType.BLOB, metadata: { length_size: 2 } },
    ],
    [0],
  );
  const meta: TableMeta = {
    primaryKey: ['id'],
    columns: new Map([
      ['id', { columnType: 'int(10) unsigned', dataType: 'int' }],
      ['name', { columnType: 'varchar(32)', dataType: 'varchar' }],
      ['d', { columnType: 'decimal(12,2)', dataType: 'decimal' }],
    ]),
  };
  const codec = buildTableCodec(input, meta, { timezone: 'UTC' });
  assert.equal(codec.schema, 'db');
  assert.equal(codec.table, 't');
  assert.equal(codec.tableId, 42);

  const row = { id: 4294967295, ti: 200, big: '18446744073709551615', d: '500.00', name: 'a\u{1f600}', s: 'x,y', b: Buffer.from([0xe6]) };
  const [insert] = codec.toRowDatas('writerows', [row]);
  assert.deepEqual(insert!.beforeColumns, []);
  assert.deepEqual(
    insert!.afterColumns.map((c) => [c.index, c.sqlType, c.name, c.isKey, c.updated, c.isNull, c.value, c.mysqlType]),
    [
      [0, SqlType.BIGINT, 'id', true, true, false, '4294967295', 'int(10) unsigned'],
      [1, SqlType.SMALLINT, 'ti', false, true, false, '200', 'tinyint(3) unsigned'],
      [2, SqlType.DECIMAL, 'big', false, true, false, '18446744073709551615', 'bigint(20) unsigned'],
      [3, SqlType.DECIMAL, 'd', false, true, false, '500.0', 'decimal(10,2)'],
      [4, SqlType.VARCHAR, 'name', false, true, false, 'a\u{1f600}', 'varchar(64)'],
      [5, SqlType.BIT, 's', false, true, false, '3', "set('x','y')"],
      [6, SqlType.BLOB, 'b', false, true, false, '\u00e6', 'blob'],
    ],
    'the binlog wins where TableMeta disagrees (decimal(12,2), varchar(32)); unsigned promotions depend on the value',
  );

  const small = { ...row, id: 7, ti: 1, big: 5, name: null, s: null, b: null };
  const [update] = codec.toRowDatas('updaterows', [{ before: row, after: small }]);
  assert.deepEqual(
    update!.beforeColumns.map((c) => c.updated),
    [false, false, false, false, false, false, false],
  );
  assert.deepEqual(
    update!.afterColumns.map((c) => [c.name, c.sqlType, c.updated, c.isNull, c.value]),
    [
      ['id', SqlType.INTEGER, true, false, '7'],
      ['ti', SqlType.TINYINT, true, false, '1'],
      ['big', SqlType.BIGINT, true, false, '5'],
      ['d', SqlType.DECIMAL, false, false, '500.0'],
      ['name', SqlType.VARCHAR, true, true, ''],
      ['s', SqlType.BLOB, true, true, ''],
      ['b', SqlType.BLOB, true, true, ''],
    ],
    'NULL quirks: SET becomes 2004; unsigned NULLs are not promoted',
  );

  const [del] = codec.toRowDatas('deleterows', [small]);
  assert.deepEqual(del!.afterColumns, []);
  assert.ok(del!.beforeColumns.every((c) => c.updated === false));
  assert.ok(del!.beforeColumns.every((c) => !('length' in c)), 'Column.length is never filled');

  // a MINIMAL image: only the columns in the present bitmap appear, with their real index
  const [partial] = codec.toRowDatas('updaterows', [{ before: { id: 7 }, after: { id: 7, ti: 2 } }], Buffer.from([0b1]), Buffer.from([0b11]));
  assert.deepEqual(partial!.beforeColumns.map((c) => c.index), [0]);
  assert.deepEqual(partial!.afterColumns.map((c) => [c.index, c.updated]), [
    [0, false],
    [1, true],
  ]);
});

test('buildTableCodec: key from TableMeta when the table map has no FULL metadata; geometry keeps its bytes', () => {
  const input = tableMap([
    { name: 'k', type: BinlogType.LONG },
    { name: 'g', type: BinlogType.GEOMETRY, metadata: { length_size: 4 }, schema: { COLUMN_TYPE: 'point' } },
  ]);
  delete input.columnNames;
  const meta: TableMeta = { primaryKey: ['k'], columns: new Map() };
  const codec = buildTableCodec(input, meta, { timezone: 'SYSTEM' });
  assert.equal(input.tableMap[42]!.columns![1]!.type, BinlogType.BLOB, 'zongji will now hand over the geometry bytes');
  const wkb = Buffer.from('000000000101000000000000000000f03f0000000000000040', 'hex');
  const [r] = codec.toRowDatas('writerows', [{ k: -1, g: wkb }]);
  assert.deepEqual(
    r!.afterColumns.map((c) => [c.sqlType, c.isKey, c.value, c.mysqlType]),
    [
      [SqlType.INTEGER, true, '-1', 'int(11)'],
      [SqlType.BLOB, false, wkb.toString('latin1'), 'point'],
    ],
  );
  assert.throws(() => codec.toRowDatas('writerows', [{ k: 1, g: { x: 1, y: 2 } }]), /column db\.t\.g \(point\): zongji decoded the geometry without its bytes/);
});

test('MariaDB JSON (LONGTEXT with a json_valid check): mysqlType longtext and sqlType CLOB 2005, also when NULL, as Canal reads it from the DDL', () => {
  const input = tableMap([{ name: 'doc', type: BinlogType.BLOB, charset: 'utf8mb4', metadata: { length_size: 4 } }]);
  const meta: TableMeta = { primaryKey: [], columns: new Map([['doc', { columnType: 'longtext', dataType: 'longtext' }]]) };
  const codec = buildTableCodec(input, meta, { timezone: 'UTC' });
  const [a, b] = codec.toRowDatas('writerows', [{ doc: '{"k": [1, 2]}' }, { doc: null }]);
  assert.deepEqual(
    [...a!.afterColumns, ...b!.afterColumns].map((c) => [c.sqlType, c.mysqlType, c.isNull, c.value]),
    [
      [SqlType.CLOB, 'longtext', false, '{"k": [1, 2]}'],
      [SqlType.CLOB, 'longtext', true, ''],
    ],
  );
});
