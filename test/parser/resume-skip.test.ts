// Exact resume at the parser: every entry carries the point a restart right after it resumes
// from, and a start with `skip` drops exactly the entries acknowledged there, from a file position
// (a cursor) and from a GTID position (how a standby resumes after a source failover).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { cursorFromEntry, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import type { StartFrom } from '../../src/parser/event-parser.ts';
import { parserOn, Recorder, summary } from './helpers.ts';

let sb: Sandbox;
let beforeTx: { file: string; position: number; gtid: string };

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY)');
  beforeTx = await sb.masterStatus();
  // one transaction of five rows events, then a second transaction
  await sb.transaction([1, 2, 3, 4, 5].map((i) => `INSERT INTO t VALUES (${i})`));
  await sb.sql('INSERT INTO t VALUES (6)');
});

after(async () => {
  await sb?.cleanup();
});

async function entriesFrom(start: StartFrom, count: number): Promise<ParsedEntry[]> {
  const parser = parserOn(sb, start);
  const rec = new Recorder(parser);
  await parser.start();
  try {
    await waitFor(() => rec.entries.length >= count, `${count} entries from ${JSON.stringify(start)}`, 30_000);
    assert.deepEqual(rec.errors, []);
    return rec.entries.slice(0, count);
  } finally {
    await parser.stop();
  }
}

const ids = (es: ParsedEntry[]): string[] => es.map((e) => (e.rowChange ? `${summary(e)}:${e.rowChange.rowDatas[0]!.afterColumns[0]!.value}` : summary(e)));

test('each entry of a transaction resumes at its start with the entries so far to skip; its end resumes after itself', async () => {
  const all = await entriesFrom({ kind: 'position', file: beforeTx.file, offset: beforeTx.position }, 7);
  assert.deepEqual(all.map((e) => e.position.resumeSkip), [1, 2, 3, 4, 5, 6, 0]);
  const third = cursorFromEntry(all[3]!.position);
  assert.equal(third.skip, 4);
  assert.equal(third.journalName, beforeTx.file);
  assert.equal(third.nextPosition, beforeTx.position);
  assert.equal(third.gtid, beforeTx.gtid, 'the GTID position before the transaction');
  const end = cursorFromEntry(all[6]!.position);
  assert.equal(end.skip, undefined);
  assert.equal(end.nextPosition, all[6]!.position.nextOffset);
});

test('a cursor with skip resumes at the first entry not acknowledged, from a file position and from a GTID position', async () => {
  const all = await entriesFrom({ kind: 'position', file: beforeTx.file, offset: beforeTx.position }, 10);
  const cursor = cursorFromEntry(all[2]!.position); // BEGIN, rows 1 and 2 acknowledged
  const expected = ids(all.slice(3, 9));
  assert.deepEqual(ids(await entriesFrom({ kind: 'cursor', cursor }, 6)), expected);
  assert.deepEqual(ids(await entriesFrom({ kind: 'gtid', gtid: cursor.gtid, skip: cursor.skip! }, 6)), expected);
  assert.match(expected[0]!, /INSERT .*:3$/);
});
