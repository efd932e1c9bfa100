// Decoding entries for consumers: the fast decoder agrees with entry-codec's decodeEntry on any
// entry, the lazy typed view gives the same values as the reference view built from
// decodeEntry (whatever is read first), rows map to before/after values exactly, and batches
// decode lazily.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEntry, encodeEntry } from '../../src/protocol/entry-codec.ts';
import { EntryType, EventType, type Column, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { readEntry } from '../../src/protocol/entry-reader.ts';
import { CanalBatch, canalEntryOf, toCanalEntry, type CanalEntry } from '../../src/client/entry.ts';
import { varint } from './support/varint.ts';

const position = { file: 'binlog.000001', offset: 4, nextOffset: 10, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' };
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const pairs = fc.array(fc.record({ key: text, value: text }), { maxLength: 2 });
const int64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const columnArb: fc.Arbitrary<Column> = fc.record(
  {
    index: fc.integer({ min: 0, max: 4000 }),
    sqlType: fc.constantFrom(-7, -6, -5, 1, 3, 4, 12, 91, 93, 1111, 2004, 2005),
    name: text,
    isKey: fc.boolean(),
    updated: fc.boolean(),
    isNull: fc.boolean(),
    value: text,
    mysqlType: text,
    props: pairs,
  },
  { requiredKeys: ['index', 'sqlType', 'name', 'isNull'] },
);

const headerArb = fc.record(
  {
    version: fc.constant(1),
    logfileName: text,
    logfileOffset: int64,
    serverId: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    serverenCode: fc.constant('UTF-8'),
    executeTime: int64,
    sourceType: fc.constant(2),
    schemaName: text,
    tableName: text,
    eventLength: fc.integer({ min: 0, max: 2 ** 31 }),
    eventType: fc.integer({ min: 1, max: 15 }) as fc.Arbitrary<ParsedEntry['header']['eventType'] & number>,
    props: pairs,
    gtid: text,
  },
  { requiredKeys: [] },
);

const entryArb: fc.Arbitrary<ParsedEntry> = fc.oneof(
  fc.record({
    entryType: fc.constant(EntryType.ROWDATA),
    header: headerArb,
    rowChange: fc.record(
      {
        tableId: int64,
        eventType: fc.integer({ min: 1, max: 15 }) as fc.Arbitrary<(typeof EventType)[keyof typeof EventType]>,
        isDdl: fc.boolean(),
        sql: text,
        rowDatas: fc.array(fc.record({ beforeColumns: fc.array(columnArb, { maxLength: 3 }), afterColumns: fc.array(columnArb, { maxLength: 3 }), props: pairs }, { requiredKeys: ['beforeColumns', 'afterColumns'] }), { maxLength: 3 }),
        props: pairs,
        ddlSchemaName: text,
      },
      { requiredKeys: ['eventType', 'isDdl', 'rowDatas'] },
    ),
    position: fc.constant(position),
  }),
  fc.record({ entryType: fc.constant(EntryType.TRANSACTIONBEGIN), header: headerArb, begin: fc.record({ threadId: int64, transactionId: text, props: pairs }, { requiredKeys: [] }), position: fc.constant(position) }),
  fc.record({ entryType: fc.constant(EntryType.TRANSACTIONEND), header: headerArb, end: fc.record({ transactionId: text, props: pairs }, { requiredKeys: [] }), position: fc.constant(position) }),
) as fc.Arbitrary<ParsedEntry>;

test('the fast decoder returns exactly what decodeEntry returns', () => {
  fc.assert(
    fc.property(entryArb, (e) => {
      const bytes = encodeEntry(e);
      assert.deepEqual(readEntry(bytes), decodeEntry(bytes));
      assert.deepEqual(readEntry(Buffer.from(bytes)), decodeEntry(bytes));
    }),
    { numRuns: 500 },
  );
});

const entryFields = ['entryType', 'logfileName', 'logfileOffset', 'serverId', 'executeTime', 'eventLength', 'schemaName', 'tableName', 'eventType', 'isDdl', 'sql', 'gtid', 'transactionId', 'props', 'rows', 'header'] as const;
const rowFields = ['before', 'after', 'beforeColumns', 'afterColumns'] as const;

/** Every field of an entry and of its rows as plain data, read in the order of `seed`'s shuffle. */
function view(e: CanalEntry, seed: number): Record<string, unknown> {
  const order = <T>(xs: readonly T[], salt: number): T[] => xs.map((x, i) => [x, ((i + 1) * 7919 * (seed + salt + 1)) % 1009] as const).sort((a, b) => a[1] - b[1]).map(([x]) => x);
  const out: Record<string, unknown> = {};
  for (const f of order(entryFields, 0)) {
    if (f !== 'rows') {
      out[f] = e[f];
      continue;
    }
    out.rows = e.rows.map((r, i) => {
      const row: Record<string, unknown> = {};
      for (const rf of order(rowFields, i + 1)) row[rf] = r[rf];
      return row;
    });
  }
  return out;
}

test('the lazy consumer view gives the values of the reference view, in any order of reading', () => {
  fc.assert(
    fc.property(entryArb, fc.nat(1000), (e, seed) => {
      const bytes = encodeEntry(e);
      const reference = canalEntryOf(decodeEntry(bytes));
      assert.deepEqual(view(toCanalEntry(bytes), seed), view(reference, 0));
      assert.deepEqual(view(toCanalEntry(Buffer.from(bytes)), seed + 1), view(reference, 0));
      assert.equal(JSON.stringify(toCanalEntry(bytes)), JSON.stringify(reference));
    }),
    { numRuns: 500 },
  );
});

// Rows of a few tables in turn, so that column names and types repeat by position across rows
// and entries (what the decoder's string reuse and map templates depend on), with some names
// that differ only in byte order, a non-ASCII one, an empty one, ones that a plain object
// treats specially, and integer-like ones (which objects order first).
const namePool = ['id', 'v', 'ab', 'ba', 'é', '', '__proto__', 'constructor', '7', '10'];
const tableArb = fc.uniqueArray(fc.constantFrom(...namePool), { maxLength: 5 }).chain((names) =>
  fc.record({ names: fc.constant(names), types: fc.array(fc.constantFrom('int(11)', 'varchar(10)', 'text'), { minLength: names.length, maxLength: names.length }) }),
);
const tableRowsArb = fc.array(tableArb, { minLength: 1, maxLength: 3 }).chain((tables) =>
  fc.array(
    fc.record({
      table: fc.nat(tables.length - 1),
      eventType: fc.constantFrom(EventType.INSERT, EventType.UPDATE, EventType.DELETE),
      images: fc.array(fc.tuple(fc.array(fc.option(text), { maxLength: 5 }), fc.array(fc.option(text), { maxLength: 5 })), { maxLength: 4 }),
    }),
    { maxLength: 6 },
  ).map((entries) =>
    entries.map(({ table, eventType, images }): ParsedEntry => {
      const t = tables[table]!;
      const columns = (vals: (string | null)[]): Column[] =>
        t.names.map((name, i) => ({ index: i, sqlType: 12, name, isKey: i === 0, updated: false, isNull: (vals[i] ?? null) === null, value: vals[i] ?? '', mysqlType: t.types[i]! }));
      return {
        entryType: EntryType.ROWDATA,
        header: { schemaName: 's', tableName: `t${table}`, eventType },
        rowChange: {
          eventType,
          isDdl: false,
          rowDatas: images.map(([b, a]) => ({ beforeColumns: eventType === EventType.INSERT ? [] : columns(b), afterColumns: eventType === EventType.DELETE ? [] : columns(a) })),
        },
        position,
      };
    }),
  ),
);

test('rows of repeating tables: the same maps, key order and Columns as the reference view', () => {
  fc.assert(
    fc.property(tableRowsArb, fc.nat(1000), (entries, seed) => {
      for (const e of entries) {
        const bytes = encodeEntry(e);
        const reference = canalEntryOf(decodeEntry(bytes));
        const lazy = toCanalEntry(bytes);
        assert.deepEqual(view(lazy, seed), view(reference, 0));
        // Key order matters to consumers that print or serialize the maps.
        assert.deepEqual(lazy.rows.map((r) => [Object.keys(r.before), Object.keys(r.after)]), reference.rows.map((r) => [Object.keys(r.before), Object.keys(r.after)]));
        assert.equal(JSON.stringify(lazy), JSON.stringify(reference));
      }
    }),
    { numRuns: 300 },
  );
});

function col(index: number, name: string, value: string | null, extra: Partial<Column> = {}): Column {
  return { index, sqlType: 12, name, isNull: value === null, ...(value === null ? {} : { value }), mysqlType: 'varchar(10)', ...extra };
}

test('typed entries: enum names, before/after values exactly as the Column strings, null for NULL', () => {
  const update = toCanalEntry(
    encodeEntry({
      entryType: EntryType.ROWDATA,
      header: { version: 1, logfileName: 'b.000002', logfileOffset: 777, serverId: 3, executeTime: 1_700_000_001_000, schemaName: 's', tableName: 't', eventType: EventType.UPDATE, eventLength: 90, gtid: '0-3-9' },
      rowChange: {
        eventType: EventType.UPDATE,
        isDdl: false,
        rowDatas: [{ beforeColumns: [col(0, 'id', '1'), col(1, 'v', ''), col(2, 'w', null)], afterColumns: [col(0, 'id', '1'), col(1, 'v', '00.10'), col(2, 'w', 'x', { updated: true })] }],
      },
      position,
    }),
  );
  assert.equal(update.entryType, 'ROWDATA');
  assert.equal(update.eventType, 'UPDATE');
  assert.deepEqual(update.rows[0]!.before, { id: '1', v: '', w: null });
  assert.deepEqual(update.rows[0]!.after, { id: '1', v: '00.10', w: 'x' });
  assert.equal(update.rows[0]!.afterColumns[2]!.updated, true);
  assert.deepEqual([update.logfileName, update.logfileOffset, update.serverId, update.executeTime, update.eventLength, update.gtid], ['b.000002', 777, 3, 1_700_000_001_000, 90, '0-3-9']);

  const ddl = toCanalEntry(
    encodeEntry({ entryType: EntryType.ROWDATA, header: { schemaName: 's', tableName: 't', eventType: EventType.ALTER }, rowChange: { eventType: EventType.ALTER, isDdl: true, sql: 'ALTER TABLE t ADD c INT', rowDatas: [] }, position }),
  );
  assert.deepEqual([ddl.eventType, ddl.isDdl, ddl.sql, ddl.rows], ['ALTER', true, 'ALTER TABLE t ADD c INT', []]);

  const begin = toCanalEntry(encodeEntry({ entryType: EntryType.TRANSACTIONBEGIN, header: {}, begin: { threadId: 5 }, position }));
  assert.deepEqual([begin.entryType, begin.eventType, begin.transactionId], ['TRANSACTIONBEGIN', null, '']);
  const end = toCanalEntry(encodeEntry({ entryType: EntryType.TRANSACTIONEND, header: {}, end: { transactionId: '42' }, position }));
  assert.deepEqual([end.entryType, end.eventType, end.transactionId], ['TRANSACTIONEND', null, '42']);
});

test('a row that fails to decode leaves nothing behind for the next one', () => {
  const rowOf = (names: string[]): ParsedEntry => ({
    entryType: EntryType.ROWDATA,
    header: { tableName: 't' },
    rowChange: { eventType: EventType.INSERT, isDdl: false, rowDatas: [{ beforeColumns: [], afterColumns: names.map((n, i) => col(i, n, `${n}!`)) }] },
    position,
  });
  const good = Buffer.from(encodeEntry(rowOf(['a', 'b', 'c'])));
  // Its last column's value (tag 0x42) claims 127 bytes, past the end of the entry: the header
  // and the row's first column read fine, the second column fails.
  const bad = Buffer.from(encodeEntry(rowOf(['x', 'y'])));
  bad[bad.lastIndexOf(0x42) + 1] = 0x7f;
  assert.throws(() => toCanalEntry(bad).rows);
  assert.deepEqual(toCanalEntry(good).rows[0]!.after, { a: 'a!', b: 'b!', c: 'c!' });
});

test('a batch decodes each entry on first access only, and keeps the raw bytes', () => {
  const good = encodeEntry({ entryType: EntryType.TRANSACTIONEND, header: {}, end: { transactionId: '7' }, position });
  const junk = Uint8Array.from([0xff, 0xff, 0xff]);
  const batch = new CanalBatch(4, [good, junk]);
  assert.equal(batch.size, 2);
  assert.equal(batch.raw[1], junk);
  const first = batch.entry(0);
  assert.equal(first.transactionId, '7');
  assert.equal(batch.entry(0), first, 'decoded once, then cached');
  assert.throws(() => batch.entry(1));
  assert.throws(() => batch.entry(2), /batch 4 has 2 entries; there is no entry 2/);
});

// Hand-laid Column bytes, for layouts and value bytes that encodeEntry never writes.
const bytesField = (tag: number, bytes: Uint8Array | number[] | string): number[] => {
  const b = typeof bytes === 'string' ? [...Buffer.from(bytes)] : [...bytes];
  return [tag, ...varint(b.length), ...b];
};
/** A Column as the server lays it out: index, sqlType, name, isKey, updated, isNull, value, mysqlType. */
function columnBytes(index: number, sqlType: number, name: string, value: Uint8Array | null): number[] {
  return [0x08, ...varint(index), 0x10, ...varint(sqlType), ...bytesField(0x1a, name), 0x20, 0, 0x28, 0, 0x30, value === null ? 1 : 0, ...bytesField(0x42, value ?? []), ...bytesField(0x52, 'bigint(20)')];
}
function rowEntryBytes(table: string, columns: number[][]): Buffer {
  const rowData = columns.flatMap((c) => bytesField(0x12, c));
  const rowChange = [0x10, 1, ...bytesField(0x62, rowData)];
  return Buffer.from([...bytesField(0x0a, bytesField(0x4a, table)), 0x10, 2, ...bytesField(0x1a, rowChange)]);
}

test('row values are the UTF-8 text of their bytes, whatever the bytes (invalid sequences, U+FFFD, negative sqlTypes)', () => {
  const valueArb = fc.option(
    fc.oneof(
      fc.uint8Array({ maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 8 }).map((s) => new Uint8Array(Buffer.from(s))),
      fc.constantFrom(...[[0x80], [0xef, 0xbf, 0xbd], [0xc3, 0xa9], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0xa0, 0x80], [0x61, 0xff, 0x62]].map((b) => Uint8Array.from(b))),
    ),
  );
  fc.assert(
    fc.property(fc.array(fc.array(valueArb, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }), (rows) => {
      for (const values of rows) {
        const bytes = rowEntryBytes('t', values.map((v, i) => columnBytes(i, [-5, 12, -6][i]!, ['id', 'v', 'é'][i]!, v)));
        const expected = Object.fromEntries(values.map((v, i) => [['id', 'v', 'é'][i]!, v === null ? null : Buffer.from(v).toString('utf8')]));
        assert.deepEqual(toCanalEntry(bytes).rows[0]!.after, expected);
        assert.deepEqual(toCanalEntry(bytes).rows[0]!.after, canalEntryOf(decodeEntry(bytes)).rows[0]!.after);
      }
    }),
    { numRuns: 300 },
  );
});

test('a column that starts like the last one at its position but goes on differently is read in full', () => {
  const v = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
  const std = (value: string): number[] => columnBytes(0, -5, 'id', v(value));
  const head = [0x08, 0, 0x10, ...varint(-5), ...bytesField(0x1a, 'id')];
  const variants: number[][] = [
    // props after the name
    [...head, ...bytesField(0x3a, [...bytesField(0x0a, 'k'), ...bytesField(0x12, 'v')]), ...bytesField(0x42, 'p')],
    // a second name field: the last one wins
    [...head, ...bytesField(0x42, 'q'), ...bytesField(0x1a, 'other')],
    // a second value field, and isNull as a two-byte varint
    [...head, 0x30, 0x80, 0x00, ...bytesField(0x42, 'r1'), ...bytesField(0x42, 'r2')],
    // no value at all
    [...head, 0x30, 0],
    // NULL written as a multi-byte varint
    [...head, 0x30, 0x81, 0x00, ...bytesField(0x42, 'ignored')],
    // the name first, then index and sqlType
    [...bytesField(0x1a, 'id'), 0x08, 0, 0x10, ...varint(-5), ...bytesField(0x42, 's')],
    // the length field (9) after mysqlType
    [...std('t'), 0x48, 5],
  ];
  for (const variant of variants) {
    for (const cols of [[std('1')], [variant], [std('2')], [variant], [variant]]) {
      const bytes = rowEntryBytes('t', cols);
      const reference = canalEntryOf(decodeEntry(bytes)).rows[0]!;
      const lazy = toCanalEntry(bytes).rows[0]!;
      assert.deepEqual(lazy.after, reference.after);
      assert.deepEqual(Object.keys(lazy.after), Object.keys(reference.after));
      assert.deepEqual(lazy.afterColumns, reference.afterColumns);
    }
  }
});

test('a field that runs past the end of its message is refused, not read on into the next one', () => {
  // Entry { header (4 bytes): tableName of length 3, of which only 2 bytes lie inside the header; entryType 1 }
  const bytes = Buffer.from('0a044a0362621001', 'hex');
  assert.throws(() => toCanalEntry(bytes), /Header field runs past the end of its message/);
  assert.throws(() => readEntry(bytes), /Header field runs past the end of its message/);
});
