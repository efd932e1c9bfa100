// A snapshot row converts exactly as a binlog row of the same values: for one table with a
// column of (nearly) every type MariaDB has, the Column messages (name, index, sqlType,
// mysqlType, isKey, isNull, value, updated) of each snapshot row equal those of the binlog
// INSERT that wrote it. The table is read through the binary protocol (it has FLOAT and DOUBLE
// columns, whose text the server rounds); a copy without those is read from the text protocol's
// row packets (text-chunk.ts), and checked the same way.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../support/sandbox.ts';
import { instanceConfig, startInProcess, client, consumeUntil, type InProcessSluice } from '../faults/support/harness.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { Column } from '../../src/protocol/entry-model.ts';

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let sluice: InProcessSluice | undefined;
let c: CanalClient | undefined;

after(async () => {
  await c?.disconnect().catch(() => undefined);
  await sluice?.stop();
  await sb?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const COLUMNS = [
  'id INT PRIMARY KEY',
  'ti TINYINT', 'tu TINYINT UNSIGNED', 'si SMALLINT', 'su SMALLINT UNSIGNED', 'mi MEDIUMINT', 'mu MEDIUMINT UNSIGNED',
  'i INT', 'iu INT UNSIGNED', 'bi BIGINT', 'bu BIGINT UNSIGNED',
  'fl FLOAT', 'fl2 FLOAT(7,3)', 'db DOUBLE', 'db2 DOUBLE(10,2)',
  'dc DECIMAL(30,10)', 'dc0 DECIMAL(5,0) UNSIGNED', 'dcw DECIMAL(65,30)',
  'b1 BIT(1)', 'b13 BIT(13)', 'b64 BIT(64)',
  'da DATE', 'dt DATETIME', 'dt3 DATETIME(3)', 'dt6 DATETIME(6)', 'ts TIMESTAMP NULL', 'ts2 TIMESTAMP(2) NULL', 'tm TIME', 'tm4 TIME(4)', 'y YEAR',
  'ch CHAR(5)', 'vc VARCHAR(20)', 'vl VARCHAR(10) CHARACTER SET latin1', 'vb VARCHAR(10) COLLATE utf8mb4_bin',
  'bn BINARY(4)', 'vbn VARBINARY(10)',
  'tt TINYTEXT', 'tx TEXT', 'mt MEDIUMTEXT', 'lt LONGTEXT', 'tb TINYBLOB', 'bl BLOB', 'mb MEDIUMBLOB', 'lb LONGBLOB',
  'js JSON', "en ENUM('a','b c','d''e')", "st SET('x','y','z')",
  'g GEOMETRY', 'pt POINT', 'u UUID', 'i6 INET6', 'i4 INET4',
];

const ROWS = [
  `(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    1.2345678, 1.234, 900.8000000000001, 12345678.91, -12345.0000000001, 99999, 0.000000000000000000000000000001,
    b'1', b'1010101010101', b'1111111111111111111111111111111111111111111111111111111111111111',
    '2020-02-29', '1000-01-01 00:00:00', '2020-01-02 03:04:05.678', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '1970-01-01 00:00:01.01', '-838:59:59', '12:34:56.7891', 2155,
    'ab', 'héllo wörld 🎉', 'Grüße', 'Case', X'00ff0102', X'', 'tiny', 'text ✓', 'medium', 'long', X'01', X'0203', X'', X'ff',
    '{"a": [1, 2.5, "x"], "b": null}', 'd''e', 'x,z', ST_GeomFromText('LINESTRING(0 0,1 1)', 4326), POINT(1.5, -2),
    '123e4567-e89b-12d3-a456-426614174000', '2001:db8::ff00:42:8329', '192.168.0.1')`,
  `(4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 5, 0.5, b'1', b'1', b'1',
    '2001-01-01', '2001-01-01 01:01:01', '2001-01-01 01:01:01.500', '2001-01-01 01:01:01.100000', '2001-01-01 01:01:01', '2001-01-01 01:01:01.10', '01:00:00', '01:00:00.1000', 2001,
    'a', 'a', 'a', 'a', X'01', X'01', 'a', 'a', 'a', 'a', X'01', X'01', X'01', X'01', '1', 'a', 'y', POINT(1, 1), POINT(1, 1), '00000000-0000-0000-0000-000000000001', '::1', '0.0.0.1')`,
  `(2, 0, 0, 0, 0, 0, 0, 0, 0, 9007199254740993, 9223372036854775808,
    3.4e38, -0.001, 1e-300, -0.1, 0, 0, -1.5,
    b'0', b'0', b'0',
    '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '2000-01-01 00:00:00.000001', '0000-00-00 00:00:00', NULL, '00:00:00', '-00:00:00.5000', 0,
    '', '', '', '', X'00000000', X'00', '', '', '', '', '', '', '', '',
    '[]', '', '', NULL, POINT(0, 0), '00000000-0000-0000-0000-000000000000', '::', '0.0.0.0')`,
  '(3' + ', NULL'.repeat(51) + ')',
];

function plain(cols: Column[]): Record<string, unknown>[] {
  return cols.map((x) => ({ index: x.index, name: x.name, sqlType: x.sqlType, mysqlType: x.mysqlType, isKey: x.isKey ?? false, isNull: x.isNull, value: x.value ?? '', updated: x.updated ?? false }));
}

test('snapshot rows equal binlog rows of the same values, column by column, for every type', async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-snapfid-'));
  assert.equal(COLUMNS.length, 52);
  await sb.sql(`CREATE TABLE every (${COLUMNS.join(', ')})`);
  sluice = await startInProcess({ ...instanceConfig(sb, 'fid'), reader: { shared: false, windowBytes: 8 << 20 } }, dataDir);
  c = client(sluice.port, 'fid');
  await c.connect();
  await c.subscribe('');
  await sb.sql("SET SESSION sql_mode = ''");
  await sb.sql("SET SESSION time_zone = '+03:00'");
  for (const r of ROWS) await sb.sql(`INSERT INTO every VALUES ${r}`);
  // the invalid ENUM value '' (index 0)
  await sb.sql("UPDATE every SET en = 'nope' WHERE id = 2");
  const floats = new Set(['fl', 'fl2', 'db', 'db2']);
  const textColumns = COLUMNS.filter((c) => !floats.has(c.split(' ')[0]!));
  await sb.sql(`CREATE TABLE every_text (${textColumns.join(', ')})`);
  await sb.sql(`INSERT INTO every_text SELECT ${textColumns.map((c) => c.split(' ')[0]!).join(', ')} FROM every`);
  const tables = ['every', 'every_text'];
  const binlog = new Map<string, Record<string, unknown>[]>();
  const snapshot = new Map<string, Record<string, unknown>[]>();
  await consumeUntil(c, (b) => {
    for (const e of b) {
      if (e.entryType !== 'ROWDATA' || !tables.includes(e.tableName) || e.isDdl) continue;
      for (const r of e.rows) {
        const id = `${e.tableName}:${r.after.id!}`;
        if (e.props.snapshot === 'true') snapshot.set(id, plain(r.afterColumns));
        else if (e.eventType === 'INSERT' || e.eventType === 'UPDATE') binlog.set(id, plain(r.afterColumns));
      }
    }
  }, () => binlog.size === 8 && binlog.get('every:2')!.find((x) => x.name === 'en')!.value === '0', 'the binlog rows');
  for (const t of tables) await sluice.instance.snapshots()!.request({ table: `${sb.database}.${t}` });
  await consumeUntil(c, (b) => {
    for (const e of b) {
      if (e.entryType === 'ROWDATA' && tables.includes(e.tableName) && e.props.snapshot === 'true') for (const r of e.rows) snapshot.set(`${e.tableName}:${r.after.id!}`, plain(r.afterColumns));
    }
  }, () => snapshot.size === 8, 'the snapshot rows');
  for (const t of tables) {
    for (const id of ['1', '2', '3', '4']) {
      const want = binlog.get(`${t}:${id}`)!;
      const got = snapshot.get(`${t}:${id}`)!;
      assert.equal(got.length, t === 'every' ? 52 : 48);
      for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `${t} row ${id}, column ${String(want[i]!.name)}`);
    }
  }
});
