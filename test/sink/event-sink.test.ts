import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '../../src/protocol/entry-model.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { FilterError } from '../../src/config/table-filter.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { readItem } from '../store/items.ts';
import { begin, col, ddl, end, heartbeat, offsets, rows } from './entries.ts';

test('sink: include and exclude lists; begin/end and non-table statements pass untouched', () => {
  const sink = new EventSink({ include: 'shop\\..*', exclude: 'shop\\.audit' });
  const out = sink.filter([
    begin({ offset: 1 }),
    rows({ offset: 2 }, 'shop', 'orders'),
    rows({ offset: 3 }, 'shop', 'audit'),
    rows({ offset: 4 }, 'crm', 'customer'),
    end({ offset: 5 }),
    ddl({ offset: 6 }, 'crm', '', EventType.QUERY, 'CREATE DATABASE crm2'),
    ddl({ offset: 7 }, 'crm', 'customer', EventType.ALTER, 'ALTER TABLE customer ADD x INT'),
    ddl({ offset: 8 }, 'shop', 'orders', EventType.ALTER, 'ALTER TABLE orders ADD x INT'),
  ]);
  assert.deepEqual(offsets(out), [1, 2, 5, 6, 8]);
});

test('sink: a RENAME passes if either name passes', () => {
  const sink = new EventSink({ include: 'shop\\.orders' });
  const toShop = ddl({ offset: 1 }, 'tmp', 'staging', EventType.RENAME, 'RENAME TABLE tmp.staging TO shop.orders', ['shop.orders']);
  const fromShop = ddl({ offset: 2 }, 'shop', 'orders', EventType.RENAME, 'RENAME TABLE shop.orders TO tmp.old', ['tmp.old']);
  const neither = ddl({ offset: 3 }, 'tmp', 'a', EventType.RENAME, 'RENAME TABLE tmp.a TO tmp.b', ['tmp.b']);
  assert.deepEqual(offsets(sink.filter([toShop, fromShop, neither])), [1, 2]);
});

test('sink: category drops for insert, update, delete and DDL', () => {
  const all = [
    rows({ offset: 1 }, 'd', 't', EventType.INSERT),
    rows({ offset: 2 }, 'd', 't', EventType.UPDATE),
    rows({ offset: 3 }, 'd', 't', EventType.DELETE),
    ddl({ offset: 4 }, 'd', 't', EventType.ALTER, 'ALTER TABLE t ADD y INT'),
  ];
  assert.deepEqual(offsets(new EventSink({ drop: { insert: true } }).filter(all)), [2, 3, 4]);
  assert.deepEqual(offsets(new EventSink({ drop: { update: true } }).filter(all)), [1, 3, 4]);
  assert.deepEqual(offsets(new EventSink({ drop: { delete: true } }).filter(all)), [1, 2, 4]);
  assert.deepEqual(offsets(new EventSink({ drop: { ddl: true } }).filter(all)), [1, 2, 3]);
});

test('sink: column include and exclude lists keep each column real index; names compare upper-cased', () => {
  const cols = [col(0, 'id', '1'), col(1, 'name', 'x'), col(2, 'secret', 's'), col(3, 'note', 'n')];
  const entry = rows({ offset: 1 }, 'Shop', 'Users', EventType.UPDATE, cols);
  const kept = new EventSink({ includeColumns: 'shop.users:ID/Note' }).filter([entry])[0]!;
  assert.deepEqual(kept.rowChange!.rowDatas[0]!.afterColumns.map((c) => [c.index, c.name]), [[0, 'id'], [3, 'note']]);
  assert.deepEqual(kept.rowChange!.rowDatas[0]!.beforeColumns.map((c) => c.index), [0, 3]);
  const dropped = new EventSink({ excludeColumns: 'SHOP.USERS:secret' }).filter([entry])[0]!;
  assert.deepEqual(dropped.rowChange!.rowDatas[0]!.afterColumns.map((c) => c.index), [0, 1, 3]);
  assert.equal(entry.rowChange!.rowDatas[0]!.afterColumns.length, 4, 'the parser entry itself is not modified');
  const other = rows({ offset: 2 }, 'shop', 'orders', EventType.INSERT, cols);
  assert.equal(new EventSink({ includeColumns: 'shop.users:id' }).filter([other])[0], other, 'other tables untouched');
  assert.throws(() => new EventSink({ includeColumns: 'shop.users' }), (e: unknown) => e instanceof FilterError && e.key === 'canal.instance.filter.field' && /schema\.table:col1\/col2/.test(e.message));
});

test('sink: transactions left empty are dropped, one pair passes per 5 s of binlog time', () => {
  const sink = new EventSink({ include: 'keep\\..*' });
  const t0 = 1_700_000_000_000;
  const emptyTxn = (o: number, ts: number) => [begin({ offset: o, ts }), rows({ offset: o + 1, ts }, 'skip', 't'), end({ offset: o + 2, ts })];
  assert.deepEqual(offsets(sink.filter(emptyTxn(10, t0))), [10, 12], 'the first empty pair passes');
  assert.deepEqual(offsets(sink.filter(emptyTxn(20, t0 + 1000))), []);
  assert.deepEqual(offsets(sink.filter(emptyTxn(30, t0 + 4000))), []);
  assert.deepEqual(offsets(sink.filter(emptyTxn(40, t0 + 5001))), [40, 42], 'more than 5 s of binlog time later');
  // a transaction with a surviving row keeps BEGIN and END, even when BEGIN came in an earlier call
  assert.deepEqual(offsets(sink.filter([begin({ offset: 50, ts: t0 + 5002 })])), []);
  assert.deepEqual(offsets(sink.filter([rows({ offset: 51 }, 'skip', 't')])), []);
  assert.deepEqual(offsets(sink.filter([rows({ offset: 52 }, 'keep', 't')])), [50, 52]);
  assert.deepEqual(offsets(sink.filter([end({ offset: 53, ts: t0 + 5002 })])), [53]);
  const stats = sink.createStream().stats();
  assert.equal(stats.entriesIn, 0, 'a new stream has its own state');
});

test('sink: after 8192 suppressed empty transactions one passes regardless of time', () => {
  const sink = new EventSink({ include: 'keep\\..*', emptyTransactionThreshold: 3 });
  const out: number[] = [];
  for (let i = 0; i < 6; i++) out.push(...offsets(sink.filter([begin({ offset: i * 10, ts: 1000 }), end({ offset: i * 10 + 1, ts: 1000 })])));
  assert.deepEqual(out, [0, 1, 40, 41]);
  assert.equal(new EventSink().emptyTransactionThreshold, 8192);
});

test('sink: heartbeats move the position but never pass', () => {
  const stream = new EventSink().createStream();
  assert.deepEqual(stream.filter([heartbeat({ offset: 99 })]), []);
  assert.equal(stream.stats().lastPosition?.offset, 99);
});

test('sink: narrow() is the instance filter AND the client filter, never wider', () => {
  const sink = new EventSink({ include: 'shop\\..*', exclude: 'shop\\.audit' });
  const item = (schema: string, table: string) => readItem(encodeEntry(rows({ offset: 1 }, schema, table)));
  const wide = sink.narrow('.*\\..*');
  assert.equal(wide.accept(item('crm', 'customer')), false, 'a wider client filter cannot widen');
  assert.equal(wide.accept(item('shop', 'audit')), false, 'nor undo the exclude list');
  assert.equal(wide.accept(item('shop', 'orders')), true);
  const narrow = sink.narrow('shop\\.orders');
  assert.equal(narrow.accept(item('shop', 'orders')), true);
  assert.equal(narrow.accept(item('shop', 'items')), false);
  assert.equal(narrow.accept(readItem(encodeEntry(begin({ offset: 1 })))), true, 'begin/end always pass');
  assert.match(narrow.description, /shop\\\\\.\.\*.*shop\\\\\.audit.*AND subscription filter \(include\): "shop\\\\\.orders"/);
  assert.equal(sink.narrow('').accept(item('shop', 'items')), true);
  assert.throws(() => sink.narrow('shop\\.(x'), (e: unknown) => e instanceof FilterError && e.key === 'subscription filter');
});

test('sink: hidden tables (snapshot watermarks) never pass, whatever the filters; their transactions are left empty, as a filtered table leaves them', () => {
  const sink = new EventSink({ include: '.*\\..*', hidden: ['sluice.snapshot_watermarks'] });
  const out = sink.filter([
    ddl({ offset: 1 }, 'sluice', '', EventType.QUERY, 'CREATE DATABASE IF NOT EXISTS `sluice`'),
    ddl({ offset: 2 }, 'sluice', 'snapshot_watermarks', EventType.CREATE, 'CREATE TABLE IF NOT EXISTS `sluice`.`snapshot_watermarks` (x INT)'),
    begin({ offset: 3, ts: 1_700_000_000_000 }),
    rows({ offset: 4 }, 'Sluice', 'Snapshot_Watermarks', EventType.UPDATE),
    end({ offset: 5, ts: 1_700_000_000_000 }),
    begin({ offset: 6 }),
    rows({ offset: 7 }, 'sluice', 'other'),
    end({ offset: 8 }),
    ddl({ offset: 9 }, 'shop', '', EventType.QUERY, 'CREATE DATABASE shop'),
  ]);
  // the first empty transaction passes bare, as for any filtered table (cursors advance)
  assert.deepEqual(offsets(out), [3, 5, 6, 7, 8, 9]);
  assert.equal(sink.narrow('sluice\\..*').accept({ entryType: rows({ offset: 1 }, 'sluice', 'snapshot_watermarks').entryType, eventType: EventType.INSERT, isDdl: false, schema: 'sluice', table: 'snapshot_watermarks' }), false);
});
