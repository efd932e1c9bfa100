// The hand-written entry codec against protobufjs's reflection: the writer's bytes are
// protobufjs's on random entries of every kind, with every optional field present or absent,
// negative and 64-bit integers, and strings of every length around protobufjs's 40-unit
// JS/native switch (lone surrogates included); the reader (entry-reader.ts) reads what protobufjs
// reads from bytes either wrote, and from arbitrary bytes it reads the same or refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeEntry, encodeEntryAt, encodeEntryReference, decodeEntry } from '../../src/protocol/entry-codec.ts';
import type { Column, Header, Pair, ParsedEntry, RowData } from '../../src/protocol/entry-model.ts';
import { readEntry } from '../../src/protocol/entry-reader.ts';

const str = fc.oneof(
  fc.string({ maxLength: 45 }),
  fc.string({ unit: 'binary', maxLength: 45 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '\u{1f600}', '\ud800', '\udc00', '中'), minLength: 35, maxLength: 300 }),
  fc.string({ minLength: 100, maxLength: 2000 }),
);
const int32 = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.integer({ min: -2147483648, max: 2147483647 }));
const int64 = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.maxSafeInteger(), fc.constantFrom(2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1, 1_700_000_000_123));
const opt = <T,>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });

const pair: fc.Arbitrary<Pair> = fc.record({ key: str, value: str });
const pairs = opt(fc.array(pair, { maxLength: 3 }));

const header: fc.Arbitrary<Header> = fc.record(
  {
    version: int32,
    logfileName: str,
    logfileOffset: int64,
    serverId: int64,
    serverenCode: str,
    executeTime: int64,
    sourceType: fc.integer({ min: 0, max: 3 }),
    schemaName: str,
    tableName: str,
    eventLength: int64,
    eventType: fc.integer({ min: 0, max: 15 }) as fc.Arbitrary<Header['eventType'] & number>,
    props: fc.array(pair, { maxLength: 3 }),
    gtid: str,
  },
  { requiredKeys: [] },
);

const column: fc.Arbitrary<Column> = fc.record(
  {
    index: int32,
    sqlType: int32,
    name: str,
    isKey: fc.boolean(),
    updated: fc.boolean(),
    isNull: fc.boolean(),
    value: str,
    mysqlType: str,
    props: fc.array(pair, { maxLength: 2 }),
    length: int32,
  },
  { requiredKeys: ['index', 'sqlType', 'name', 'isNull'] },
);

const rowData: fc.Arbitrary<RowData> = fc.record({
  beforeColumns: fc.array(column, { maxLength: 6 }),
  afterColumns: fc.array(column, { maxLength: 6 }),
  props: pairs,
});

const position = { file: 'binlog.000001', offset: 4, nextOffset: 100, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' };

const entry: fc.Arbitrary<ParsedEntry> = fc.oneof(
  fc.record({
    entryType: fc.constant(2 as const),
    header,
    rowChange: opt(
      fc.record({
        tableId: opt(int64),
        eventType: fc.integer({ min: 0, max: 15 }) as fc.Arbitrary<1>,
        isDdl: fc.boolean(),
        sql: opt(str),
        rowDatas: fc.array(rowData, { maxLength: 5 }),
        props: pairs,
        ddlSchemaName: opt(str),
      }),
    ),
    position: fc.constant(position),
  }),
  fc.record({
    entryType: fc.constant(1 as const),
    header,
    begin: opt(fc.record({ threadId: int64, transactionId: str, props: fc.array(pair, { maxLength: 2 }) }, { requiredKeys: [] })),
    position: fc.constant(position),
  }),
  fc.record({
    entryType: fc.constant(3 as const),
    header,
    end: opt(fc.record({ transactionId: str, props: fc.array(pair, { maxLength: 2 }) }, { requiredKeys: [] })),
    position: fc.constant(position),
  }),
  fc.record({ entryType: fc.constantFrom(4 as const, 5 as const), header, position: fc.constant(position) }),
) as fc.Arbitrary<ParsedEntry>;

test('encodeEntry writes the same bytes as protobufjs reflection on random entries', () => {
  fc.assert(
    fc.property(entry, (e) => {
      assert.deepEqual(Buffer.from(encodeEntry(e)), Buffer.from(encodeEntryReference(e)));
    }),
    { numRuns: 1500 },
  );
});

test('readEntry reads what protobufjs reads from entries protobufjs wrote', () => {
  fc.assert(
    fc.property(entry, (e) => {
      const bytes = Buffer.from(encodeEntryReference(e));
      assert.deepEqual(readEntry(bytes), decodeEntry(bytes));
    }),
    { numRuns: 1500 },
  );
});

test('on cut, flipped or extended entry bytes readEntry reads what protobufjs reads, or refuses', () => {
  let compared = 0;
  fc.assert(
    fc.property(entry, fc.nat(), fc.nat(255), fc.uint8Array({ maxLength: 4 }), fc.integer({ min: 0, max: 2 }), (e, at, flip, tail, how) => {
      const whole = Buffer.from(encodeEntryReference(e));
      let b: Buffer;
      if (how === 0) b = whole.subarray(0, at % (whole.length + 1));
      else if (how === 1) b = Buffer.concat([whole, Buffer.from(tail)]);
      else {
        b = Buffer.from(whole);
        if (b.length > 0) b.writeUInt8(b.readUInt8(at % b.length) ^ (1 << (flip % 8)), at % b.length);
      }
      let expected: unknown;
      try {
        expected = decodeEntry(b);
      } catch {
        expected = undefined;
      }
      let actual: unknown;
      try {
        actual = readEntry(b);
      } catch {
        actual = undefined;
      }
      // protobufjs reads some malformed bytes anyway (a string cut short at the end, a field
      // running past the end of its message into the next); the reader checks every length and
      // refuses them.
      if (actual === undefined) return;
      assert.notEqual(expected, undefined, `readEntry read bytes protobufjs refuses: ${b.toString('hex')}`);
      assert.deepEqual(actual, expected);
      compared++;
    }),
    { numRuns: 1500 },
  );
  assert.ok(compared > 300, `only ${compared} of 1500 read by both`);
});

// The store lends its ring's free bytes: an entry written there from any offset, into room that
// may be too small (the writer then moves to a buffer of its own), is the same bytes, and nothing
// outside [start, end of room) is touched while it fits.
test('encodeEntryAt writes the same bytes at any offset of lent memory, also when it outgrows it', () => {
  fc.assert(
    fc.property(entry, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 400 }), (e, start, room) => {
      const ref = Buffer.from(encodeEntryReference(e));
      const block = Buffer.alloc(start + room + 8, 0xee);
      const target = block.subarray(0, start + room);
      const w = encodeEntryAt(e, target, new DataView(block.buffer, block.byteOffset, start + room), start);
      assert.deepEqual(Buffer.from(w.buf.subarray(start, w.pos)), ref);
      if (w.buf === target) {
        assert.ok(ref.length <= room);
        assert.ok(block.subarray(0, start).every((b) => b === 0xee), 'bytes before start untouched');
      }
      assert.ok(block.subarray(start + room).every((b) => b === 0xee), 'bytes past the room untouched');
    }),
    { numRuns: 1500 },
  );
});

test('entries of hundreds of rows (lengths of several varint bytes) match too, and decode back', () => {
  const col = (i: number, v: string): Column => ({ index: i, sqlType: 12, name: `c${i}`, isKey: i === 0, updated: true, isNull: false, value: v, mysqlType: 'varchar(64)' });
  for (const rows of [1, 3, 200, 3000]) {
    const rowDatas: RowData[] = Array.from({ length: rows }, (_, r) => ({ beforeColumns: [], afterColumns: [col(0, String(r)), col(1, 'x'.repeat(r % 300)), col(2, 'é'.repeat(r % 50))] }));
    const e: ParsedEntry = {
      entryType: 2,
      header: { version: 1, logfileName: 'binlog.000001', logfileOffset: 4, schemaName: 's', tableName: 't', eventType: 1 },
      rowChange: { tableId: 9, eventType: 1, isDdl: false, rowDatas },
      position,
    };
    const bytes = encodeEntry(e);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(encodeEntryReference(e)), `${rows} rows`);
    assert.equal(decodeEntry(bytes).rowChange!.rowDatas.length, rows);
  }
});

// The writer keeps the encoded bytes of header fields that repeat (file, server id and encoding,
// source type and names, a single pair): sequences drawn from small pools of values, more names
// than it keeps slots for, equal texts in new strings, must each still match the reference.
test('sequences of entries with repeating and changing header fields match the reference entry by entry', () => {
  const few = <T,>(...vs: T[]): fc.Arbitrary<T | undefined> => opt(fc.constantFrom(...vs));
  const names = Array.from({ length: 12 }, (_, i) => (i === 0 ? '' : `n${i}${'é'.repeat(i % 3)}`));
  const repeating: fc.Arbitrary<Header> = fc.record(
    {
      version: few(1, 2, -1),
      logfileName: few('binlog.000001', 'binlog.000002', '', 'x'.repeat(45)),
      logfileOffset: int64,
      serverId: few(1, 2, 2 ** 33, -1),
      serverenCode: few('UTF-8', 'latin1', ''),
      executeTime: fc.oneof(few(0, 1795492590000, 1795492591000, -1), int64),
      sourceType: few(0, 1, 2),
      schemaName: few(...names),
      tableName: few(...names),
      eventLength: int64,
      eventType: few(1, 2, 3) as fc.Arbitrary<Header['eventType']>,
      props: opt(fc.array(fc.record({ key: fc.constantFrom('rowsCount', 'k'), value: fc.constantFrom('1', '2', '') }), { maxLength: 2 })),
      gtid: few('0-1-5', '0-1-6', '', '0-8700-100063', 'é-1'),
    },
    { requiredKeys: [] },
  );
  // New string objects with the same text, as every entry's strings are in the parser.
  const fresh = (s: string | undefined) => (s === undefined ? undefined : [...s].join(''));
  fc.assert(
    fc.property(fc.array(repeating, { minLength: 1, maxLength: 60 }), (headers) => {
      for (const h of headers) {
        const copy: Header = { ...h };
        for (const k of ['logfileName', 'serverenCode', 'schemaName', 'tableName', 'gtid'] as const) if (h[k] !== undefined) copy[k] = fresh(h[k])!;
        if (h.props) copy.props = h.props.map((p) => ({ key: fresh(p.key)!, value: fresh(p.value)! }));
        const e: ParsedEntry = { entryType: 1, header: copy, begin: { threadId: 3 }, position };
        assert.deepEqual(Buffer.from(encodeEntry(e)), Buffer.from(encodeEntryReference(e)));
      }
    }),
    { numRuns: 400 },
  );
});
