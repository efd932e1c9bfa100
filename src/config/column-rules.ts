// Canal's per-table column lists (`canal.instance.filter.field` and `filter.black.field`):
// `schema1.table1:col1/col2,schema2.table2:col1`. Table keys and column names compare
// upper-cased, as in Canal. The sink applies them (sink/column-filter.ts); the config schema
// parses them to reject a bad rule before start.
import { FilterError } from './table-filter.ts';

/** `SCHEMA.TABLE` -> upper-cased column names. */
export type ColumnRules = Map<string, Set<string>>;

export function parseColumnRules(text: string, key: string): ColumnRules {
  const rules: ColumnRules = new Map();
  for (const raw of text.split(',')) {
    const rule = raw.trim();
    if (rule === '') continue;
    const colon = rule.indexOf(':');
    const table = colon < 0 ? '' : rule.slice(0, colon).trim();
    const cols = colon < 0 ? [] : rule.slice(colon + 1).split('/').map((c) => c.trim()).filter((c) => c !== '');
    const dot = table.indexOf('.');
    if (dot <= 0 || dot === table.length - 1 || cols.length === 0) {
      throw new FilterError(key, raw, `the column rule ${JSON.stringify(raw)} is not schema.table:col1/col2 (Canal's filter.field syntax: comma-separated rules, columns separated by /)`);
    }
    const k = table.toUpperCase();
    const set = rules.get(k) ?? new Set<string>();
    for (const c of cols) set.add(c.toUpperCase());
    rules.set(k, set);
  }
  return rules;
}
