// What the binlog's table map does not carry (primary key, COLUMN_TYPE text, DATA_TYPE), read from information_schema once per table and kept until
// a DDL names the table. It describes the table as it is now; column conversion uses it only where
// it agrees with the table map, so catch-up across DDL stays correct.
import type { Pool } from 'mysql2/promise';
import type { TableMeta } from './columns/types.ts';

const COLUMNS_SQL =
  'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS columnType, DATA_TYPE AS dataType, CHARACTER_SET_NAME AS charset, ' +
  'COLLATION_NAME AS collation, COLUMN_COMMENT AS comment FROM information_schema.COLUMNS ' +
  'WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION';
const PRIMARY_KEY_SQL =
  'SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE ' +
  "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION";

function key(schema: string, table: string): string {
  return `${schema}.${table}`;
}

export class TableMetaCache {
  /** undefined value: the table does not exist now (dropped since the event was written). */
  private readonly cache = new Map<string, TableMeta | undefined>();
  private loads = 0;
  /** the last name asked for and its key: consecutive table maps usually name the same table */
  private lastSchema = '';
  private lastTable = '';
  private lastKey = '.';

  constructor(private readonly pool: Pool) {}

  has(schema: string, table: string): boolean {
    return this.cache.has(this.keyOf(schema, table));
  }

  get(schema: string, table: string): TableMeta | undefined {
    return this.cache.get(this.keyOf(schema, table));
  }

  private keyOf(schema: string, table: string): string {
    if (schema !== this.lastSchema || table !== this.lastTable) {
      this.lastSchema = schema;
      this.lastTable = table;
      this.lastKey = key(schema, table);
    }
    return this.lastKey;
  }

  /** Number of information_schema loads so far (tests assert caching with it). */
  get loadCount(): number {
    return this.loads;
  }

  async load(schema: string, table: string): Promise<TableMeta | undefined> {
    this.loads++;
    const [cols, pk] = await Promise.all([this.pool.query(COLUMNS_SQL, [schema, table]), this.pool.query(PRIMARY_KEY_SQL, [schema, table])]);
    const colRows = cols[0] as { name: string; columnType: string; dataType: string; charset: string | null; collation: string | null; comment: string }[];
    let meta: TableMeta | undefined;
    if (colRows.length > 0) {
      const columns = new Map<string, { columnType: string; dataType: string }>();
      for (const r of colRows) columns.set(r.name, { columnType: String(r.columnType), dataType: String(r.dataType) });
      const columnSchemas = colRows.map((r) => ({
        COLUMN_NAME: String(r.name),
        COLLATION_NAME: r.collation === null ? null : String(r.collation),
        CHARACTER_SET_NAME: r.charset === null ? null : String(r.charset),
        COLUMN_COMMENT: String(r.comment ?? ''),
        COLUMN_TYPE: String(r.columnType),
      }));
      meta = { primaryKey: (pk[0] as { name: string }[]).map((r) => r.name), columns, columnSchemas };
    }
    this.cache.set(key(schema, table), meta);
    return meta;
  }

  /** Forgets tables a DDL named ("schema.table"), so the next table map reloads them. */
  invalidate(names: readonly string[]): void {
    for (const n of names) this.cache.delete(n);
  }

  /** Forgets every table of a schema (after DROP DATABASE and other schema-wide statements). */
  invalidateSchema(schema: string): void {
    const prefix = `${schema}.`;
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
  }

  clear(): void {
    this.cache.clear();
  }
}
