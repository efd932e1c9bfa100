// The contract between the parser's event handling (src/parser/) and column conversion (src/parser/columns/).
import type { Buffer } from 'node:buffer';
import type { ColumnSchema, TableMapEntry } from '../../binlog/table-map.ts';
import type { RowData } from '../../protocol/entry-model.ts';

/** What INFORMATION_SCHEMA says of a table now: used only for what the binlog's table map does not carry. */
export interface TableMeta {
  /** primary key column names, in key order */
  primaryKey: string[];
  /** by column name */
  columns: Map<string, { columnType: string; dataType: string }>;
  /** the columns in ordinal order as INFORMATION_SCHEMA.COLUMNS rows, for table maps without FULL metadata */
  columnSchemas?: ColumnSchema[];
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
 * GEOMETRY values into {x,y} objects, losing SRID, type and bytes. `keepGeometryBytes(entry)`
 * (table-codec.ts) retypes those columns so zongji hands over the stored bytes. zongji decodes
 * the rows event right after emitting the TableMap event, so the parser must call
 * `keepGeometryBytes(event.tableMap[event.tableId])` synchronously inside its zongji 'binlog'
 * listener for every 'tablemap' event, before queueing anything or awaiting table metadata
 * (buildTableCodec also calls it, which covers only table maps it is called for). A geometry
 * that still arrives parsed makes the codec throw an error naming the column.
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

/** A rows event's row images as stored: buf[start, end), and the columns each image carries. */
export interface RowImages {
  buf: Buffer;
  start: number;
  end: number;
  /** one bit per column present in the (before) image */
  present: Buffer;
  /** update rows: the columns present in the after image */
  presentAfter?: Buffer | undefined;
}

/** Built once per table map; turns the rows of that table into Canal RowData. */
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
  /** Reads the rows straight from their stored bytes (sluice's own binlog decoder). */
  decodeRows?(kind: 'writerows' | 'updaterows' | 'deleterows', images: RowImages): RowData[];
}
