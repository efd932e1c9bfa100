// The client reads MESSAGES bodies itself: the same batch id and entry bytes as packets.ts's
// decodeMessages (protobufjs), failing where it fails; a batch read from the body's spans gives
// the raw bytes and entries a batch of separate arrays gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readMessages } from '../../src/protocol/messages-reader.ts';
import { batchOfSpans, CanalBatch } from '../../src/client/entry.ts';
import { decodeMessages, decodePacket, messagesPacket, rawMessagesFrame } from '../../src/protocol/packets.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { EntryType } from '../../src/protocol/entry-model.ts';
import { varint } from '../client/support/varint.ts';


const bytesArb = fc.uint8Array({ maxLength: 12 });
const fieldNumber = fc.integer({ min: 3, max: 40 });
/** Unknown fields a newer server might add: varint, fixed64, bytes and fixed32 ones. */
const unknownArb = fc.oneof(
  fc.tuple(fieldNumber, fc.nat()).map(([f, v]) => [...varint(f << 3), ...varint(v)]),
  fieldNumber.map((f) => [...varint((f << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8]),
  fc.tuple(fieldNumber, bytesArb).map(([f, b]) => [...varint((f << 3) | 2), ...varint(b.length), ...b]),
  fieldNumber.map((f) => [...varint((f << 3) | 5), 1, 2, 3, 4]),
);
const entryField = bytesArb.map((b) => [0x12, ...varint(b.length), ...b]);

const bodyArb = fc
  .tuple(fc.option(fc.integer({ min: -5, max: 2 ** 40 })), fc.array(fc.oneof(entryField, unknownArb), { maxLength: 6 }), fc.option(fc.integer({ min: 0, max: 2 ** 40 })))
  .map(([id, fields, lateId]) => Buffer.from([...(id === null ? [] : [0x08, ...varint(id)]), ...fields.flat(), ...(lateId === null ? [] : [0x08, ...varint(lateId)])]));

function reference(body: Buffer): { batchId: number; entries: Buffer[] } | 'throws' {
  try {
    const m = decodeMessages(body);
    return { batchId: m.batchId, entries: m.entries.map((e) => Buffer.from(e)) };
  } catch {
    return 'throws';
  }
}

function read(body: Buffer): { batchId: number; entries: Buffer[] } | 'throws' {
  try {
    const m = readMessages(body);
    return { batchId: m.batchId, entries: m.starts.map((s, i) => Buffer.from(body.subarray(s, m.ends[i]))) };
  } catch {
    return 'throws';
  }
}

test('readMessages reads what decodeMessages reads, and throws where it throws (truncated bodies)', () => {
  fc.assert(
    fc.property(bodyArb, fc.nat(), (body, cut) => {
      assert.deepEqual(read(body), reference(body));
      // Cut anywhere: what protobufjs refuses is refused. protobufjs reads a varint cut within
      // its last 4 bytes past the end (as zeros); the client's reader refuses that too.
      const truncated = body.subarray(0, body.length === 0 ? 0 : cut % body.length);
      const mine = read(truncated);
      const theirs = reference(truncated);
      if (theirs === 'throws' || mine !== 'throws') assert.deepEqual(mine, theirs);
    }),
    { numRuns: 1000 },
  );
});

test('readMessages reads the bodies the server writes, raw frames and protobufjs-built packets alike', () => {
  const position = { file: 'b.000001', offset: 4, nextOffset: 10, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' };
  const entries = [1, 2, 3].map((i) => encodeEntry({ entryType: EntryType.TRANSACTIONEND, header: { logfileName: 'b.000001', logfileOffset: i }, end: { transactionId: String(i) }, position }));
  for (const packet of [rawMessagesFrame(9, entries).subarray(4), messagesPacket(9, entries)]) {
    const m = readMessages(decodePacket(packet).body);
    assert.equal(m.batchId, 9);
    assert.deepEqual(m.starts.map((s, i) => Buffer.from(m.body.subarray(s, m.ends[i]))), entries.map((e) => Buffer.from(e)));
    const spans = batchOfSpans(m.batchId, m.body, m.starts, m.ends);
    const plain = new CanalBatch(9, entries);
    assert.equal(spans.size, 3);
    assert.deepEqual(spans.raw.map((r) => Buffer.from(r)), entries.map((e) => Buffer.from(e)));
    assert.deepEqual(JSON.stringify(spans.entries), JSON.stringify(plain.entries));
    assert.equal(spans.entry(1), spans.entry(1), 'decoded once, then cached');
    assert.throws(() => spans.entry(3), /batch 9 has 3 entries; there is no entry 3/);
  }
  assert.throws(() => readMessages(Buffer.from([0x12, 5, 1])), /malformed Messages/);
});

test('an entry read in place cannot read past its own end into the next entry', () => {
  const position = { file: 'b.000001', offset: 4, nextOffset: 10, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' };
  const good = Buffer.from(encodeEntry({ entryType: EntryType.TRANSACTIONEND, header: { logfileName: 'b.000001' }, end: { transactionId: '1' }, position }));
  // The header's length claims one byte more than the entry has; the next entry would supply it.
  const bad = Buffer.from(good);
  bad[1] = bad[1]! + 1;
  const body = Buffer.concat([bad, good]);
  const spans = batchOfSpans(1, body, [0, bad.length], [bad.length, body.length]);
  assert.throws(() => spans.entry(0));
  assert.throws(() => new CanalBatch(1, [bad, good]).entry(0));
  assert.equal(spans.entry(1).transactionId, '1');
});

test('entries in place read their lazy parts right whenever asked, after other entries were decoded, and keep what is set', () => {
  const position = { file: 'b.000001', offset: 4, nextOffset: 10, serverId: 1, timestamp: 0, gtid: '0-1-5', gtidSet: '0-1-5' };
  const header = { logfileName: 'b.000001', logfileOffset: 4, executeTime: 1_700_000_000_000, gtid: '0-1-5' };
  const col = (name: string, value: string) => ({ index: 0, sqlType: 12, name, isKey: false, updated: true, isNull: false, value, mysqlType: 'varchar(9)' });
  const rowData = (n: number) => ({ beforeColumns: [], afterColumns: [col('a', `a${n}`), col('b', `b${n}`)] });
  const entries = [
    encodeEntry({ entryType: EntryType.TRANSACTIONBEGIN, header, begin: { threadId: 3 }, position }),
    encodeEntry({
      entryType: EntryType.ROWDATA,
      header: { ...header, schemaName: 'db', tableName: 't', eventType: 1, props: [{ key: 'rowsCount', value: '3' }] },
      rowChange: { tableId: 1, eventType: 1, isDdl: false, rowDatas: [rowData(1), rowData(2), rowData(3)] },
      position,
    }),
    encodeEntry({ entryType: EntryType.TRANSACTIONEND, header, end: { transactionId: '77' }, position }),
  ];
  const m = readMessages(decodePacket(messagesPacket(5, entries)).body);
  const spans = batchOfSpans(m.batchId, m.body, m.starts, m.ends);
  const plain = new CanalBatch(5, entries);
  const decoded = spans.entries;
  // Lazy parts last to first, so that each is read after the others' layouts were.
  for (let i = decoded.length - 1; i >= 0; i--) {
    const e = decoded[i]!;
    const p = plain.entry(i);
    assert.equal(e.transactionId, p.transactionId);
    assert.deepEqual(e.props, p.props);
    assert.deepEqual(e.header, p.header);
    assert.deepEqual(JSON.stringify(e.rows), JSON.stringify(p.rows));
    assert.equal(e.rows, e.rows, 'rows read once');
    assert.equal(e.header, e.header, 'header read once');
  }
  assert.equal(decoded[1]!.rows.length, 3);
  assert.deepEqual(decoded[1]!.rows.map((r) => r.after), [1, 2, 3].map((n) => ({ a: `a${n}`, b: `b${n}` })));
  assert.equal(decoded[2]!.transactionId, '77');
  const e = decoded[0]!;
  e.transactionId = 'x';
  e.props = { k: 'v' };
  e.header = { tableName: 'h' };
  e.rows = [];
  assert.deepEqual([e.transactionId, e.props, e.header, e.rows], ['x', { k: 'v' }, { tableName: 'h' }, []]);
  assert.equal(spans.entry(0).transactionId, 'x', 'the batch hands out the entry it cached');
});
