// Rows kept as cells (RowBatch) against the Column-object path they replace, on random tables,
// rows, row images and column masks: the Columns they materialize equal what the per-row
// Column code built (reproduced here from its last version), and the bytes encodeEntry writes
// from the cells equal protobufjs's encoding of those Columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { TableMapEntry } from '@vlasky/zongji';
import { encodeEntry, encodeEntryReference } from '../../src/protocol/entry-codec.ts';
import { ROW_WRITER, type SelfWritingRowData } from '../../src/protocol/entry-writer.ts';
import { ProtoWriter } from '../../src/protocol/proto-writer.ts';
import type { Column, ParsedEntry, RowData } from '../../src/protocol/entry-model.ts';
import { BinlogType } from '../../src/parser/columns/column-spec.ts';
import { buildTableCodec } from '../../src/parser/columns/table-codec.ts';
import type { TableCodec, TableMapInput } from '../../src/parser/columns/types.ts';
import { parseColumnRules } from '../../src/config/column-rules.ts';
import { ColumnFilter } from '../../src/sink/column-filter.ts';

interface ColumnDef {
  name: string;
  type: number;
  charset?: string | null;
  metadata?: Record<string, unknown>;
  schema?: Record<string, unknown>;
  value: fc.Arbitrary<unknown>;
}

const text = fc.oneof(fc.string({ maxLength: 50 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.string({ minLength: 40, maxLength: 400 }));
const COLUMN_KINDS: ColumnDef[] = [
  { name: 'i', type: BinlogType.LONG, value: fc.integer({ min: -2147483648, max: 2147483647 }) },
  { name: 'u', type: BinlogType.LONG, schema: { UNSIGNED: true }, value: fc.integer({ min: 0, max: 4294967295 }) },
  { name: 'ti', type: BinlogType.TINY, schema: { UNSIGNED: true }, value: fc.integer({ min: 0, max: 255 }) },
  {
    name: 'big',
    type: BinlogType.LONGLONG,
    schema: { UNSIGNED: true },
    value: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String)),
  },
  { name: 'd', type: BinlogType.NEWDECIMAL, metadata: { precision: 12, decimals: 2 }, value: fc.integer({ min: -99999999, max: 99999999 }).map((n) => (n / 100).toFixed(2)) },
  { name: 'v', type: BinlogType.VARCHAR, charset: 'utf8mb4', metadata: { max_length: 1024 }, value: text },
  { name: 's', type: BinlogType.SET, charset: 'utf8mb4', schema: { SET_VALUES: ['x', 'y', 'z'] }, value: fc.subarray(['x', 'y', 'z']).map((a) => a.join(',')) },
  { name: 'b', type: BinlogType.BLOB, metadata: { length_size: 2 }, value: fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)) },
  { name: 'dt', type: BinlogType.DATETIME2, metadata: { decimals: 3 }, value: fc.constantFrom('2024-01-02 03:04:05.678', '0000-00-00 00:00:00.000') },
  { name: 'Mixed Case', type: BinlogType.LONG, value: fc.integer() },
];

function codecFor(defs: ColumnDef[], key: number[]): TableCodec {
  const entry: TableMapEntry = {
    parentSchema: 'db',
    tableName: 't',
    columns: defs.map((c) => ({ name: c.name, type: c.type, charset: c.charset ?? null, metadata: c.metadata ?? {} })),
    columnSchemas: defs.map((c) => ({ COLUMN_NAME: c.name, COLLATION_NAME: null, CHARACTER_SET_NAME: c.charset ?? null, COLUMN_COMMENT: '', COLUMN_TYPE: '', ...c.schema })),
  };
  const input: TableMapInput = { tableId: 42, schemaName: 'db', tableName: 't', tableMap: { 42: entry }, columnNames: defs.map((c) => c.name), primaryKey: key };
  return buildTableCodec(input, undefined, { timezone: 'UTC' });
}

/** The per-row Column code the cells replace (table-codec.ts before RowBatch), over the same value conversion. */
interface ValueCodec {
  spec: { index: number; name: string; isKey: boolean; mysqlType: string; sqlType: number; nullSqlType: number; promotedSqlType: number };
  text(v: unknown): string | null;
  promoted: boolean;
}
function referenceRows(codec: TableCodec, kind: string, rows: unknown[], present?: Buffer, presentAfter?: Buffer): RowData[] {
  const columns = (codec as unknown as { columns: ValueCodec[] }).columns;
  const isPresent = (bitmap: Buffer | undefined, i: number): boolean => bitmap === undefined || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  const image = (row: Record<string, unknown>, bitmap: Buffer | undefined, updated: boolean): Column[] => {
    const out: Column[] = [];
    columns.forEach((c, i) => {
      if (!isPresent(bitmap, i)) return;
      const s = c.spec;
      const t = c.text(row[s.name]);
      if (t === null) out.push({ index: s.index, sqlType: s.nullSqlType, name: s.name, isKey: s.isKey, updated, isNull: true, value: '', mysqlType: s.mysqlType });
      else out.push({ index: s.index, sqlType: c.promoted ? s.promotedSqlType : s.sqlType, name: s.name, isKey: s.isKey, updated, isNull: false, value: t, mysqlType: s.mysqlType });
    });
    return out;
  };
  return rows.map((row) => {
    if (kind === 'writerows') return { beforeColumns: [], afterColumns: image(row as Record<string, unknown>, present, true) };
    if (kind === 'deleterows') return { beforeColumns: image(row as Record<string, unknown>, present, false), afterColumns: [] };
    const pair = row as { before: Record<string, unknown>; after: Record<string, unknown> };
    const before = image(pair.before, present, false);
    const after = image(pair.after, presentAfter ?? present, false);
    for (const c of after) {
      const b = before.find((x) => x.index === c.index);
      c.updated = b === undefined || b.isNull !== c.isNull || b.value !== c.value;
    }
    return { beforeColumns: before, afterColumns: after };
  });
}

const caseArb = fc
  .subarray(COLUMN_KINDS, { minLength: 1 })
  .chain((defs) => {
    const rowArb = fc.tuple(...defs.map((d) => fc.option(d.value, { nil: null, freq: 4 }))).map((vals) => Object.fromEntries(defs.map((d, i) => [d.name, vals[i]])));
    const bitmap = fc.option(fc.uint8Array({ minLength: 2, maxLength: 2 }).map((a) => Buffer.from(a)), { nil: undefined });
    return fc.record({
      defs: fc.constant(defs),
      key: fc.subarray(defs.map((_, i) => i)),
      kind: fc.constantFrom('writerows', 'updaterows', 'deleterows'),
      rows: fc.array(fc.tuple(rowArb, rowArb), { minLength: 1, maxLength: 6 }),
      present: bitmap,
      presentAfter: bitmap,
      keepCols: fc.subarray(defs.map((d) => d.name)),
      dropCols: fc.subarray(defs.map((d) => d.name)),
      editFirst: fc.boolean(),
    });
  });

function entryOf(rowDatas: RowData[]): ParsedEntry {
  return {
    entryType: 2,
    header: { version: 1, logfileName: 'binlog.000001', logfileOffset: 4, schemaName: 'db', tableName: 't', eventType: 1 },
    rowChange: { tableId: 42, eventType: 1, isDdl: false, rowDatas },
    position: { file: 'binlog.000001', offset: 4, nextOffset: 90, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' },
  };
}

test('row cells: materialized Columns equal the per-row Column path; their bytes equal protobufjs', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const codec = codecFor(c.defs, c.key);
      const rows = c.kind === 'updaterows' ? c.rows.map(([before, after]) => ({ before, after })) : c.rows.map(([r]) => r);
      const fast = codec.toRowDatas(c.kind, rows, c.present, c.presentAfter);
      const fastBytes = Buffer.from(encodeEntry(entryOf(fast)));
      const reference = referenceRows(codec, c.kind, rows, c.present, c.presentAfter);
      assert.deepEqual(Buffer.from(encodeEntryReference(entryOf(reference))), fastBytes, 'bytes from cells');
      assert.deepEqual(fast.map((r) => ({ beforeColumns: r.beforeColumns, afterColumns: r.afterColumns })), reference, 'materialized columns');
      assert.deepEqual(Buffer.from(encodeEntry(entryOf(fast))), fastBytes, 'bytes after materializing');
    }),
    { numRuns: 400 },
  );
});

test('row cells: the sink column filter gives the same bytes on cells and on materialized Columns, and edits to read Columns are written', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const codec = codecFor(c.defs, c.key);
      const rows = c.kind === 'updaterows' ? c.rows.map(([before, after]) => ({ before, after })) : c.rows.map(([r]) => r);
      const rule = (cols: string[]): string => (cols.length === 0 ? '' : `DB.T:${cols.join('/')}`);
      const filter = new ColumnFilter(parseColumnRules(rule(c.keepCols), 'include'), parseColumnRules(rule(c.dropCols), 'exclude'));
      const onCells = filter.apply(entryOf(codec.toRowDatas(c.kind, rows, c.present, c.presentAfter)));
      const read = codec.toRowDatas(c.kind, rows, c.present, c.presentAfter);
      for (const r of read) void r.afterColumns;
      const onColumns = filter.apply(entryOf(read));
      const cellBytes = Buffer.from(encodeEntry(onCells));
      assert.deepEqual(cellBytes, Buffer.from(encodeEntry(onColumns)));
      assert.deepEqual(cellBytes, Buffer.from(encodeEntryReference(onColumns)));
      // twice-filtered cells narrow further, like twice-filtered Columns
      assert.deepEqual(Buffer.from(encodeEntry(filter.apply(filter.apply(entryOf(codec.toRowDatas(c.kind, rows, c.present, c.presentAfter)))))), cellBytes);
      if (c.editFirst) {
        const edited = codec.toRowDatas(c.kind, rows, c.present, c.presentAfter);
        const cols = edited[0]!.afterColumns.length > 0 ? edited[0]!.afterColumns : edited[0]!.beforeColumns;
        if (cols.length > 0) {
          cols[0]!.value = 'edited';
          assert.ok(Buffer.from(encodeEntry(entryOf(edited))).includes(Buffer.from('edited')));
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('row cells: written into a writer that starts tiny and grows mid-row, the bytes equal those of a roomy writer', () => {
  fc.assert(
    fc.property(caseArb, fc.integer({ min: 1, max: 64 }), (c, initial) => {
      const codec = codecFor(c.defs, c.key);
      const rows = c.kind === 'updaterows' ? c.rows.map(([before, after]) => ({ before, after })) : c.rows.map(([r]) => r);
      const rowDatas = codec.toRowDatas(c.kind, rows, c.present, c.presentAfter);
      const write = (w: ProtoWriter): Buffer => {
        for (const rd of rowDatas) (rd as SelfWritingRowData)[ROW_WRITER](w);
        return w.finish();
      };
      assert.deepEqual(write(new ProtoWriter(initial)), write(new ProtoWriter(1 << 16)));
    }),
    { numRuns: 300 },
  );
});
