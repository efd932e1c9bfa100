// Binlog events of a real MariaDB turned into Canal entries: transactions, every DDL kind, other
// statements, header fields and positions checked against the server's own SHOW BINLOG EVENTS.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { EntryType, EventType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { parserOn, Recorder, summary } from './helpers.ts';

let sb: Sandbox;
let rec: Recorder;
let startFile = '';

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
  await sb.sql('CREATE DATABASE other');
  const at = await sb.masterStatus();
  startFile = at.file;
  const parser = parserOn(sb, { kind: 'position', file: at.file, offset: at.position });
  rec = new Recorder(parser);
  await parser.start();

  await sb.sql("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  await sb.transaction(["INSERT INTO t VALUES (3, 'three')", "UPDATE t SET v = 'uno' WHERE id = 1", 'DELETE FROM t WHERE id = 2']);
  const ddl = [
    'CREATE TABLE t2 (id INT PRIMARY KEY, c INT)',
    'ALTER TABLE t2 ADD COLUMN d INT',
    'CREATE INDEX ic ON t2 (c)',
    'DROP INDEX ic ON t2',
    'TRUNCATE TABLE t2',
    'RENAME TABLE t2 TO t3',
    'CREATE TABLE other.q (id INT)',
    'DROP TABLE other.q',
    'DROP TABLE t3',
    'CREATE DATABASE made_here',
  ];
  for (const s of ddl) await sb.sql(s);
  await sb.sql("INSERT INTO t VALUES (9, 'end')");
  await waitFor(() => rec.rows('t').some((r) => r.id === '9'), 'the last insert to arrive', 30_000);
  await parser.stop();
});

after(async () => {
  await sb?.cleanup();
});

test('transactions, DDL and other statements arrive as Canal entries in binlog order', () => {
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(rec.entries.map(summary), [
    'TRANSACTIONBEGIN',
    'ROWDATA INSERT sluice_test.t 2',
    'TRANSACTIONEND',
    'TRANSACTIONBEGIN',
    'ROWDATA INSERT sluice_test.t 1',
    'ROWDATA UPDATE sluice_test.t 1',
    'ROWDATA DELETE sluice_test.t 1',
    'TRANSACTIONEND',
    'ROWDATA CREATE sluice_test.t2 ddl',
    'ROWDATA ALTER sluice_test.t2 ddl',
    'ROWDATA CINDEX sluice_test.t2 ddl',
    'ROWDATA DINDEX sluice_test.t2 ddl',
    'ROWDATA TRUNCATE sluice_test.t2 ddl',
    'ROWDATA RENAME sluice_test.t3 ddl',
    'ROWDATA CREATE other.q ddl',
    'ROWDATA ERASE other.q ddl',
    'ROWDATA ERASE sluice_test.t3 ddl',
    'ROWDATA QUERY made_here. ddl',
    'TRANSACTIONBEGIN',
    'ROWDATA INSERT sluice_test.t 1',
    'TRANSACTIONEND',
  ]);
});

test('DDL entries carry the SQL, the session schema and, for RENAME, the old name', () => {
  const ddl = rec.entries.filter((e) => e.rowChange?.isDdl);
  for (const e of ddl) {
    assert.ok(e.rowChange!.sql && e.rowChange!.sql.length > 0);
    assert.equal(e.rowChange!.ddlSchemaName !== undefined, true, `ddlSchemaName on ${e.rowChange!.sql}`);
    assert.equal(e.header.eventType, e.rowChange!.eventType);
    assert.equal(e.header.props, undefined, 'no rowsCount on DDL');
  }
  const rename = ddl.find((e) => e.rowChange!.eventType === EventType.RENAME)!;
  assert.deepEqual(rename.alsoNames, ['sluice_test.t2']);
  const q = ddl.find((e) => e.header.tableName === 'q')!;
  assert.equal(q.rowChange!.ddlSchemaName, 'sluice_test', 'session schema, not the qualified one');
});

test('row values, rowsCount and transaction ids', () => {
  assert.deepEqual(rec.rows('t'), [
    { id: '1', v: 'one' },
    { id: '2', v: 'two' },
    { id: '3', v: 'three' },
    { id: '1', v: 'uno' },
    { id: '2', v: 'two' },
    { id: '9', v: 'end' },
  ]);
  const first = rec.rowEntries('t')[0]!;
  assert.deepEqual(first.header.props, [{ key: 'rowsCount', value: '2' }]);
  assert.equal(first.rowChange!.tableId !== undefined && first.rowChange!.tableId > 0, true);
  const update = rec.rowEntries('t').find((e) => e.rowChange!.eventType === EventType.UPDATE)!;
  assert.equal(update.rowChange!.rowDatas[0]!.beforeColumns.find((c) => c.name === 'v')!.value, 'one');
  for (const end of rec.entries.filter((e) => e.entryType === EntryType.TRANSACTIONEND)) {
    assert.match(end.end!.transactionId!, /^[1-9][0-9]*$/);
  }
});

test('headers are filled as Canal fills them', async () => {
  const g = (await sb.sql<{ g: string }[]>('SELECT @@GLOBAL.gtid_binlog_pos AS g'))[0]!.g;
  for (const e of rec.entries) {
    const h = e.header;
    assert.equal(h.version, 1);
    assert.equal(h.logfileName, e.position.file);
    assert.equal(h.logfileOffset, e.position.offset);
    assert.equal(h.logfileOffset, e.position.nextOffset - h.eventLength!);
    assert.equal(h.serverId, sb.serverId);
    assert.equal(h.serverenCode, 'UTF-8');
    assert.equal(h.sourceType, 2);
    assert.equal(h.executeTime! % 1000, 0, 'whole seconds in ms');
    assert.ok(Math.abs(h.executeTime! - Date.now()) < 600_000);
    assert.match(h.gtid!, /^\d+-\d+-\d+$/);
    assert.match(e.position.gtid, /^\d+-\d+-\d+$/);
    assert.equal(h.gtid, e.position.gtidSet);
    if (e.entryType !== EntryType.ROWDATA) {
      assert.equal(h.eventType, undefined, 'eventType absent on BEGIN/END');
      assert.equal(h.schemaName, '');
    }
  }
  assert.equal(rec.entries.at(-1)!.position.gtidSet, g, 'the last entry knows the executed position');
});

test('every entry points at the binlog event it came from', async () => {
  const events = await sb.sql<{ Log_name: string; Pos: number; End_log_pos: number; Event_type: string }[]>(`SHOW BINLOG EVENTS IN '${startFile}'`);
  const byPos = new Map(events.map((r) => [Number(r.Pos), r]));
  const expectType = (e: ParsedEntry): string => {
    if (e.entryType === EntryType.TRANSACTIONBEGIN) return 'Gtid';
    if (e.entryType === EntryType.TRANSACTIONEND) return 'Xid';
    if (e.rowChange!.isDdl) return 'Query';
    return { 1: 'Write_rows_v1', 2: 'Update_rows_v1', 3: 'Delete_rows_v1' }[e.rowChange!.eventType as 1 | 2 | 3];
  };
  let prev = 0;
  for (const e of rec.entries) {
    assert.equal(e.position.file, startFile);
    const ev = byPos.get(e.position.offset);
    assert.ok(ev, `an event starts at ${e.position.offset}`);
    assert.equal(Number(ev.End_log_pos), e.position.nextOffset);
    assert.equal(ev.Event_type, expectType(e), `event type at ${e.position.offset}`);
    assert.ok(e.position.offset > prev);
    prev = e.position.offset;
  }
});
