// Row filters by content: per table, keep (`in`) or drop (`notIn`) the rows whose value in one
// column is listed. The value compared is the column's Canal text (what a consumer reads as
// Column.value); a listed JSON null matches SQL NULL, numbers and booleans compare as their text
// (7 matches '7', true matches '1'). An update is judged by its after image, a delete by its before
// image. A row whose table lacks the column does not match: `in` drops it, `notIn` keeps it, and
// the first such row per table logs a warning (a schema change under a running filter).
//
// Cost: the rows of a filtered table are read cell by cell from the parser's converted cells
// (no Column objects are built), and an entry that loses rows is re-encoded for this
// destination alone; rows of other tables cost one map lookup per entry.
import type { Column, ParsedEntry, RowData } from '../protocol/entry-model.ts';
import { EventType } from '../protocol/entry-model.ts';
import { FilterError } from '../config/table-filter.ts';

export interface RowFilterRule {
  /** schema.table, exact (compared case-insensitively) */
  table: string;
  column: string;
  mode: 'in' | 'notIn';
  values: (string | number | boolean | null)[];
}

interface CompiledRule {
  column: string;
  /** the column's index in the last column-name list seen (one list per table map) */
  names: readonly string[] | undefined;
  index: number;
  mode: 'in' | 'notIn';
  texts: Set<string>;
  matchesNull: boolean;
  label: string;
}

/** An image of the parser's converted cells (row-batch.ts Image): each cell's flag, and its text read on demand. */
interface CellImage {
  flag(at: number): number;
  text(at: number): string;
}

/** The parser's lazily built row (row-batch.ts BatchRow), read without building Column objects. */
interface CellRow {
  readonly materialized: boolean;
  readonly columnNames: readonly string[];
  readonly row: number;
  readonly batch: { templates: readonly unknown[]; before?: CellImage; after?: CellImage };
}

function isCellRow(r: RowData): r is RowData & CellRow {
  const c = r as Partial<CellRow>;
  return typeof c.materialized === 'boolean' && c.batch !== undefined && typeof c.row === 'number';
}

const ABSENT = 0;
const NULL = 3;

export class RowFilter {
  private readonly rules = new Map<string, CompiledRule[]>();
  private readonly warned = new Set<string>();

  /** Throws FilterError naming `key` for a rule that cannot apply. */
  constructor(
    rules: RowFilterRule[],
    key: string,
    private readonly warn: (msg: string) => void = () => {},
  ) {
    rules.forEach((r, i) => {
      const at = `${key}[${i}]`;
      if (!/^[^.\s]+\.[^.\s]+$/.test(r.table)) throw new FilterError(at, r.table, `table ${JSON.stringify(r.table)} must be schema.table`);
      if (r.column === '') throw new FilterError(at, r.column, 'column must name a column');
      if (r.values.length === 0) throw new FilterError(at, '', `"${r.mode}" must list at least one value`);
      const k = r.table.toUpperCase();
      const list = this.rules.get(k) ?? [];
      list.push({
        column: r.column.toUpperCase(),
        names: undefined,
        index: -1,
        mode: r.mode,
        texts: new Set(r.values.filter((v) => v !== null).map((v) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v)))),
        matchesNull: r.values.includes(null),
        label: `${r.table}.${r.column} ${r.mode} ${JSON.stringify(r.values)}`,
      });
      this.rules.set(k, list);
    });
  }

  get empty(): boolean {
    return this.rules.size === 0;
  }

  /** The entry with only the rows every rule of its table keeps (a copy), the same entry, or undefined when no row is left. */
  apply(e: ParsedEntry): ParsedEntry | undefined {
    const rc = e.rowChange;
    if (rc === undefined || rc.isDdl || this.rules.size === 0) return e;
    const rules = this.rules.get(`${e.header.schemaName ?? ''}.${e.header.tableName ?? ''}`.toUpperCase());
    if (rules === undefined) return e;
    const useBefore = rc.eventType === EventType.DELETE;
    const kept: RowData[] = [];
    for (const r of rc.rowDatas) if (rules.every((rule) => this.keeps(rule, r, useBefore, e))) kept.push(r);
    if (kept.length === rc.rowDatas.length) return e;
    if (kept.length === 0) return undefined;
    const props = e.header.props?.map((p) => (p.key === 'rowsCount' ? { key: 'rowsCount', value: String(kept.length) } : p));
    const header = props === undefined ? e.header : { ...e.header, props };
    return { ...e, header, rowChange: { ...rc, rowDatas: kept } };
  }

  describe(): string {
    const all = [...this.rules.values()].flat().map((r) => r.label);
    return all.length === 0 ? 'no row filters' : `row filters: ${all.join('; ')}`;
  }

  private keeps(rule: CompiledRule, r: RowData, useBefore: boolean, e: ParsedEntry): boolean {
    const cell = this.cell(rule, r, useBefore);
    if (cell === undefined) {
      const table = `${e.header.schemaName ?? ''}.${e.header.tableName ?? ''}`;
      if (!this.warned.has(table + '\0' + rule.column)) {
        this.warned.add(table + '\0' + rule.column);
        this.warn(`row filter ${rule.label}: ${table} has no column ${rule.column} in this row; ${rule.mode === 'in' ? 'its rows are dropped' : 'its rows are kept'} until it has`);
      }
      return rule.mode === 'notIn';
    }
    const match = cell.isNull ? rule.matchesNull : rule.texts.has(cell.value);
    return rule.mode === 'in' ? match : !match;
  }

  /** The column's value in the row's image, or undefined when the row has no such column. */
  private cell(rule: CompiledRule, r: RowData, useBefore: boolean): { isNull: boolean; value: string } | undefined {
    const column = rule.column;
    if (isCellRow(r) && !r.materialized) {
      if (rule.names !== r.columnNames) {
        rule.names = r.columnNames;
        rule.index = r.columnNames.findIndex((n) => n.toUpperCase() === column);
      }
      const idx = rule.index;
      if (idx < 0) return undefined;
      const image = useBefore ? r.batch.before : r.batch.after;
      if (image === undefined) return undefined;
      const at = r.row * r.batch.templates.length + idx;
      const flag = image.flag(at) & 3;
      if (flag === ABSENT) return undefined;
      return flag === NULL ? { isNull: true, value: '' } : { isNull: false, value: image.text(at) };
    }
    const cols: Column[] = useBefore ? r.beforeColumns : r.afterColumns;
    const c = cols.find((x) => x.name.toUpperCase() === column);
    return c === undefined ? undefined : { isNull: c.isNull === true, value: c.value ?? '' };
  }
}
