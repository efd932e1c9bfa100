// The pure parts of source failover: when a source counts as lost, where the standby takes over,
// how the handed-on part of a cut transaction is dropped, GTID coverage, and the start a
// restart uses on the master after a standby's cursor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LossDetector } from '../../src/parser/failover/loss-detector.ts';
import { HandOverTracker, OpenTransactionSkip, standbyResume } from '../../src/parser/failover/handover.ts';
import { mariadbCovers } from '../../src/parser/failover/standby-check.ts';
import { startOnMaster } from '../../src/instance/start-position.ts';
import { EntryType, EventType, entryPosition, type ParsedEntry } from '../../src/protocol/entry-model.ts';

const limits = { afterFailedReconnects: 3, afterSilenceMs: 10_000 };

test('one dropped connection is not a loss; failed reconnects in a row are; running again clears them', () => {
  const d = new LossDetector(limits, 0);
  assert.equal(d.failure(100).lost, false, 'the drop itself');
  assert.equal(d.failure(200).lost, false);
  assert.equal(d.failure(300).lost, false);
  d.alive(400);
  for (const t of [500, 600, 700]) assert.equal(d.failure(t).lost, false);
  const v = d.failure(800);
  assert.equal(v.lost, true);
  assert.equal(v.failedReconnects, 3);
  assert.match(v.reason, /3 reconnects failed in a row/);
});

test('silence while reconnecting is a loss; silence while nothing failed is not', () => {
  const d = new LossDetector(limits, 0);
  assert.equal(d.verdict(60_000).lost, false, 'no failure: the stream is just idle');
  d.seen(50_000);
  assert.equal(d.failure(55_000).lost, false);
  const v = d.verdict(60_000);
  assert.equal(v.lost, true);
  assert.match(v.reason, /nothing received for 10000 ms/);
});

let offset = 4;
function entry(type: EntryType, gtid: string, gtidSet: string, table = '', rows = 0): ParsedEntry {
  offset += 10;
  const e: ParsedEntry = { entryType: type, header: { schemaName: table ? 's' : '', tableName: table }, position: entryPosition('binlog.000001', offset, offset + 10, 1, 1_700_000_000_000 + offset, gtid, gtidSet) };
  if (type === EntryType.ROWDATA) {
    e.header.eventType = EventType.INSERT;
    e.rowChange = { eventType: EventType.INSERT, isDdl: false, rowDatas: Array.from({ length: rows }, () => ({ beforeColumns: [], afterColumns: [] })) };
  }
  return e;
}

function tx(seq: number, tables: string[]): ParsedEntry[] {
  const g = `0-1-${seq}`;
  return [entry(EntryType.TRANSACTIONBEGIN, g, g), ...tables.map((t) => entry(EntryType.ROWDATA, g, g, t, 1)), entry(EntryType.TRANSACTIONEND, g, g)];
}

test('the standby resumes at the last complete transaction and drops what was handed on of the open one', () => {
  const h = new HandOverTracker();
  h.seed('0-1-9', 0);
  const t10 = tx(10, ['a']);
  const t11 = tx(11, ['a', 'b', 'c']);
  h.note(t10);
  h.note(t11.slice(0, 3)); // BEGIN, a, b of transaction 11
  const r = standbyResume(h.state(), { fallbackMs: 60_000, lostSince: 0 });
  assert.deepEqual(r.start, { kind: 'gtid', gtid: '0-1-10' });
  assert.equal(r.required, '0-1-11', 'the standby must have the open transaction too');
  assert.equal(r.byTime, false);
  assert.equal(r.skip?.handed.length, 3);

  // The standby sends transaction 11 again from its start: the first three go, the rest pass.
  const skip = new OpenTransactionSkip(r.skip!, 'db2:3306');
  const again = tx(11, ['a', 'b', 'c']);
  assert.deepEqual(skip.filter(again.slice(0, 2)), []);
  assert.equal(skip.done, false);
  assert.deepEqual(skip.filter(again.slice(2)), again.slice(3));
  assert.equal(skip.done, true);
});

test('a standby whose first transaction differs from the open one is refused', () => {
  const h = new HandOverTracker();
  h.seed('0-1-9', 0);
  h.note(tx(10, ['a', 'b']).slice(0, 2));
  const r = standbyResume(h.state(), { fallbackMs: 60_000, lostSince: 0 });
  assert.deepEqual(r.start, { kind: 'gtid', gtid: '0-1-9' });
  const skip = new OpenTransactionSkip(r.skip!, 'db2:3306');
  assert.throws(() => skip.filter(tx(10, ['x', 'b'])), /does not repeat transaction 0-1-10 as the source sent it: entry 2/);
  assert.throws(() => new OpenTransactionSkip(r.skip!, 'db2:3306').filter(tx(12, ['a'])), /in GTID 0-1-12/);
});

test('without GTIDs the standby is read from the last entry time minus the fallback; a configured standby start wins when nothing was read', () => {
  const h = new HandOverTracker();
  const plain = tx(1, ['a']).map((e) => ({ ...e, position: { ...e.position, gtid: '', gtidSet: '' } }));
  h.note(plain);
  const last = plain[plain.length - 1]!.position.timestamp;
  const r = standbyResume(h.state(), { fallbackMs: 60_000, lostSince: 0 });
  assert.deepEqual(r.start, { kind: 'timestamp', ms: last - 60_000 });
  assert.equal(r.byTime, true);
  assert.equal(r.required, undefined);
  assert.match(r.describe, /may repeat/);

  const fresh = standbyResume(new HandOverTracker().state(), { fallbackMs: 1000, lostSince: 5000, standbyStart: { kind: 'position', file: 'b.000002', offset: 4 } });
  assert.deepEqual(fresh.start, { kind: 'position', file: 'b.000002', offset: 4 });
  const none = standbyResume(new HandOverTracker().state(), { fallbackMs: 1000, lostSince: 5000 });
  assert.deepEqual(none.start, { kind: 'timestamp', ms: 4000 });
});

test('MariaDB GTID coverage compares each domain by sequence number', () => {
  assert.equal(mariadbCovers('0-1-100', '0-1-100'), true);
  assert.equal(mariadbCovers('0-2-101', '0-1-100'), true, 'a later transaction of another server in the domain');
  assert.equal(mariadbCovers('0-1-99', '0-1-100'), false);
  assert.equal(mariadbCovers('0-1-100', '0-1-50,1-1-3'), false, 'a domain the standby lacks');
  assert.equal(mariadbCovers('0-1-100,1-1-3', '0-1-50,1-1-3'), true);
  assert.equal(mariadbCovers('', ''), true);
});

test("a restart on the master resumes after a standby's cursor by its GTID, or its time", () => {
  const cursor = { journalName: 'binlog.000001', position: 900, nextPosition: 931, serverId: 1, timestamp: 1_700_000_060_000, gtid: '0-1-42' };
  const standby = { host: 'db2', port: 3307 };
  const start = { kind: 'cursor' as const, cursor };
  assert.deepEqual(startOnMaster(start, { address: 'db1', port: 3306 }, standby, 60_000), { start });
  assert.deepEqual(startOnMaster(start, undefined, standby, 60_000), { start });
  const g = startOnMaster(start, { address: 'db2', port: 3307 }, standby, 60_000);
  assert.deepEqual(g.start, { kind: 'gtid', gtid: '0-1-42' });
  assert.match(g.reason ?? '', /taken on the standby db2:3307/);
  const t = startOnMaster({ kind: 'cursor', cursor: { ...cursor, gtid: '' } }, { address: 'db2', port: 3307 }, standby, 60_000);
  assert.deepEqual(t.start, { kind: 'timestamp', ms: 1_700_000_000_000 });
  assert.match(t.reason ?? '', /may repeat/);
});

test('a run that resumed inside a transaction hands the standby the acknowledged entries to drop as well', () => {
  const h = new HandOverTracker();
  // The parser resumed at 0-1-9 and dropped the first 2 entries of transaction 10 (BEGIN, a),
  // acknowledged before the restart; it handed on b, then the source was lost.
  h.seed('0-1-9', 0, 2);
  const t10 = tx(10, ['a', 'b', 'c']);
  h.note(t10.slice(2, 3));
  const r = standbyResume(h.state(), { fallbackMs: 60_000, lostSince: 0 });
  assert.deepEqual(r.start, { kind: 'gtid', gtid: '0-1-9' });
  assert.match(r.describe, /dropping the 3 entries of 0-1-10/);
  const skip = new OpenTransactionSkip(r.skip!, 'db2:3306');
  const again = tx(10, ['a', 'b', 'c']);
  assert.deepEqual(skip.filter(again), again.slice(3), 'BEGIN and a (known only by their GTID) and b dropped');
  assert.throws(() => new OpenTransactionSkip(r.skip!, 'db2:3306').filter(tx(11, ['a'])), /in GTID 0-1-11 where the source had an entry of 0-1-10/);
});

test("a restart after a standby's cursor inside a transaction keeps the cursor's skip", () => {
  const cursor = { journalName: 'binlog.000001', position: 900, nextPosition: 900, serverId: 1, timestamp: 1, gtid: '0-1-41', skip: 3 };
  const r = startOnMaster({ kind: 'cursor', cursor }, { address: 'db2', port: 3307 }, { host: 'db2', port: 3307 }, 60_000);
  assert.deepEqual(r.start, { kind: 'gtid', gtid: '0-1-41', skip: 3 });
});
