// The contract between the parser's event handling (src/parser/) and column conversion (src/parser/columns/).
import type { Buffer } from 'node:buffer';
import type { TableMapEntry } from '@vlasky/zongji';
import type { RowData } from '../../protocol/entry-model.ts';

/** What INFORMATION_SCHEMA says of a table now: used only for what the binlog's table map does not carry. */
export interface TableMeta {
  /** primary key column names, in key order */
  primaryKey: string[];
  /** by column name */
  columns: Map<string, { columnType: string; dataType: string; isJson: boolean }>;
}

export interface ColumnFormatOptions {
  /** IANA zone (or 'SYSTEM' for the process zone) in which TIMESTAMP values are rendered, as Canal renders them in its JVM zone. */
  timezone: string;
}

/**
 * What buildTableCodec reads from a TableMap event: zongji's TableMapEvent object satisfies it,
 * so the parser passes the event itself (`buildTableCodec(event, meta, opts)`), synchronously
 * inside zongji's 'binlog' handler.
 *
 * GEOMETRY bytes: zongji rebuilds `tableMap[tableId]` on every TableMap event and would parse
 * GEOMETRY values into {x,y} objects. buildTableCodec retypes those columns so that the bytes
 * survive, but a parser that reuses a cached codec for a later TableMap event of the same table
 * must call `keepGeometryBytes(event.tableMap[event.tableId])` (table-codec.ts) itself, on every
 * TableMap event, before the rows event after it is decoded. Otherwise the codec throws an error
 * naming the column.
 */
export interface TableMapInput {
  tableId: number;
  schemaName: string;
  tableName: string;
  /** zongji's cache; `tableMap[tableId]` is rebuilt by zongji on every TableMap event */
  tableMap: Record<number, TableMapEntry>;
  /** binlog_row_metadata=FULL: column names written with the event (present = self-describing) */
  columnNames?: string[];
  /** binlog_row_metadata=FULL: primary key ordinals as of the event; absent when the table had none */
  primaryKey?: number[];
}

/** Built once per table map; turns zongji's decoded rows of that table into Canal RowData. */
export interface TableCodec {
  readonly schema: string;
  readonly table: string;
  readonly tableId: number;
  /**
   * `rows` is the rows event's `rows`. `present` / `presentAfter` are its
   * `columns_present_bitmap` / `columns_present_bitmap2`: columns missing from a MINIMAL or
   * NOBLOB row image are then left out (Canal's behaviour) instead of reading as NULL.
   */
  toRowDatas(kind: 'writerows' | 'updaterows' | 'deleterows', rows: readonly unknown[], present?: Buffer, presentAfter?: Buffer): RowData[];
}
