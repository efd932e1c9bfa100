// Each way of choosing where the stream begins lands on the right first transaction.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { EntryType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import type { StartFrom } from '../../src/parser/event-parser.ts';
import { ParserError } from '../../src/parser/errors.ts';
import { parserOn, Recorder } from './helpers.ts';

let sb: Sandbox;
/** binlog times of the transactions inserting ids 1..5 (seconds), later than the sandbox's own setup */
const base = Math.floor(Date.now() / 1000) + 1000;
const T = [0, base, base + 100, base + 200, base + 300, base + 400];
let beforeId3: { file: string; position: number; gtid: string };

async function insertAt(id: number): Promise<void> {
  // The session timestamp is what the binlog records as the events' time.
  await sb.sql(`SET timestamp = ${T[id]}; INSERT INTO t VALUES (${id}); SET timestamp = DEFAULT`);
}

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY)');
  await sb.sql('FLUSH BINARY LOGS');
  await insertAt(1);
  await insertAt(2);
  await sb.sql('FLUSH BINARY LOGS');
  beforeId3 = await sb.masterStatus();
  await insertAt(3);
  await insertAt(4);
  await sb.sql('FLUSH BINARY LOGS');
  await insertAt(5);
});

after(async () => {
  await sb?.cleanup();
});

/** Starts a parser, waits for its first row, and returns the entries up to and including it. */
async function firstTransaction(start: StartFrom, afterStart?: () => Promise<void>): Promise<ParsedEntry[]> {
  const parser = parserOn(sb, start);
  const rec = new Recorder(parser);
  await parser.start();
  try {
    if (afterStart) await afterStart();
    await waitFor(() => rec.rowEntries().length > 0, `a row after starting from ${JSON.stringify(start)}`, 30_000);
    assert.deepEqual(rec.errors, []);
    return rec.entries.slice(0, rec.entries.indexOf(rec.rowEntries()[0]!) + 1);
  } finally {
    await parser.stop();
  }
}

function firstId(entries: ParsedEntry[]): string {
  assert.equal(entries[0]!.entryType, EntryType.TRANSACTIONBEGIN, 'lands on the start of a transaction');
  const row = entries.at(-1)!.rowChange!.rowDatas[0]!.afterColumns[0]!;
  return row.value!;
}

test('by file and offset', async () => {
  const es = await firstTransaction({ kind: 'position', file: beforeId3.file, offset: beforeId3.position });
  assert.equal(firstId(es), '3');
  assert.equal(es[0]!.position.file, beforeId3.file);
});

test('by GTID position: the first transaction after it', async () => {
  assert.match(beforeId3.gtid, /^0-\d+-\d+$/);
  const es = await firstTransaction({ kind: 'gtid', gtid: beforeId3.gtid });
  assert.equal(firstId(es), '3');
  assert.equal(es[0]!.position.file, beforeId3.file, 'the file comes from the dump, not the request');
});

test('by timestamp: the first transaction at or after it, across files', async () => {
  assert.equal(firstId(await firstTransaction({ kind: 'timestamp', ms: T[4]! * 1000 - 50_000 })), '4', 'inside a file');
  assert.equal(firstId(await firstTransaction({ kind: 'timestamp', ms: T[2]! * 1000 })), '2', 'exactly at a transaction');
  assert.equal(firstId(await firstTransaction({ kind: 'timestamp', ms: T[5]! * 1000 - 1000 })), '5', 'in the last file');
  const oldest = await firstTransaction({ kind: 'timestamp', ms: 1000 });
  // The oldest transaction is the sandbox's own setup DDL: its entry is the statement after the first GTID event.
  const events = await sb.sql<{ Pos: string; Event_type: string }[]>("SHOW BINLOG EVENTS IN 'binlog.000001'");
  const firstDdl = events[events.findIndex((r) => r.Event_type === 'Gtid') + 1]!;
  assert.deepEqual([oldest[0]!.position.file, oldest[0]!.position.offset], ['binlog.000001', Number(firstDdl.Pos)], 'before everything: the oldest transaction');
});

test('by timestamp after every transaction, and at the end: the next transaction written', async () => {
  const later = await firstTransaction({ kind: 'timestamp', ms: T[5]! * 1000 + 60_000 }, () => sb.sql('INSERT INTO t VALUES (6)').then(() => undefined));
  assert.equal(firstId(later), '6');
  const atEnd = await firstTransaction({ kind: 'end' }, () => sb.sql('INSERT INTO t VALUES (7)').then(() => undefined));
  assert.equal(firstId(atEnd), '7');
});

test('from a Canal cursor without nextPosition: the acknowledged boundary is not delivered again', async () => {
  const all = await firstTransaction({ kind: 'position', file: beforeId3.file, offset: beforeId3.position });
  const end3 = all.find((e) => e.entryType === EntryType.TRANSACTIONBEGIN)!;
  // Find the TRANSACTIONEND of id 3 by streaming a little further.
  const parser = parserOn(sb, { kind: 'position', file: beforeId3.file, offset: beforeId3.position });
  const rec = new Recorder(parser);
  await parser.start();
  let endOf3: ParsedEntry | undefined;
  try {
    await waitFor(() => rec.entries.filter((e) => e.entryType === EntryType.TRANSACTIONEND).length > 0, 'end of transaction 3', 30_000);
    endOf3 = rec.entries.find((e) => e.entryType === EntryType.TRANSACTIONEND)!;
  } finally {
    await parser.stop();
  }
  assert.equal(end3.position.file, endOf3.position.file);
  const cursor = { journalName: endOf3.position.file, position: endOf3.position.offset, serverId: endOf3.position.serverId, timestamp: endOf3.position.timestamp, gtid: '' };
  const es = await firstTransaction({ kind: 'cursor', cursor });
  assert.equal(es[0]!.entryType, EntryType.TRANSACTIONBEGIN, 'the boundary event found at the cursor is dropped');
  assert.equal(firstId(es), '4');
  const withNext = await firstTransaction({ kind: 'cursor', cursor: { ...cursor, nextPosition: endOf3.position.nextOffset, gtid: endOf3.position.gtidSet } });
  assert.equal(firstId(withNext), '4');
});

test('a GTID position the source does not have is fatal and says so', async () => {
  const p = parserOn(sb, { kind: 'gtid', gtid: '0-4242-999999' }, { destination: 'orders' });
  await assert.rejects(p.start(), (err: unknown) => {
    assert.ok(err instanceof ParserError);
    assert.equal(err.fatal, true);
    assert.match(err.message, /GTID position 0-4242-999999/);
    assert.match(err.message, /sluice positions reset --destination orders/);
    return true;
  });
  assert.equal(p.state, 'failed');
  await p.stop();
});
