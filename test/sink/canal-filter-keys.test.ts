// Canal's category keys (canal.instance.filter.query.dcl|dml|ddl, filter.rows, filter.table.error,
// filter.transaction.entry) against one fixed stream: which entries survive each key, as Canal's
// LogEventConvert and EntryEventSink decide (docs/configuration.md, "Category drops").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, EventType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { EventSink, type CategoryDrops } from '../../src/sink/event-sink.ts';
import { begin, ddl, end, rows } from './entries.ts';

function statementDml(offset: number, sql: string): ParsedEntry {
  return {
    entryType: EntryType.ROWDATA,
    header: { version: 1, logfileName: 'binlog.000001', logfileOffset: offset, serverId: 1, executeTime: 1_700_000_000_000, sourceType: 2, schemaName: 'shop', tableName: 'orders', eventLength: 10, eventType: EventType.INSERT },
    rowChange: { eventType: EventType.INSERT, isDdl: false, sql, rowDatas: [] },
    position: { file: 'binlog.000001', offset, nextOffset: offset + 1, serverId: 1, timestamp: 1_700_000_000_000, gtid: '', gtidSet: '' },
  };
}

function xaCommit(offset: number): ParsedEntry {
  const e = statementDml(offset, "XA COMMIT 'x1'");
  e.header.eventType = EventType.XACOMMIT;
  e.header.tableName = '';
  e.rowChange = { eventType: EventType.XACOMMIT, isDdl: false, sql: "XA COMMIT 'x1'", rowDatas: [] };
  return e;
}

function missingTableRows(offset: number): ParsedEntry {
  const e = rows({ offset }, 'shop', 'gone');
  e.tableMissing = true;
  return e;
}

/** One stream with every kind of entry: the name after each offset says what it is. */
function stream(): ParsedEntry[] {
  return [
    begin({ offset: 1 }), //                                        B
    rows({ offset: 2 }, 'shop', 'orders'), //                       row
    missingTableRows(3), //                                         row of a dropped table
    end({ offset: 4 }), //                                          E
    begin({ offset: 5 }),
    statementDml(6, 'INSERT INTO orders VALUES (1)'), //             statement DML
    end({ offset: 7 }),
    ddl({ offset: 8 }, 'shop', 'orders', EventType.ALTER, 'ALTER TABLE orders ADD c INT'), // table DDL
    ddl({ offset: 9 }, 'shop', 'orders', EventType.CINDEX, 'CREATE INDEX i ON orders (c)'),
    ddl({ offset: 10 }, '', '', EventType.QUERY, "GRANT SELECT ON *.* TO 'u'@'%'"), // DCL
    ddl({ offset: 11 }, 'shop2', '', EventType.QUERY, 'CREATE DATABASE shop2'), //   other statement
    ddl({ offset: 12 }, '', '', EventType.QUERY, "CREATE USER 'v'@'%'"),
    xaCommit(13), //                                                 XA COMMIT (never category-dropped)
  ];
}

const golden: { key: string; drop: CategoryDrops; survivors: number[] }[] = [
  { key: '(none)', drop: {}, survivors: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] },
  { key: 'canal.instance.filter.query.dcl', drop: { dcl: true }, survivors: [1, 2, 3, 4, 5, 6, 7, 8, 9, 13] },
  { key: 'canal.instance.filter.query.ddl', drop: { ddl: true }, survivors: [1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13] },
  // a transaction left empty passes as a bare BEGIN/END when it is the first in 5 s of binlog time
  { key: 'canal.instance.filter.query.dml', drop: { queryDml: true }, survivors: [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13] },
  { key: 'canal.instance.filter.rows', drop: { rows: true }, survivors: [1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] },
  { key: 'canal.instance.filter.table.error', drop: { tableErrors: true }, survivors: [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] },
  // the first BEGIN passes (binlog time moved from 0), the rest within 5 s are dropped
  { key: 'canal.instance.filter.transaction.entry', drop: { transactionEntries: true }, survivors: [1, 2, 3, 6, 8, 9, 10, 11, 12, 13] },
];

for (const g of golden) {
  test(`Canal filter key ${g.key}: the entries that survive`, () => {
    const out = new EventSink({ drop: g.drop }).filter(stream());
    assert.deepEqual(out.map((e) => e.position.offset), g.survivors);
  });
}

test('filter.transaction.entry lets one BEGIN/END through per 5 s of binlog time, and after 8192 dropped', () => {
  const sink = new EventSink({ drop: { transactionEntries: true } });
  const ts = 1_700_000_000_000;
  const tx = (n: number, at: number): ParsedEntry[] => [begin({ offset: n * 3, ts: at }), rows({ offset: n * 3 + 1, ts: at }, 'd', 't'), end({ offset: n * 3 + 2, ts: at })];
  const out = sink.filter([...tx(1, ts), ...tx(2, ts + 1000), ...tx(3, ts + 5001), ...tx(4, ts + 5002)]);
  const kinds = out.map((e) => (e.entryType === EntryType.ROWDATA ? 'R' : e.entryType === EntryType.TRANSACTIONBEGIN ? 'B' : 'E'));
  assert.deepEqual(kinds, ['B', 'R', 'R', 'B', 'R', 'R']);
  const many = new EventSink({ drop: { transactionEntries: true } });
  const entries: ParsedEntry[] = [];
  for (let n = 0; n < 4200; n++) entries.push(...tx(n, ts));
  const passed = many.filter(entries).filter((e) => e.entryType !== EntryType.ROWDATA).length;
  // the first, then one after each 8192 dropped
  assert.equal(passed, 2);
});

test('entries naming no table are not judged by an include filter (Canal: only query.dcl drops them)', () => {
  // 1, 4: the first transaction, emptied by the filter, passes as a bare pair; the second is dropped
  const out = new EventSink({ include: 'bar\\..*' }).filter(stream());
  assert.deepEqual(out.map((e) => e.position.offset), [1, 4, 10, 11, 12, 13]);
  const dcl = new EventSink({ include: 'bar\\..*', drop: { dcl: true } }).filter(stream());
  assert.deepEqual(dcl.map((e) => e.position.offset), [1, 4, 13]);
});
