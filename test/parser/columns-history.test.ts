// Catch-up across DDL: rows written before an ALTER are read after it, when information_schema
// already describes the new table. Each row must keep the names, types, signedness, key and
// mysqlType it was written with; TableMeta's text is used only where it still agrees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import type { Column } from '../../src/protocol/entry-model.ts';
import { parserOn, Recorder } from './helpers.ts';

let sb: Sandbox;
let rec: Recorder;

before(async () => {
  sb = await Sandbox.start();
  await sb.sql("CREATE TABLE h (id INT PRIMARY KEY, v INT, s VARCHAR(10), d DECIMAL(6,2), e ENUM('a','b')) DEFAULT CHARSET=utf8mb4");
  const at = await sb.masterStatus();
  await sb.sql("INSERT INTO h VALUES (1, -5, 'abc', 1.50, 'b')");
  // sql_mode '' lets the existing -5 be clamped instead of refusing the change to UNSIGNED
  await sb.sql("SET SESSION sql_mode = ''; ALTER TABLE h MODIFY v INT UNSIGNED, MODIFY s VARCHAR(40), MODIFY d DECIMAL(8,3), MODIFY e ENUM('c','a','b'), ADD COLUMN n BIGINT AFTER id");
  await sb.sql("INSERT INTO h VALUES (2, 7, 4294967295, 'def', 2.5, 'c')");
  await sb.sql('ALTER TABLE h RENAME COLUMN s TO label, DROP PRIMARY KEY, ADD PRIMARY KEY (id, n)');
  await sb.sql("INSERT INTO h VALUES (3, 8, 1, 'ghi', 0, 'a')");
  // the parser starts only now: every row above is read with today's information_schema
  const parser = parserOn(sb, { kind: 'position', file: at.file, offset: at.position });
  rec = new Recorder(parser);
  await parser.start();
  await waitFor(() => rec.rows('h').length === 3 || rec.errors.length > 0, 'the three rows', 30_000);
  await parser.stop();
});

after(async () => {
  await sb?.cleanup();
});

function image(i: number): Record<string, Pick<Column, 'index' | 'sqlType' | 'isKey' | 'value' | 'mysqlType'>> {
  const e = rec.rowEntries('h')[i]!;
  const cols = e.rowChange!.rowDatas[0]!.afterColumns;
  return Object.fromEntries(cols.map((c) => [c.name, { index: c.index, sqlType: c.sqlType, isKey: c.isKey, value: c.value, mysqlType: c.mysqlType }]));
}

test('a row written before the ALTERs keeps its own names, types, signedness and key', () => {
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(image(0), {
    id: { index: 0, sqlType: 4, isKey: true, value: '1', mysqlType: 'int(11)' },
    v: { index: 1, sqlType: 4, isKey: false, value: '-5', mysqlType: 'int(11)' },
    s: { index: 2, sqlType: 12, isKey: false, value: 'abc', mysqlType: 'varchar(10)' },
    d: { index: 3, sqlType: 3, isKey: false, value: '1.50', mysqlType: 'decimal(6,2)' },
    e: { index: 4, sqlType: 4, isKey: false, value: '2', mysqlType: "enum('a','b')" },
  });
});

test('a row between the ALTERs: the added column, the unsigned promotion, the new ENUM order', () => {
  assert.deepEqual(image(1), {
    id: { index: 0, sqlType: 4, isKey: true, value: '2', mysqlType: 'int(11)' },
    n: { index: 1, sqlType: -5, isKey: false, value: '7', mysqlType: 'bigint(20)' },
    v: { index: 2, sqlType: -5, isKey: false, value: '4294967295', mysqlType: 'int(10) unsigned' },
    s: { index: 3, sqlType: 12, isKey: false, value: 'def', mysqlType: 'varchar(40)' },
    d: { index: 4, sqlType: 3, isKey: false, value: '2.500', mysqlType: 'decimal(8,3)' },
    e: { index: 5, sqlType: 4, isKey: false, value: '1', mysqlType: "enum('c','a','b')" },
  });
});

test('a row after the rename and the new two-column primary key', () => {
  const row = image(2);
  assert.deepEqual(Object.keys(row), ['id', 'n', 'v', 'label', 'd', 'e']);
  assert.deepEqual(
    Object.entries(row)
      .filter(([, c]) => c.isKey)
      .map(([n]) => n),
    ['id', 'n'],
  );
  assert.equal(row.label!.mysqlType, 'varchar(40)');
  assert.equal(row.d!.value, '0.0', 'DECIMAL(8,3) zero: the partial group is dropped');
  assert.equal(row.v!.sqlType, 4, 'an unsigned INT within the signed range is not promoted');
});
