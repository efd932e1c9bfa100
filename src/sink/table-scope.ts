// Which `schema.table` names decide whether an entry passes a table filter (docs/sink-and-store.md, Table filters).
// Row events are judged by their table, DDL by the table it names (a RENAME by either name), and
// transaction begin/end, XA markers and statements that name no table are never filtered by table.
import { EntryType, EventType } from '../protocol/entry-model.ts';
import type { TableFilter } from '../config/table-filter.ts';

/** The fields of a ParsedEntry or a StoreItem that table filtering reads. */
export interface ScopedEntry {
  entryType: EntryType;
  eventType?: EventType | undefined;
  isDdl: boolean;
  schema: string;
  table: string;
  alsoNames?: string[] | undefined;
}

const TABLE_DDL = new Set<number>([
  EventType.CREATE,
  EventType.ALTER,
  EventType.ERASE,
  EventType.TRUNCATE,
  EventType.RENAME,
  EventType.CINDEX,
  EventType.DINDEX,
]);

const TABLE_DML = new Set<number>([EventType.INSERT, EventType.UPDATE, EventType.DELETE]);

/** CREATE, ALTER, ERASE, TRUNCATE, RENAME, CINDEX, DINDEX: the statements about one table (Canal's query.ddl). */
export function isTableDdl(t: EventType | undefined): boolean {
  return t !== undefined && TABLE_DDL.has(t);
}

/** The names to test, or undefined when the entry is not subject to table filters. */
export function filteredNames(e: ScopedEntry): string[] | undefined {
  if (e.entryType !== EntryType.ROWDATA || e.eventType === undefined || e.table === '') return undefined;
  const tableScoped = e.isDdl ? TABLE_DDL.has(e.eventType) : TABLE_DML.has(e.eventType);
  if (!tableScoped) return undefined;
  const own = e.schema + '.' + e.table;
  return e.alsoNames === undefined || e.alsoNames.length === 0 ? [own] : [own, ...e.alsoNames];
}

/** Canal's rule: a name passes when the include list matches it and the exclude list does not; any passing name lets the entry through. */
export function passesTables(e: ScopedEntry, include: TableFilter, exclude: TableFilter | undefined): boolean {
  const names = filteredNames(e);
  if (names === undefined) return true;
  for (const n of names) {
    if (include.testName(n) && (exclude === undefined || !exclude.testName(n))) return true;
  }
  return false;
}
