// Catch-up across schema changes: the parser starts from a position before a series of DDL after
// all of it was written, and must decode every row with the schema it was written with.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { parserOn, Recorder } from './helpers.ts';

let sb: Sandbox;
let rec: Recorder;

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE alt_t (id INT PRIMARY KEY, a INT, b VARCHAR(10))');
  await sb.sql('CREATE TABLE sg_t (id INT PRIMARY KEY, v INT)');
  await sb.sql('CREATE TABLE done_t (id INT PRIMARY KEY)');
  const start = await sb.masterStatus();
  const steps = [
    "INSERT INTO alt_t VALUES (1, -5, 'one')",
    'ALTER TABLE alt_t ADD COLUMN c INT AFTER id',
    "INSERT INTO alt_t VALUES (2, 7, -6, 'two')",
    'INSERT INTO sg_t VALUES (1, -5)',
    // Strict mode refuses to convert -5; the binlog keeps the signed insert all the same.
    'DELETE FROM sg_t WHERE id = 1',
    'ALTER TABLE sg_t MODIFY v INT UNSIGNED',
    'INSERT INTO sg_t VALUES (2, 4294967295)',
    'ALTER TABLE alt_t DROP COLUMN b',
    'INSERT INTO alt_t VALUES (3, 8, -7)',
    'ALTER TABLE alt_t RENAME COLUMN a TO a_renamed',
    'INSERT INTO alt_t VALUES (4, 9, -8)',
    "CREATE TABLE gone_t (id INT PRIMARY KEY, name VARCHAR(10))",
    "INSERT INTO gone_t VALUES (1, 'x')",
    'UPDATE gone_t SET name = \'y\' WHERE id = 1',
    'DROP TABLE gone_t',
    'INSERT INTO done_t VALUES (1)',
  ];
  for (const s of steps) await sb.sql(s);
  // Only now, with every change written, does the parser begin: pure catch-up.
  const parser = parserOn(sb, { kind: 'position', file: start.file, offset: start.position });
  rec = new Recorder(parser);
  await parser.start();
  try {
    await waitFor(() => rec.rows('done_t').length === 1, 'the marker row', 30_000);
  } finally {
    await parser.stop();
  }
});

after(async () => {
  await sb?.cleanup();
});

test('ADD, DROP and RENAME COLUMN: each row with the columns it was written with', () => {
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(rec.rows('alt_t'), [
    { id: '1', a: '-5', b: 'one' },
    { id: '2', c: '7', a: '-6', b: 'two' },
    { id: '3', c: '8', a: '-7' },
    { id: '4', c: '9', a_renamed: '-8' },
  ]);
  const first = rec.rowEntries('alt_t')[0]!.rowChange!.rowDatas[0]!.afterColumns;
  assert.equal(first.find((c) => c.name === 'id')!.isKey, true, 'primary key from table metadata');
});

test('MODIFY to UNSIGNED: the old row keeps its sign, the new one reads unsigned', () => {
  assert.deepEqual(rec.rows('sg_t'), [
    { id: '1', v: '-5' },
    { id: '1', v: '-5' },
    { id: '2', v: '4294967295' },
  ]);
});

test('rows of a table dropped later still arrive', () => {
  assert.deepEqual(rec.rows('gone_t'), [
    { id: '1', name: 'x' },
    { id: '1', name: 'y' },
  ]);
  const drop = rec.entries.find((e) => e.rowChange?.isDdl && /DROP TABLE/i.test(e.rowChange.sql ?? ''))!;
  assert.equal(drop.header.tableName, 'gone_t');
});
