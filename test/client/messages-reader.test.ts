// The client reads MESSAGES bodies itself: the same batch id and entry bytes as packets.ts's
// decodeMessages (protobufjs), failing where it fails; a batch read from the body's spans gives
// the raw bytes and entries a batch of separate arrays gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readMessages } from '../../src/client/messages-reader.ts';
import { batchOfSpans, CanalBatch } from '../../src/client/entry.ts';
import { decodeMessages, decodePacket, messagesPacket, rawMessagesFrame } from '../../src/protocol/packets.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { EntryType } from '../../src/protocol/entry-model.ts';

/** A protobuf varint of the 64-bit two's complement of `n`. */
function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

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
