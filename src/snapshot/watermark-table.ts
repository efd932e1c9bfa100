// The watermark-table method of DBLog (docs/snapshots.md): around each chunk's SELECT, sluice writes
// a row into a table of its own on the source, and recognises the second write when the stream
// passes it. The first write (low watermark) commits before the SELECT begins, so the SELECT sees
// every transaction the binlog holds before it; the second (high watermark) is written after the
// SELECT, so every change the SELECT saw is in the binlog before it. The chunk goes out at the
// first transaction boundary at or after the high watermark. Used where the read-only way (the
// binlog position MariaDB reports for a consistent snapshot) is not chosen or not available.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { EntryType, type ParsedEntry } from '../protocol/entry-model.ts';
import { rowKey } from './row-keys.ts';
import { quoteName } from './table-shape.ts';

export const DEFAULT_WATERMARK_TABLE = 'sluice.snapshot_watermarks';

/** The source refuses the watermark table (missing privilege, read-only server): the instance cannot start. */
export class WatermarkTableError extends Error {
  override readonly name = 'WatermarkTableError';
}

const TOKEN = ['token'] as const;

export class WatermarkTable {
  readonly schema: string;
  readonly table: string;
  private readonly qualified: string;
  /** tells this process's tokens from another run's: a restart never matches an old write */
  private readonly run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  private n = 0;
  /** prepare() succeeded */
  ready = false;

  constructor(
    /** schema.table */
    readonly name: string,
    /** the row this destination writes (one per destination, updated in place) */
    private readonly destination: string,
  ) {
    const dot = name.indexOf('.');
    this.schema = name.slice(0, dot);
    this.table = name.slice(dot + 1);
    this.qualified = `${quoteName(this.schema)}.${quoteName(this.table)}`;
  }

  /**
   * Creates the schema and table when missing and writes this destination's row once, so a source
   * that will not take the writes is found at start, not at the first chunk. `where`: the source's
   * address, for the message.
   */
  async prepare(pool: Pool, where: string): Promise<void> {
    const step = async (what: string, sql: string, params: unknown[] = []): Promise<void> => {
      try {
        await pool.query(sql, params);
      } catch (err) {
        // a refusal by the server (it has an SQL state), not a lost connection
        if ((err as { sqlState?: unknown }).sqlState === undefined) throw err;
        throw new WatermarkTableError(this.refusal(what, where, err as Error & { errno?: number }));
      }
    };
    const [schemas] = await pool.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [this.schema]);
    // Only when missing: CREATE DATABASE IF NOT EXISTS would still be written to the binlog.
    if (schemas.length === 0) await step('create the schema', `CREATE DATABASE IF NOT EXISTS ${quoteName(this.schema)}`);
    const [tables] = await pool.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.schema, this.table]);
    if (tables.length === 0) {
      await step(
        'create the table',
        `CREATE TABLE IF NOT EXISTS ${this.qualified} (destination VARCHAR(191) NOT NULL PRIMARY KEY, token VARCHAR(255) NOT NULL, ` +
          'written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB',
      );
    }
    await step('write to the table', this.writeSql(), [this.destination, `${this.run}/start`]);
    this.ready = true;
  }

  /** A token for the next write; unique within this run. */
  token(kind: 'low' | 'high'): string {
    return `${this.run}/${++this.n}/${kind}`;
  }

  /** Writes `token` into this destination's row (a transaction of its own, committed when this resolves). */
  async write(pool: Pool, token: string): Promise<void> {
    await pool.query(this.writeSql(), [this.destination, token]);
  }

  /** The token an entry of the stream carries when it is a write to this table; undefined for any other entry. */
  tokenOf(e: ParsedEntry): string | undefined {
    const rc = e.rowChange;
    if (rc === undefined || rc.isDdl || e.entryType !== EntryType.ROWDATA) return undefined;
    if (e.header.tableName !== this.table || e.header.schemaName !== this.schema) return undefined;
    for (const row of rc.rowDatas) {
      const k = rowKey(row, 'after', TOKEN);
      if (k !== undefined) return k.slice(1);
    }
    return undefined;
  }

  private writeSql(): string {
    return `INSERT INTO ${this.qualified} (destination, token) VALUES (?, ?) ON DUPLICATE KEY UPDATE token = VALUES(token)`;
  }

  private refusal(what: string, where: string, err: Error & { errno?: number }): string {
    const fix =
      err.errno === 1290 || err.errno === 1836
        ? `the server is read-only (read_only): use snapshot.watermark "position" (the read-only way), or point the source at a writable server`
        : `grant sluice's account CREATE, INSERT and UPDATE on ${quoteName(this.schema)}.* (GRANT CREATE, INSERT, UPDATE ON ${quoteName(this.schema)}.* TO ...), create ${this.name} yourself, or use snapshot.watermark "position"`;
    return `snapshot.watermark is "table", but sluice could not ${what} ${this.name} on ${where}: ${err.message}. To fix: ${fix}`;
  }
}
