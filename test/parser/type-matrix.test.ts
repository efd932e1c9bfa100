// Every MariaDB column type through the real EventParser: each Column of each INSERT, UPDATE and
// DELETE row is compared with what the server itself reports for that cell (CAST, HEX, +0,
// UNIX_TIMESTAMP) put through Canal's formatting rule, plus sqlType, isKey, isNull, updated and
// mysqlType (information_schema's COLUMN_TYPE). TIMESTAMPs render in the process zone, which is
// set to a zone with a half-hour offset and daylight saving time.
process.env.TZ = 'America/St_Johns';

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import mysql from 'mysql2/promise';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { EventType, type Column, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { encodeEntry, encodeEntryReference } from '../../src/protocol/entry-codec.ts';
import { canalDecimal } from '../../src/parser/columns/decimal.ts';
import { javaDoubleToString, javaFloatToString } from '../../src/parser/columns/java-number.ts';
import { parserOn, Recorder } from './helpers.ts';

const ZONE = 'America/St_Johns';

// [name, definition, values of rows 1..4 as SQL literals]; row 5 is NULL everywhere but id.
const COLUMNS: [string, string, string[]][] = [
  ['ti', 'TINYINT', ['-5', '127', '-128', '0']],
  ['tiu', 'TINYINT UNSIGNED', ['200', '255', '0', '127']],
  ['si', 'SMALLINT', ['-300', '32767', '-32768', '0']],
  ['siu', 'SMALLINT UNSIGNED', ['40000', '65535', '0', '32767']],
  ['mi', 'MEDIUMINT', ['-5000', '8388607', '-8388608', '0']],
  ['miu', 'MEDIUMINT UNSIGNED', ['9000000', '16777215', '0', '8388607']],
  ['i', 'INT', ['-7', '2147483647', '-2147483648', '0']],
  ['iu', 'INT UNSIGNED', ['3000000000', '4294967295', '0', '2147483647']],
  ['bi', 'BIGINT', ['-9007199254740993', '9223372036854775807', '-9223372036854775808', '0']],
  ['biu', 'BIGINT UNSIGNED', ['9223372036854775808', '18446744073709551615', '0', '9223372036854775807']],
  ['dec65', 'DECIMAL(65,30)', ['12345.678900000000000000000000000001', '99999999999999999999999999999999999.999999999999999999999999999999', '-99999999999999999999999999999999999.999999999999999999999999999999', '0']],
  ['dec10', 'DECIMAL(10,2)', ['500.00', '99999999.99', '-0.5', '0']],
  ['dec5', 'DECIMAL(5,0) UNSIGNED', ['123', '99999', '0', '0']],
  ['f', 'FLOAT', ['1.1', '3.40282e38', '-1e-5', '100']],
  ['db', 'DOUBLE', ['PI()', '1.7976931348623157e308', '-2.2250738585072014e-308', '1e10']],
  ['b1', 'BIT(1)', ["b'1'", "b'1'", "b'0'", "b'0'"]],
  ['b5', 'BIT(5)', ["b'101'", "b'11111'", "b'0'", "b'1'"]],
  ['b12', 'BIT(12)', ["b'100000000001'", "b'111111111111'", "b'0'", "b'1'"]],
  ['b64', 'BIT(64)', [`b'1${'0'.repeat(63)}'`, `b'${'1'.repeat(64)}'`, "b'0'", "b'1'"]],
  ['d', 'DATE', ["'2024-02-29'", "'9999-12-31'", "'1000-01-01'", "'0000-00-00'"]],
  ...[0, 1, 2, 3, 4, 5, 6].map((fsp): [string, string, string[]] => [
    `dt${fsp}`,
    `DATETIME(${fsp})`,
    ["'2024-02-29 13:14:15.123456'", "'9999-12-31 23:59:59.999999'", "'1000-01-01 00:00:00.000001'", "'0000-00-00 00:00:00'"],
  ]),
  ...[0, 1, 2, 3, 4, 5, 6].map((fsp): [string, string, string[]] => [
    `ts${fsp}`,
    `TIMESTAMP(${fsp}) NULL DEFAULT NULL`,
    // 2024-11-03 04:30 UTC is 01:00 NDT, 2024-07-01 is in summer time: both sides of DST
    ["'2024-02-29 13:14:15.123456'", "'2038-01-19 03:14:07.999999'", "'1970-01-01 00:00:01.5'", "'0000-00-00 00:00:00'"].map((v, row) =>
      row === 2 && fsp === 6 ? "'2024-07-01 12:00:00.000001'" : row === 2 && fsp === 3 ? "'2024-11-03 04:30:00'" : v,
    ),
  ]),
  ['tm0', 'TIME', ["'-01:02:03'", "'838:59:59'", "'-838:59:59'", "'00:00:00'"]],
  ['tm2', 'TIME(2)', ["'-01:02:03.45'", "'838:59:59.99'", "'-00:00:00.01'", "'00:00:00.5'"]],
  ['tm6', 'TIME(6)', ["'12:34:56.000001'", "'838:59:59.000000'", "'-00:00:00.000001'", "'-838:59:59'"]],
  ['y', 'YEAR', ['2024', '2155', '1901', '0']],
  ['c', 'CHAR(10)', ["'abc\u{1f600}'", "'0123456789'", "'  pad  '", "''"]],
  ['vc', 'VARCHAR(50)', ["'h\u00e9llo \u{1f600} \u4e16\u754c'", "REPEAT('\u{1f600}', 50)", "'x'", "''"]],
  ['cl', 'CHAR(10) CHARACTER SET latin1', ["'caf\u00e9 \u20ac'", "'\u0178\u20ac\u00e9\u00e8\u00ea\u00eb\u00ff'", "'a'", "''"]],
  ['vcl', 'VARCHAR(50) CHARACTER SET latin1', ["'na\u00efve \u2030'", "REPEAT('\u00e9', 50)", "'b'", "''"]],
  ['tt', 'TINYTEXT', ["'tiny \u{1f600}'", "REPEAT('t', 255)", "'t'", "''"]],
  ['tx', 'TEXT', ["'text \u00e9'", "REPEAT('\u4e16', 1000)", "'t'", "''"]],
  ['mt', 'MEDIUMTEXT', ["REPEAT('m', 70000)", "'mm'", "'m'", "''"]],
  ['lt', 'LONGTEXT', ["'long'", "REPEAT('\u{1f600}', 3000)", "'l'", "''"]],
  ['tb', 'TINYBLOB', ["X'00FF'", "X'E68891'", "X'80'", "X''"]],
  ['bl', 'BLOB', ["X'E68891'", "UNHEX(REPEAT('FE', 3000))", "X'00'", "X''"]],
  ['mb', 'MEDIUMBLOB', ["UNHEX(REPEAT('00FF7F80', 20000))", "X'C3'", "X'01'", "X''"]],
  ['lb', 'LONGBLOB', ["X'DEADBEEF'", "X'C0C1F5FF'", "X'7F'", "X''"]],
  ['bn', 'BINARY(4)', ["X'01'", "X'FFFFFFFF'", "X'00000001'", "X''"]],
  ['vb', 'VARBINARY(8)', ["X'E6'", "X'0000000000000000'", "X'20'", "X''"]],
  ['e', "ENUM('a','b','c,d')", ["'c,d'", "'b'", "'a'", "'not-a-member'"]],
  ['st', "SET('x','y','z')", ["'x,z'", "'x,y,z'", "''", "'y,not-a-member'"]],
  ['j', 'JSON', [`'{"a": [1, 2.5, "x"], "big": 18446744073709551615}'`, "'[]'", `'"str"'`, "'{}'"]],
  ['u', 'UUID', ["'f47ac10b-58cc-4372-a567-0e02b2c3d479'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", 'UUID()', "'00000000-0000-0000-0000-000000000000'"]],
  ['i4', 'INET4', ["'1.2.3.4'", "'255.255.255.255'", "'10.0.0.1'", "'0.0.0.0'"]],
  ['i6', 'INET6', ["'2001:db8::ff00:42:8329'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", "'::ffff:1.2.3.4'", "'::'"]],
];

interface ServerColumn {
  ordinal: number;
  dataType: string;
  columnType: string;
  scale: number;
}

/** What the server reports for one cell, as Canal would format it; null for SQL NULL. */
type Cells = Map<string, string | null>;

let sb: Sandbox;
let rec: Recorder;
const cellBytes = new Map<ParsedEntry, { bytes: Buffer; unread: number }>();
let binaryConn: mysql.Connection;
/** information_schema's view of each column, by table */
const infos = new Map<string, Map<string, ServerColumn>>();

function infoOf(table: string): Map<string, ServerColumn> {
  return infos.get(table)!;
}
let afterInsert: Map<number, Cells>;
let afterUpdate: Map<number, Cells>;
let geometryInserted: Map<number, Cells>;
let geometryUpdated: Map<number, Cells>;

/** The server-side expression that reports a cell in a form Canal's rule can be applied to. */
function probe(name: string, dataType: string): string {
  const c = `\`${name}\``;
  switch (dataType) {
    case 'bit':
      return `CAST(CAST(${c} AS UNSIGNED) AS CHAR)`;
    case 'timestamp':
      return `CAST(UNIX_TIMESTAMP(${c}) AS CHAR)`;
    case 'enum':
    case 'set':
      return `CAST(${c} + 0 AS CHAR)`;
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'geometry':
    case 'point':
      return `HEX(${c})`;
    default:
      return `CAST(${c} AS CHAR)`;
  }
}

const zoneFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** UNIX_TIMESTAMP text ("1709212455.123") as Canal renders it in the JVM zone, with fsp digits. */
function timestampInZone(unix: string, fsp: number): string {
  const [secs, frac = ''] = unix.split('.');
  const fraction = fsp > 0 ? '.' + frac.padEnd(fsp, '0').slice(0, fsp) : '';
  if (Number(secs) === 0) return '0000-00-00 00:00:00' + fraction;
  const p = Object.fromEntries(zoneFormat.formatToParts(Number(secs) * 1000).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${fraction}`;
}

/** Reads every row as the server reports it and applies Canal's formatting rule. */
async function snapshot(table: string): Promise<Map<number, Cells>> {
  const info = infoOf(table);
  const names = [...info.keys()];
  const exprs = names.map((n) => `${probe(n, info.get(n)!.dataType)} AS \`${n}\``).join(', ');
  const rows = await sb.sql<Record<string, string | null>[]>(`SELECT ${exprs} FROM ${table} ORDER BY id`);
  // FLOAT and DOUBLE over the binary protocol: the stored bits, not the server's rounded text
  const [floats] = info.has('f') ? await binaryConn.execute<mysql.RowDataPacket[]>(`SELECT id, f, db FROM ${table} ORDER BY id`) : [[]];
  const out = new Map<number, Cells>();
  rows.forEach((row, r) => {
    const cells: Cells = new Map();
    for (const n of names) {
      const col = info.get(n)!;
      const v = row[n] ?? null;
      if (n === 'f' || n === 'db') {
        const num = (floats as mysql.RowDataPacket[])[r]![n] as number | null;
        cells.set(n, num === null ? null : n === 'f' ? javaFloatToString(num) : javaDoubleToString(num));
        continue;
      }
      if (v === null) {
        cells.set(n, null);
        continue;
      }
      switch (col.dataType) {
        case 'decimal':
          cells.set(n, canalDecimal(v, col.scale));
          break;
        case 'timestamp':
          cells.set(n, timestampInZone(v, Number(/\((\d)\)/.exec(col.columnType)?.[1] ?? 0)));
          break;
        case 'binary':
        case 'varbinary':
        case 'tinyblob':
        case 'blob':
        case 'mediumblob':
        case 'longblob':
        case 'geometry':
        case 'point':
          cells.set(n, Buffer.from(v, 'hex').toString('latin1'));
          break;
        default:
          cells.set(n, v);
      }
    }
    out.set(Number(cells.get('id')), cells);
  });
  return out;
}

const SIGNED_MAX: Record<string, bigint> = { tinyint: 127n, smallint: 32767n, mediumint: 8388607n, int: 2147483647n, bigint: 9223372036854775807n };
const PROMOTED: Record<string, number> = { tinyint: 5, smallint: 4, mediumint: 4, int: -5, bigint: 3 };
const SQL_TYPE: Record<string, number> = {
  tinyint: -6,
  smallint: 5,
  mediumint: 4,
  int: 4,
  bigint: -5,
  decimal: 3,
  float: 7,
  double: 8,
  bit: -7,
  date: 91,
  datetime: 93,
  timestamp: 93,
  time: 92,
  year: 12,
  char: 1,
  varchar: 12,
  tinytext: 2005,
  text: 2005,
  mediumtext: 2005,
  binary: 2004,
  varbinary: 2004,
  tinyblob: 2004,
  blob: 2004,
  mediumblob: 2004,
  longblob: 2004,
  geometry: 2004,
  point: 2004,
  enum: 4,
  set: -7,
  uuid: 12,
  inet4: 12,
  inet6: 12,
};

/** Canal's sqlType for a cell of this column (docs/client.md, Entries). */
function expectedSqlType(info: Map<string, ServerColumn>, name: string, value: string | null): number {
  const col = info.get(name)!;
  // MariaDB's JSON is LONGTEXT underneath, and Canal reports it as the LONGTEXT its DDL names
  if (name === 'j' || name === 'lt') return 2005;
  if (value === null) return col.dataType === 'set' ? 2004 : SQL_TYPE[col.dataType]!;
  const max = SIGNED_MAX[col.dataType];
  if (max !== undefined && col.columnType.includes('unsigned') && BigInt(value) > max) return PROMOTED[col.dataType]!;
  return SQL_TYPE[col.dataType]!;
}

function expectedColumn(info: Map<string, ServerColumn>, name: string, cells: Cells, updated: boolean): Column {
  const col = info.get(name)!;
  const value = cells.get(name)!;
  return {
    index: col.ordinal - 1,
    sqlType: expectedSqlType(info, name, value),
    name,
    isKey: name === 'id',
    updated,
    isNull: value === null,
    value: value ?? '',
    mysqlType: col.columnType,
  };
}

/** Differences between what arrived and what the server reports, one line per differing field. */
function compare(table: string, what: string, got: Column[], cells: Cells, updatedOf: (name: string) => boolean): string[] {
  const info = infoOf(table);
  const problems: string[] = [];
  const names = [...info.keys()];
  if (got.length !== names.length) problems.push(`${what}: ${got.length} columns, expected ${names.length}`);
  for (const c of got) {
    if (!info.has(c.name)) {
      problems.push(`${what}: unexpected column ${c.name}`);
      continue;
    }
    const want = expectedColumn(info, c.name, cells, updatedOf(c.name));
    for (const field of ['index', 'sqlType', 'isKey', 'updated', 'isNull', 'value', 'mysqlType'] as const) {
      if (c[field] !== want[field]) {
        const show = (v: unknown) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : JSON.stringify(v));
        problems.push(`${what} ${c.name}.${field}: got ${show(c[field])}, expected ${show(want[field])}`);
      }
    }
  }
  return problems;
}

function rowsOf(table: string, type: number): { id: number; before: Column[]; after: Column[] }[] {
  const out: { id: number; before: Column[]; after: Column[] }[] = [];
  for (const e of rec.rowEntries(table) as ParsedEntry[]) {
    if (e.rowChange!.eventType !== type) continue;
    for (const rd of e.rowChange!.rowDatas) {
      const image = rd.afterColumns.length > 0 ? rd.afterColumns : rd.beforeColumns;
      out.push({ id: Number(image.find((c) => c.name === 'id')?.value), before: rd.beforeColumns, after: rd.afterColumns });
    }
  }
  return out;
}

before(async () => {
  sb = await Sandbox.start();
  await sb.sql(`CREATE TABLE t (id INT PRIMARY KEY, ${COLUMNS.map(([n, def]) => `\`${n}\` ${def}`).join(', ')}) DEFAULT CHARSET=utf8mb4`);
  await sb.sql('CREATE TABLE tg (id INT PRIMARY KEY, g GEOMETRY, p POINT)');
  for (const table of ['t', 'tg']) {
    const cols = await sb.sql<{ name: string; ordinal: number | string; dataType: string; columnType: string; scale: number | string | null }[]>(
      'SELECT COLUMN_NAME AS name, ORDINAL_POSITION AS ordinal, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_SCALE AS scale ' +
        'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [table],
    );
    infos.set(table, new Map(cols.map((c) => [c.name, { ordinal: Number(c.ordinal), dataType: c.dataType, columnType: c.columnType, scale: Number(c.scale ?? 0) }])));
  }
  binaryConn = await mysql.createConnection({ ...sb.rootConfig, database: sb.database });

  const at = await sb.masterStatus();
  const parser = parserOn(sb, { kind: 'position', file: at.file, offset: at.position }, { timezone: 'SYSTEM' });
  rec = new Recorder(parser);
  // The bytes written from the parser's cells, taken on arrival: before any test reads the rows' Columns.
  parser.on('entries', (es: ParsedEntry[]) => {
    for (const e of es) {
      const unread = e.rowChange?.rowDatas.filter((rd) => (rd as { materialized?: boolean }).materialized === false).length ?? 0;
      cellBytes.set(e, { bytes: Buffer.from(encodeEntry(e)), unread });
    }
  });
  await parser.start();

  const names = COLUMNS.map(([n]) => `\`${n}\``).join(', ');
  const values = [0, 1, 2, 3].map((r) => `(${r + 1}, ${COLUMNS.map(([, , v]) => v[r]).join(', ')})`);
  values.push(`(5, ${COLUMNS.map(() => 'NULL').join(', ')})`);
  // zero dates, the invalid ENUM value and truncation need a permissive sql_mode; TIMESTAMP literals are UTC
  await sb.sql(`SET SESSION sql_mode = '', time_zone = '+00:00'; INSERT INTO t (id, ${names}) VALUES ${values.join(', ')}`);
  afterInsert = await snapshot('t');

  await sb.transaction([
    "SET SESSION sql_mode = '', time_zone = '+00:00'",
    // some columns change, some are set to their own value, one becomes NULL
    "UPDATE t SET ti = ti, i = 8, vc = 'changed', e = 'a', ts3 = NULL, bl = bl, f = 2.5 WHERE id = 1",
    // NULL everywhere -> the values of row 2
    `UPDATE t a JOIN t b ON b.id = 2 SET ${COLUMNS.map(([n]) => `a.\`${n}\` = b.\`${n}\``).join(', ')} WHERE a.id = 5`,
    // values -> NULL everywhere
    `UPDATE t SET ${COLUMNS.map(([n]) => `\`${n}\` = NULL`).join(', ')} WHERE id = 2`,
  ]);
  afterUpdate = await snapshot('t');
  await sb.sql('DELETE FROM t');

  // GEOMETRY last and in a table of its own: zongji would parse these values and lose their
  // bytes, so a failure here must not hide the results of every other type.
  await sb.sql(
    "INSERT INTO tg VALUES (1, ST_GeomFromText('LINESTRING(0 0, 1 1, 2 5)'), ST_GeomFromText('POINT(3 4)', 4326)), " +
      "(2, ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 0))'), ST_GeomFromText('POINT(-1.5 1e300)')), " +
      "(3, ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 2))', 3857), NULL), (4, NULL, NULL)",
  );
  geometryInserted = await snapshot('tg');
  await sb.sql("UPDATE tg SET g = ST_GeomFromText('MULTIPOINT(1 1, 2 2)'), p = ST_GeomFromText('POINT(0 0)', 3857) WHERE id IN (1, 4)");
  geometryUpdated = await snapshot('tg');
  await sb.sql('DELETE FROM tg');
  await waitFor(
    () => (rowsOf('t', EventType.DELETE).length === 5 && rowsOf('tg', EventType.DELETE).length === 4) || rec.errors.length > 0,
    'the deleted rows of both tables',
    40_000,
  );
  await parser.stop();
});

after(async () => {
  await binaryConn?.end();
  await sb?.cleanup();
});

test('the parser reports no error across the whole matrix', () => {
  assert.deepEqual(
    rec.errors.map((e) => e.message),
    [],
  );
});

test("every entry's bytes, written from the parser's cells, equal protobufjs's encoding of its Columns", () => {
  let rows = 0;
  for (const e of rec.entries) {
    const got = cellBytes.get(e);
    assert.ok(got !== undefined, 'every entry was seen on arrival');
    rows += got.unread;
    assert.deepEqual(got.bytes, Buffer.from(encodeEntryReference(e)), `${e.header.tableName} at ${e.position.file}:${e.position.offset}`);
  }
  assert.ok(rows >= 18, `rows were still cells when written (${rows})`);
});

test('INSERT: every column of every row equals the server cell in Canal form; updated is true', () => {
  const inserts = rowsOf('t', EventType.INSERT);
  assert.deepEqual(
    inserts.map((r) => r.id),
    [1, 2, 3, 4, 5],
  );
  const problems: string[] = [];
  for (const r of inserts) {
    assert.deepEqual(r.before, [], 'INSERT has no before image');
    problems.push(...compare('t', `insert row ${r.id}`, r.after, afterInsert.get(r.id)!, () => true));
  }
  assert.deepEqual(problems, []);
});

test('UPDATE: before image as inserted, after image as updated; updated marks exactly the changed cells', () => {
  const updates = rowsOf('t', EventType.UPDATE);
  assert.deepEqual(
    updates.map((r) => r.id),
    [1, 5, 2],
  );
  const problems: string[] = [];
  let changed = 0;
  for (const r of updates) {
    const was = afterInsert.get(r.id)!;
    const now = afterUpdate.get(r.id)!;
    problems.push(...compare('t', `update row ${r.id} before`, r.before, was, () => false));
    problems.push(...compare('t', `update row ${r.id} after`, r.after, now, (n) => was.get(n) !== now.get(n)));
    changed += r.after.filter((c) => c.updated).length;
  }
  assert.deepEqual(problems, []);
  const info = infoOf('t');
  assert.ok(changed > 0 && changed < 3 * info.size, 'some after-columns are updated, not all');
  const row1 = updates[0]!.after;
  assert.deepEqual(
    row1.filter((c) => c.updated).map((c) => c.name),
    ['i', 'f', 'ts3', 'vc', 'e'].sort((a, b) => info.get(a)!.ordinal - info.get(b)!.ordinal),
  );
});

test('DELETE: the before image as updated; updated is false', () => {
  const deletes = rowsOf('t', EventType.DELETE);
  assert.deepEqual(
    deletes.map((r) => r.id),
    [1, 2, 3, 4, 5],
  );
  const problems: string[] = [];
  for (const r of deletes) {
    assert.deepEqual(r.after, [], 'DELETE has no after image');
    problems.push(...compare('t', `delete row ${r.id}`, r.before, afterUpdate.get(r.id)!, () => false));
  }
  assert.deepEqual(problems, []);
});

test("spot checks of Canal's quirks, independent of the server's reports", () => {
  const row = (id: number) => new Map(rowsOf('t', EventType.INSERT).find((r) => r.id === id)!.after.map((c) => [c.name, c]));
  const r1 = row(1);
  const r3 = row(3);
  const r4 = row(4);
  assert.equal(r1.get('dec10')!.value, '500.0', 'DECIMAL(10,2) 500.00: the zero partial group is dropped');
  assert.equal(r1.get('f')!.value, '1.1', 'FLOAT is not widened');
  assert.equal(r1.get('db')!.value, '3.141592653589793');
  assert.equal(r4.get('f')!.value, '100.0');
  assert.equal(r4.get('db')!.value, '1.0E10');
  assert.equal(r1.get('b5')!.value, '5');
  assert.equal(r1.get('tiu')!.sqlType, 5, 'unsigned TINYINT above 127 is promoted to SMALLINT');
  assert.equal(r1.get('biu')!.sqlType, 3, 'unsigned BIGINT above 2^63-1 is promoted to DECIMAL');
  assert.equal(r1.get('bn')!.value, '\u0001\u0000\u0000\u0000', 'BINARY(4) keeps its zero padding');
  assert.equal(r1.get('e')!.value, '3');
  assert.equal(r1.get('st')!.value, '5');
  assert.equal(r4.get('e')!.value, '0', 'invalid ENUM value');
  assert.equal(r4.get('st')!.value, '2', 'the invalid SET member is dropped by the server');
  assert.equal(r4.get('y')!.value, '0000');
  assert.equal(r4.get('d')!.value, '0000-00-00');
  assert.equal(r4.get('dt3')!.value, '0000-00-00 00:00:00.000');
  assert.equal(r4.get('ts0')!.value, '0000-00-00 00:00:00');
  assert.equal(r1.get('ts0')!.value, '2024-02-29 09:44:15', 'Newfoundland standard time, UTC-3:30');
  assert.equal(r3.get('ts6')!.value, '2024-07-01 09:30:00.000001', 'Newfoundland daylight time, UTC-2:30');
  assert.equal(r3.get('ts3')!.value, '2024-11-03 01:00:00.000');
  assert.equal(r1.get('u')!.value, 'f47ac10b-58cc-4372-a567-0e02b2c3d479');
  assert.equal(r3.get('i6')!.value, '::ffff:1.2.3.4');
  assert.equal(r1.get('j')!.value, '{"a": [1, 2.5, "x"], "big": 18446744073709551615}');
  assert.equal(r1.get('bl')!.value, '\u00e6\u0088\u0091', 'BLOB bytes E6 88 91 as Latin-1');
  assert.equal(r1.get('c')!.value, 'abc\u{1f600}');
  assert.equal(r1.get('cl')!.value, 'caf\u00e9 \u20ac', 'latin1 (cp1252) text decoded');
});

test('GEOMETRY and POINT: the stored bytes (SRID + WKB) as Latin-1 through INSERT, UPDATE and DELETE', () => {
  const problems: string[] = [];
  const inserts = rowsOf('tg', EventType.INSERT);
  const updates = rowsOf('tg', EventType.UPDATE);
  const deletes = rowsOf('tg', EventType.DELETE);
  assert.deepEqual(
    [inserts.map((r) => r.id), updates.map((r) => r.id), deletes.map((r) => r.id)],
    [
      [1, 2, 3, 4],
      [1, 4],
      [1, 2, 3, 4],
    ],
  );
  for (const r of inserts) problems.push(...compare('tg', `insert row ${r.id}`, r.after, geometryInserted.get(r.id)!, () => true));
  for (const r of updates) {
    const was = geometryInserted.get(r.id)!;
    const now = geometryUpdated.get(r.id)!;
    problems.push(...compare('tg', `update row ${r.id} before`, r.before, was, () => false));
    problems.push(...compare('tg', `update row ${r.id} after`, r.after, now, (n) => was.get(n) !== now.get(n)));
  }
  for (const r of deletes) problems.push(...compare('tg', `delete row ${r.id}`, r.before, geometryUpdated.get(r.id)!, () => false));
  assert.deepEqual(problems, []);
  const p1 = inserts[0]!.after.find((c) => c.name === 'p')!;
  assert.equal(p1.value?.slice(0, 4), '\u00e6\u0010\u0000\u0000', 'POINT keeps its SRID (4326) in the stored bytes');
  assert.equal(p1.mysqlType, 'point');
});
