// The key text of a row image, as chunk rows and binlog rows are matched by: the Canal values of
// the key columns. Rows of the column codecs (BatchRow) are read from their converted cells
// without building Column objects (which would also make the entry be written from those objects,
// several times slower); any other RowData through its columns.
import type { Column, RowData } from '../protocol/entry-model.ts';
import { BatchRow, Cell, type Image } from '../parser/columns/row-batch.ts';

/** Column indexes of the key columns, per column-name array (one per table map). */
const indexCache = new WeakMap<readonly string[], Map<string, number[] | undefined>>();

function keyIndexes(names: readonly string[], keyColumns: readonly string[]): number[] | undefined {
  let byKey = indexCache.get(names);
  if (byKey === undefined) {
    byKey = new Map();
    indexCache.set(names, byKey);
  }
  const k = keyColumns.join('\u0000');
  if (byKey.has(k)) return byKey.get(k);
  const out: number[] = [];
  for (const c of keyColumns) {
    const i = names.indexOf(c);
    if (i < 0) {
      byKey.set(k, undefined);
      return undefined;
    }
    out.push(i);
  }
  byKey.set(k, out);
  return out;
}

function fromColumns(columns: readonly Pick<Column, 'name' | 'isNull' | 'value'>[], keyColumns: readonly string[]): string | undefined {
  let out = '';
  for (const k of keyColumns) {
    const c = columns.find((x) => x.name === k);
    if (c === undefined) return undefined;
    out += c.isNull ? '\u0000N' : `\u0000${c.value ?? ''}`;
  }
  return out;
}

/** The key text of `row`'s before or after image; undefined when the image lacks a key column (or is absent). */
export function rowKey(row: RowData, image: 'before' | 'after', keyColumns: readonly string[]): string | undefined {
  if (row instanceof BatchRow && !row.materialized) {
    const img: Image | undefined = image === 'before' ? row.batch.before : row.batch.after;
    if (img === undefined) return undefined;
    const idx = keyIndexes(row.batch.columnNames, keyColumns);
    if (idx === undefined) return undefined;
    const base = row.row * row.batch.columnNames.length;
    let out = '';
    for (const i of idx) {
      const flag = img.flag(base + i) & 3;
      if (flag === Cell.ABSENT || (row.batch.keep !== undefined && row.batch.keep[i] === 0)) return undefined;
      out += flag === Cell.NULL ? '\u0000N' : `\u0000${img.text(base + i)}`;
    }
    return out;
  }
  const cols = image === 'before' ? row.beforeColumns : row.afterColumns;
  return cols.length === 0 ? undefined : fromColumns(cols, keyColumns);
}
