// Canal's per-table column lists (`canal.instance.filter.field` and `filter.black.field`):
// `schema1.table1:col1/col2,schema2.table2:col1`. Table keys and column names compare
// upper-cased, as in Canal. Columns that survive keep their real index, so consumers that address
// columns by position still find the right one.
import type { Column, ParsedEntry, RowData } from '../protocol/entry-model.ts';
import type { ColumnRules } from '../config/column-rules.ts';

/** A row that has not built its Column objects yet and can be narrowed by column index instead (the parser's BatchRow). */
interface ColumnSelectableRow extends RowData {
  readonly materialized: boolean;
  /** column names by index */
  readonly columnNames: readonly string[];
  /** the row with only the columns whose mask entry is 1 */
  selectColumns(keep: Uint8Array): RowData;
}

function isColumnSelectable(r: RowData): r is ColumnSelectableRow {
  return typeof (r as Partial<ColumnSelectableRow>).selectColumns === 'function';
}

export class ColumnFilter {
  constructor(
    private readonly include: ColumnRules,
    private readonly exclude: ColumnRules,
  ) {}

  get empty(): boolean {
    return this.include.size === 0 && this.exclude.size === 0;
  }

  /** The entry with filtered columns (a copy), or the same entry when no rule names its table. */
  apply(e: ParsedEntry): ParsedEntry {
    const rc = e.rowChange;
    if (rc === undefined || rc.isDdl || this.empty) return e;
    const key = `${e.header.schemaName ?? ''}.${e.header.tableName ?? ''}`.toUpperCase();
    const keep = this.include.get(key);
    const drop = this.exclude.get(key);
    if (keep === undefined && drop === undefined) return e;
    const kept = (name: string): boolean => {
      const upper = name.toUpperCase();
      return (keep === undefined || keep.has(upper)) && (drop === undefined || !drop.has(upper));
    };
    const pick = (cols: Column[]): Column[] => cols.filter((c) => kept(c.name));
    // Rows still in the parser's cell form take a mask by column index, computed once per table.
    let names: readonly string[] | undefined;
    let mask: Uint8Array | undefined;
    const rowDatas: RowData[] = rc.rowDatas.map((r) => {
      if (!isColumnSelectable(r)) return { ...r, beforeColumns: pick(r.beforeColumns), afterColumns: pick(r.afterColumns) };
      // Columns already built (and maybe edited) are what the row is now.
      if (r.materialized) return { beforeColumns: pick(r.beforeColumns), afterColumns: pick(r.afterColumns) };
      const rowNames = r.columnNames;
      if (rowNames !== names) {
        names = rowNames;
        mask = Uint8Array.from(rowNames, (n) => (kept(n) ? 1 : 0));
      }
      return r.selectColumns(mask!);
    });
    return { ...e, rowChange: { ...rc, rowDatas } };
  }

  describe(): string {
    const show = (rules: ColumnRules): string =>
      [...rules].map(([t, cols]) => `${t}:${[...cols].join('/')}`).join(',') || 'none';
    return `columns kept: ${show(this.include)}; columns dropped: ${show(this.exclude)}`;
  }
}
