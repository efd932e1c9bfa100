// Table metadata the table map lacks: loaded once per table, refreshed after DDL, loaded without
// disturbing event order; and an idle stream kept alive by heartbeats.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { TableMetaCache } from '../../src/parser/table-meta.ts';
import type { EventParser } from '../../src/parser/event-parser.ts';
import { parserOn, Recorder, summary } from './helpers.ts';

let sb: Sandbox;
let parser: EventParser;
let rec: Recorder;

before(async () => {
  sb = await Sandbox.start();
  parser = parserOn(sb, { kind: 'end' }, { heartbeatMs: 1000 });
  rec = new Recorder(parser);
  await parser.start();
});

after(async () => {
  await parser?.stop();
  await sb?.cleanup();
});

test('information_schema facts: primary key in key order, COLUMN_TYPE, DATA_TYPE (a MariaDB JSON column is LONGTEXT there)', async () => {
  await sb.sql('CREATE TABLE m (a INT UNSIGNED, b VARCHAR(7), doc JSON, PRIMARY KEY (b, a))');
  const pool = mysql.createPool({ ...sb.replConfig, connectionLimit: 2 });
  try {
    const cache = new TableMetaCache(pool);
    const meta = (await cache.load('sluice_test', 'm'))!;
    assert.deepEqual(meta.primaryKey, ['b', 'a']);
    assert.deepEqual(meta.columns.get('a'), { columnType: 'int(10) unsigned', dataType: 'int' });
    assert.deepEqual(meta.columns.get('doc'), { columnType: 'longtext', dataType: 'longtext' });
    assert.equal(cache.has('sluice_test', 'm'), true);
    cache.invalidate(['sluice_test.m']);
    assert.equal(cache.has('sluice_test', 'm'), false);
    assert.equal(await cache.load('sluice_test', 'nope'), undefined, 'a table that does not exist has no metadata');
    assert.equal(cache.has('sluice_test', 'nope'), true, 'and that answer is cached too');
  } finally {
    await pool.end();
  }
});

test('metadata is refreshed after a DDL naming the table: a new primary key shows in isKey', async () => {
  await sb.sql('CREATE TABLE nk (id INT NOT NULL, v INT)');
  await sb.sql('INSERT INTO nk VALUES (1, 1)');
  await waitFor(() => rec.rows('nk').length === 1, 'the first row', 30_000);
  await sb.sql('ALTER TABLE nk ADD PRIMARY KEY (id)');
  await sb.sql('INSERT INTO nk VALUES (2, 2)');
  await waitFor(() => rec.rows('nk').length === 2, 'the second row', 30_000);
  const [before, afterDdl] = rec.rowEntries('nk').map((e) => e.rowChange!.rowDatas[0]!.afterColumns.find((c) => c.name === 'id')!);
  assert.equal(before!.isKey, false);
  assert.equal(afterDdl!.isKey, true);
});

test('events stay in order while metadata of several new tables loads', async () => {
  await sb.sql('CREATE TABLE o1 (id INT PRIMARY KEY); CREATE TABLE o2 (id INT PRIMARY KEY); CREATE TABLE o3 (id INT PRIMARY KEY)');
  await waitFor(() => rec.entries.some((e) => e.rowChange?.isDdl && e.header.tableName === 'o3'), 'the CREATE TABLE o3 entry', 30_000);
  const from = rec.entries.length;
  await sb.transaction(['INSERT INTO o1 VALUES (1)', 'INSERT INTO o2 VALUES (1)', 'INSERT INTO o3 VALUES (1)', 'INSERT INTO o1 VALUES (2)', 'INSERT INTO o2 VALUES (2)']);
  await waitFor(() => rec.entries.slice(from).some((e) => e.entryType === 3), 'the transaction end', 30_000);
  assert.deepEqual(rec.entries.slice(from).map(summary), [
    'TRANSACTIONBEGIN',
    'ROWDATA INSERT sluice_test.o1 1',
    'ROWDATA INSERT sluice_test.o2 1',
    'ROWDATA INSERT sluice_test.o3 1',
    'ROWDATA INSERT sluice_test.o1 1',
    'ROWDATA INSERT sluice_test.o2 1',
    'TRANSACTIONEND',
  ]);
});

test('an idle stream lives on heartbeats: no reconnect while nothing is written', async () => {
  const before = parser.stats();
  // Heartbeats every second are events too: several must arrive, and the watchdog must stay quiet.
  await waitFor(() => parser.stats().events >= before.events + 5, 'five heartbeats', 30_000);
  assert.equal(parser.stats().reconnects, before.reconnects);
  assert.equal(parser.state, 'running');
  assert.deepEqual(rec.errors, []);
});
