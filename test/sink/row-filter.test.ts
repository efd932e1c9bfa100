// Row filters by content on entries as the parser builds them (lazy cell rows) and as plain
// Column objects: in / notIn, NULL, numbers as text, updates by their after image, deletes by
// their before image, rowsCount kept true, entries left empty dropped, a missing column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, type Column, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { RowFilter } from '../../src/sink/row-filter.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { begin, end, rows } from './entries.ts';

function col(name: string, value: string | null, index = 0): Column {
  return { index, sqlType: 4, name, isKey: false, updated: false, isNull: value === null, value: value ?? '', mysqlType: 'int' };
}

function entry(eventType: EventType, images: { before?: (string | null)[]; after?: (string | null)[] }[]): ParsedEntry {
  const e = rows({ offset: 10 }, 'shop', 'orders');
  return {
    ...e,
    header: { ...e.header, eventType, props: [{ key: 'rowsCount', value: String(images.length) }] },
    rowChange: {
      eventType,
      isDdl: false,
      rowDatas: images.map((im) => ({
        beforeColumns: (im.before ?? []).map((v, i) => col(i === 0 ? 'id' : 'tenant_id', v, i)),
        afterColumns: (im.after ?? []).map((v, i) => col(i === 0 ? 'id' : 'tenant_id', v, i)),
      })),
    },
  };
}

test('row filter: in keeps listed values (numbers compare as text, null as NULL); notIn drops them; rowsCount follows', () => {
  const ins = entry(EventType.INSERT, [{ after: ['1', '7'] }, { after: ['2', '8'] }, { after: ['3', null] }, { after: ['4', '9'] }]);
  const keep = new RowFilter([{ table: 'SHOP.orders', column: 'TENANT_ID', mode: 'in', values: [7, '9', null] }], 'filter.rows');
  const out = keep.apply(ins)!;
  assert.deepEqual(out.rowChange!.rowDatas.map((r) => r.afterColumns[0]!.value), ['1', '3', '4']);
  assert.deepEqual(out.header.props, [{ key: 'rowsCount', value: '3' }]);
  assert.equal(ins.rowChange!.rowDatas.length, 4, 'the entry itself is not changed (other destinations share it)');
  const drop = new RowFilter([{ table: 'shop.orders', column: 'tenant_id', mode: 'notIn', values: [7, 9] }], 'filter.rows');
  assert.deepEqual(drop.apply(ins)!.rowChange!.rowDatas.map((r) => r.afterColumns[0]!.value), ['2', '3']);
  const none = new RowFilter([{ table: 'shop.orders', column: 'tenant_id', mode: 'in', values: [100] }], 'filter.rows');
  assert.equal(none.apply(ins), undefined, 'an entry left without rows is dropped');
  const other = new RowFilter([{ table: 'shop.users', column: 'tenant_id', mode: 'in', values: [100] }], 'filter.rows');
  assert.equal(other.apply(ins), ins, 'other tables pass untouched, as the same object');
});

test('row filter: updates are judged by the after image, deletes by the before image; a missing column fails closed for in', () => {
  const f = new RowFilter([{ table: 'shop.orders', column: 'tenant_id', mode: 'in', values: [1] }], 'filter.rows');
  const upd = entry(EventType.UPDATE, [{ before: ['1', '2'], after: ['1', '1'] }, { before: ['2', '1'], after: ['2', '2'] }]);
  assert.deepEqual(f.apply(upd)!.rowChange!.rowDatas.map((r) => r.afterColumns[0]!.value), ['1']);
  const del = entry(EventType.DELETE, [{ before: ['1', '1'] }, { before: ['2', '3'] }]);
  assert.deepEqual(f.apply(del)!.rowChange!.rowDatas.map((r) => r.beforeColumns[0]!.value), ['1']);
  const warnings: string[] = [];
  const missing = new RowFilter([{ table: 'shop.orders', column: 'region', mode: 'in', values: ['eu'] }], 'filter.rows', (m) => warnings.push(m));
  assert.equal(missing.apply(upd), undefined);
  missing.apply(upd);
  assert.equal(warnings.length, 1, 'warned once per table and column');
  assert.match(warnings[0]!, /shop\.orders has no column REGION/);
});

test('row filter in the sink: a transaction whose rows are all filtered out is suppressed like any empty one', () => {
  const sink = new EventSink({ rows: [{ table: 'shop.orders', column: 'tenant_id', mode: 'in', values: [5] }] });
  const keep = entry(EventType.INSERT, [{ after: ['1', '5'] }]);
  const gone = entry(EventType.INSERT, [{ after: ['2', '6'] }]);
  const out1 = sink.filter([begin({ offset: 1 }), keep, end({ offset: 3 })]);
  assert.equal(out1.length, 3);
  const out2 = sink.filter([begin({ offset: 4, ts: 1_700_000_000_500 }), gone, end({ offset: 6, ts: 1_700_000_000_500 })]);
  assert.equal(out2.length, 2, 'an empty BEGIN/END pair may pass (Canal rule) but the row does not');
  assert.ok(out2.every((e) => e.rowChange === undefined));
  assert.throws(() => new EventSink({ rows: [{ table: 'orders', column: 'x', mode: 'in', values: [1] }] }), /filter\.rows\[0\]: table "orders" must be schema\.table/);
});
