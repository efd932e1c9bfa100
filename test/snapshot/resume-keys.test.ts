// Chunks resume after the last key written into the SQL text as literals (chunk-reader.ts
// keyLiteral): read two rows at a time, every row of tables keyed by text that looks like numbers,
// quotes and backslashes, and by binary, DATETIME(3) and ZEROFILL DECIMAL columns together, comes
// once and in key order, with the server in NO_BACKSLASH_ESCAPES.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import { Sandbox } from '../support/sandbox.ts';
import { readChunk, type KeyValue } from '../../src/snapshot/chunk-reader.ts';
import type { TableShape } from '../../src/snapshot/table-shape.ts';
import { ZONGJI_VALUE_OPTIONS } from '../../src/parser/columns/zongji-options.ts';

let sb: Sandbox | undefined;
let pool: Pool | undefined;

after(async () => {
  await pool?.end();
  await sb?.cleanup();
});

async function readAll(p: Pool, schema: string, table: string, protocol: 'text' | 'binary' = 'text'): Promise<string[]> {
  const out: string[] = [];
  let lastKey: KeyValue[] | undefined;
  let shape: TableShape | undefined;
  for (;;) {
    const chunk = await readChunk(p, { schema, table, size: 2, after: lastKey, timezone: 'UTC' }, shape);
    shape = chunk.shape;
    if (chunk.rows.length === 0) return out;
    assert.equal(shape.text === undefined ? 'binary' : 'text', protocol, 'read through the protocol expected');
    for (const r of chunk.rows) out.push(r.afterColumns.map((c) => (c.isNull ? 'NULL' : c.value)).join('|'));
    lastKey = chunk.lastKey;
    assert.ok(out.length <= 20, 'no row read twice');
  }
}

test('chunks resume after keys of text, binary, temporal and decimal columns, in key order, each row once', async () => {
  sb = await Sandbox.start();
  await sb.sql("SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES'");
  await sb.sql('CREATE TABLE v (k VARCHAR(20) PRIMARY KEY, x INT)');
  await sb.sql("INSERT INTO v VALUES ('0123', 1), ('123', 2), ('abc', 3), (CONCAT('it''s ', CHAR(92), ' x'), 4), ('9', 5), ('10', 6), ('é', 7), ('', 8)");
  await sb.sql('CREATE TABLE c (a VARBINARY(4), b DATETIME(3), n DECIMAL(6,2) ZEROFILL, PRIMARY KEY (n, a, b))');
  await sb.sql("INSERT INTO c VALUES (X'00ff', '2020-01-01 00:00:00.5', 1.5), (X'01', '2020-01-01 00:00:00', 1.5), (X'00ff', '2020-01-01 00:00:01', 1.5), (X'', '1999-12-31 23:59:59.999', 0)");
  pool = mysql.createPool({ ...sb.rootConfig, connectionLimit: 2, ...ZONGJI_VALUE_OPTIONS });
  pool.on('connection', (c) => void c.query("SET time_zone = '+00:00'"));
  // the new connections see the global sql_mode
  const [mode] = await pool.query<RowDataPacket[]>('SELECT @@SESSION.sql_mode AS m');
  assert.match(String(mode[0]!.m), /\bNO_BACKSLASH_ESCAPES\b/);

  assert.deepEqual(await readAll(pool, sb.database, 'v'), ['|8', '0123|1', '10|6', '123|2', '9|5', 'abc|3', 'é|7', "it's \\ x|4"]);
  assert.deepEqual(await readAll(pool, sb.database, 'c'), [
    '|1999-12-31 23:59:59.999|0.0',
    '\u0000\u00ff|2020-01-01 00:00:00.500|1.50',
    '\u0000\u00ff|2020-01-01 00:00:01.000|1.50',
    '\u0001|2020-01-01 00:00:00.000|1.50',
  ]);
});

test('keys that sort by number (ENUM by index, SET by bits, BIT by value) resume after their number, text and binary protocol alike', async () => {
  assert.ok(sb && pool, 'the first test started the sandbox');
  // labels out of alphabetical order: compared as text, 'small' < 'large' and rows were skipped
  await sb.sql("CREATE TABLE e (k ENUM('small','large','medium') PRIMARY KEY, x INT)");
  await sb.sql("INSERT INTO e VALUES ('medium', 3), ('small', 1), ('large', 2)");
  await sb.sql("CREATE TABLE s (k SET('b','a','c') NOT NULL PRIMARY KEY, x INT)");
  await sb.sql("INSERT INTO s VALUES ('c', 4), ('a', 2), ('b', 1), ('a,b', 3)");
  // BIT compared with its bytes as text matched the same row again: a chunk loop without end
  await sb.sql('CREATE TABLE y (k BIT(12) PRIMARY KEY, x INT)');
  await sb.sql("INSERT INTO y VALUES (b'100000000', 3), (b'1', 1), (b'10', 2)");
  // a composite key; the DOUBLE column sends this table through the binary protocol
  await sb.sql("CREATE TABLE m (g ENUM('z','y') NOT NULL, b BIT(3) NOT NULL, n INT NOT NULL, f DOUBLE, PRIMARY KEY (g, b, n))");
  await sb.sql("INSERT INTO m VALUES ('y', b'1', 1, 0.5), ('z', b'11', 1, 0.5), ('z', b'1', 2, 0.5), ('y', b'0', 9, 0.5), ('z', b'1', 1, 0.5)");
  assert.deepEqual(await readAll(pool, sb.database, 'e'), ['1|1', '2|2', '3|3']);
  assert.deepEqual(await readAll(pool, sb.database, 's'), ['1|1', '2|2', '3|3', '4|4']);
  assert.deepEqual(
    (await readAll(pool, sb.database, 'y')).map((r) => r.split('|')[1]),
    ['1', '2', '3'],
  );
  assert.deepEqual(
    (await readAll(pool, sb.database, 'm', 'binary')).map((r) => r.split('|').slice(0, 3).join('|')),
    ['1|1|1', '1|1|2', '1|3|1', '2|0|9', '2|1|1'],
  );
});
