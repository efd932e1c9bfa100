// Reads one chunk of a table: the next `size` rows after the last key, in key order, inside a
// consistent-snapshot transaction whose exact binlog position MariaDB reports
// (binlog_snapshot_file/position): the rows are the table's state at that position, neither before
// nor after it. That position is the chunk's low watermark (docs/snapshots.md explains why it is
// taken this way rather than by reading @@gtid_binlog_pos before the SELECT).
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { RowData } from '../protocol/entry-model.ts';
import type { FilePosition } from '../parser/binlog-files.ts';
import { rowKey } from './row-keys.ts';
import { asBinlogRow, columnsSignature, describeTable, quoteName, tableName, type TableShape } from './table-shape.ts';

/** One key value as JSON can hold it: strings and numbers as they are, bytes as hex. */
export type KeyValue = string | number | { hex: string } | null;

export interface Chunk {
  shape: TableShape;
  /** converted rows, in key order */
  rows: RowData[];
  /** each row's key text (keyText), in the same order */
  keys: string[];
  /** the last row's key as SQL parameters, to resume after; undefined for an empty chunk */
  lastKey: KeyValue[] | undefined;
  /** the binlog position the rows are the state at */
  at: FilePosition;
}

/**
 * Spatial values as their stored bytes (SRID + WKB), as the binlog carries them; mysql2 would parse
 * them into points. Only for tables with such columns: mysql2 then builds an object per value.
 */
const keepSpatialBytes = (field: { type: string; buffer(): Buffer | null }, next: () => unknown): unknown => (field.type === 'GEOMETRY' ? field.buffer() : next());

/** A retryable reason the chunk must be read again (the table changed shape under the read). */
export class ChunkRetry extends Error {}

/** ER_TABLE_DEF_CHANGED: the table was altered after the consistent snapshot began. */
const TABLE_DEF_CHANGED = 1412;

export function keyParam(v: unknown): KeyValue {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (typeof v === 'number' || typeof v === 'string') return v;
  return String(v);
}

function sqlParam(v: KeyValue): string | number | Buffer | null {
  return v !== null && typeof v === 'object' ? Buffer.from(v.hex, 'hex') : v;
}

/**
 * `key > last` over several columns, written so the first column bounds an index range:
 * c1 >= ? AND (c1 > ? OR (c2 >= ? AND (c2 > ? OR ...))).
 */
export function afterKeySql(columns: readonly string[], last: readonly KeyValue[]): { sql: string; params: (string | number | Buffer | null)[] } {
  const params: (string | number | Buffer | null)[] = [];
  const build = (i: number): string => {
    const c = quoteName(columns[i]!);
    const v = sqlParam(last[i]!);
    if (i === columns.length - 1) {
      params.push(v);
      return `${c} > ?`;
    }
    params.push(v, v);
    return `${c} >= ? AND (${c} > ? OR (${build(i + 1)}))`;
  };
  return { sql: build(0), params };
}

export interface ChunkRequest {
  schema: string;
  table: string;
  where?: string;
  size: number;
  after: KeyValue[] | undefined;
  timezone: string;
  /** false: the caller places the chunk by the watermark table (watermark-table.ts) and sets `at` itself */
  binlogSnapshot?: boolean;
}

async function snapshotPosition(conn: PoolConnection): Promise<FilePosition> {
  const [rows] = await conn.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'");
  const v = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
  const file = v.get('binlog_snapshot_file');
  const offset = Number(v.get('binlog_snapshot_position'));
  if (file === undefined || file === '' || !Number.isFinite(offset)) {
    throw new Error('the source reports no binlog_snapshot_file/position (MariaDB with log_bin is required for snapshots)');
  }
  return { file, offset };
}

/**
 * Reads one chunk. `known` is the previous chunk's shape, reused while the columns are unchanged.
 * Throws ChunkRetry when the table changed shape meanwhile; SnapshotRefused for a table that cannot be read.
 */
export async function readChunk(pool: Pool, req: ChunkRequest, known?: TableShape): Promise<Chunk> {
  const conn = await pool.getConnection();
  try {
    // The shape of the last chunk is reused; the check inside the transaction below catches a change.
    const shape = known ?? (await describeTable(conn, req.schema, req.table, req.timezone));
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    let ended: Promise<unknown> | undefined;
    try {
      const at = req.binlogSnapshot === false ? { file: '', offset: 0 } : await snapshotPosition(conn);
      const conds: string[] = [];
      let params: (string | number | Buffer | null)[] = [];
      if (req.where !== undefined && req.where !== '') conds.push(`(${req.where})`);
      if (req.after !== undefined) {
        const k = afterKeySql(shape.keyColumns, req.after);
        conds.push(k.sql);
        params = k.params;
      }
      const order = shape.keyColumns.map(quoteName).join(', ');
      const sql = `SELECT ${shape.selectList} FROM ${tableName(req.schema, req.table)}${conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${req.size}`;
      let raw: RowDataPacket[];
      try {
        // The binary protocol: DOUBLE and FLOAT values arrive exact (the text protocol prints
        // DOUBLE with 15 digits and FLOAT with 6, which loses what the binlog carries).
        [raw] = await conn.execute<RowDataPacket[]>(shape.spatial ? { sql, values: params, typeCast: keepSpatialBytes } : { sql, values: params });
      } catch (err) {
        if ((err as { errno?: number }).errno === TABLE_DEF_CHANGED) throw new ChunkRetry(`table ${req.schema}.${req.table} changed during the chunk read`);
        throw err;
      }
      // The SELECT holds the table's metadata lock until COMMIT: the shape read now is the shape
      // the rows have. Asked (with the COMMIT behind it) before the rows are converted, so the
      // server answers while this process converts.
      const signature = columnsSignature(conn, req.schema, req.table);
      signature.catch(() => undefined);
      ended = conn.query('COMMIT').catch(() => undefined);
      const last = raw.length > 0 ? raw[raw.length - 1]! : undefined;
      const lastKey = last === undefined ? undefined : shape.keyColumns.map((k) => keyParam(last[k]));
      const rows = shape.codec.toRowDatas(
        'writerows',
        shape.fixColumns.length === 0 ? (raw as Record<string, unknown>[]) : raw.map((r) => asBinlogRow(r as Record<string, unknown>, shape.fixColumns)),
      );
      const keys = rows.map((r) => rowKey(r, 'after', shape.keyColumns)!);
      if ((await signature) !== shape.signature) {
        if (known !== undefined) throw new ShapeChanged();
        throw new ChunkRetry(`table ${req.schema}.${req.table} changed shape during the chunk read`);
      }
      return { shape, rows, keys, lastKey, at };
    } finally {
      await (ended ?? conn.query('COMMIT').catch(() => undefined));
    }
  } finally {
    conn.release();
  }
}

/** The reused shape is out of date: read the chunk again with a fresh description. */
class ShapeChanged extends ChunkRetry {
  constructor() {
    super('the table changed shape since the last chunk');
  }
}

/** readChunk, describing the table again when it changed shape since the last chunk. */
export async function readChunkFresh(pool: Pool, req: ChunkRequest, known?: TableShape): Promise<Chunk> {
  try {
    return await readChunk(pool, req, known);
  } catch (err) {
    if (!(err instanceof ShapeChanged)) throw err;
    return await readChunk(pool, req);
  }
}
