// Row images that leave columns out. binlog_row_image is settable per session, so a client can
// write MINIMAL or NOBLOB images even when the server default is FULL. zongji reports absent
// columns as null; the codec must leave them out (as Canal does) rather than report a NULL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { EventType, type Column } from '../../src/protocol/entry-model.ts';
import { parserOn, Recorder } from './helpers.ts';

let sb: Sandbox;
let rec: Recorder;

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE m (id INT PRIMARY KEY, a INT, b VARCHAR(10), c TEXT, n INT) DEFAULT CHARSET=utf8mb4');
  const at = await sb.masterStatus();
  const parser = parserOn(sb, { kind: 'position', file: at.file, offset: at.position });
  rec = new Recorder(parser);
  await parser.start();
  await sb.sql("INSERT INTO m VALUES (1, 10, 'x', 'long text', NULL)");
  await sb.transaction([
    "SET SESSION binlog_row_image = 'MINIMAL'",
    'UPDATE m SET a = 11, n = NULL WHERE id = 1',
    "SET SESSION binlog_row_image = 'NOBLOB'",
    "UPDATE m SET b = 'y' WHERE id = 1",
    "SET SESSION binlog_row_image = 'MINIMAL'",
    'DELETE FROM m WHERE id = 1',
  ]);
  await waitFor(() => rec.rowEntries('m').length === 4 || rec.errors.length > 0, 'the four row events', 30_000);
  await parser.stop();
});

after(async () => {
  await sb?.cleanup();
});

function cells(cols: Column[]): [string, string | null, boolean][] {
  return cols.map((c) => [c.name, c.isNull ? null : c.value!, c.updated!]);
}

test('absent columns are left out; present ones keep their real index', () => {
  assert.deepEqual(rec.errors, []);
  const events = rec.rowEntries('m').map((e) => [e.rowChange!.eventType, e.rowChange!.rowDatas[0]!] as const);
  assert.deepEqual(
    events.map(([t]) => t),
    [EventType.INSERT, EventType.UPDATE, EventType.UPDATE, EventType.DELETE],
  );

  const [, minimal] = events[1]!;
  assert.deepEqual(cells(minimal.beforeColumns), [['id', '1', false]], 'MINIMAL before image: the primary key only');
  assert.deepEqual(
    cells(minimal.afterColumns),
    [
      ['a', '11', true],
      ['n', null, true],
    ],
    'MINIMAL after image: the assigned columns only; updated because the before image lacks them, and n is a real NULL',
  );
  assert.deepEqual(
    minimal.afterColumns.map((c) => c.index),
    [1, 4],
  );

  const [, noblob] = events[2]!;
  assert.deepEqual(
    cells(noblob.beforeColumns).map(([n]) => n),
    ['id', 'a', 'b', 'n'],
    'NOBLOB before image: everything but the TEXT column',
  );
  assert.deepEqual(
    cells(noblob.afterColumns),
    [
      ['id', '1', false],
      ['a', '11', false],
      ['b', 'y', true],
      ['n', null, false],
    ],
  );

  const [, del] = events[3]!;
  assert.deepEqual(cells(del.beforeColumns), [['id', '1', false]]);
  assert.deepEqual(del.afterColumns, []);
});
