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

async function readAll(p: Pool, schema: string, table: string): Promise<string[]> {
  const out: string[] = [];
  let lastKey: KeyValue[] | undefined;
  let shape: TableShape | undefined;
  for (;;) {
    const chunk = await readChunk(p, { schema, table, size: 2, after: lastKey, timezone: 'UTC' }, shape);
    shape = chunk.shape;
    if (chunk.rows.length === 0) return out;
    assert.ok(shape.text !== undefined, 'read from the text protocol');
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
