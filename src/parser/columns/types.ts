// The contract between the parser's event handling (src/parser/) and column conversion (src/parser/columns/).
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

/** Built once per table map; turns zongji's decoded rows of that table into Canal RowData. */
export interface TableCodec {
  readonly schema: string;
  readonly table: string;
  readonly tableId: number;
  toRowDatas(kind: 'writerows' | 'updaterows' | 'deleterows', rows: readonly unknown[]): RowData[];
}
