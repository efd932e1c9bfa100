// Reads one chunk of a table: the next `size` rows after the last key, in key order, inside a
// consistent-snapshot transaction whose exact binlog position MariaDB reports
// (binlog_snapshot_file/position): the rows are the table's state at that position, neither before
// nor after it. That position is the chunk's low watermark (docs/snapshots.md explains why it is
// taken this way rather than by reading @@gtid_binlog_pos before the SELECT). The rows come from
// the text protocol's packets straight into a row batch (text-chunk.ts), the whole transaction in
// one round trip; a table with FLOAT or DOUBLE columns is read through the binary protocol.
import { Buffer } from 'node:buffer';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { RowData } from '../protocol/entry-model.ts';
import type { FilePosition } from '../parser/binlog-files.ts';
import { asBinlogRow, columnsSignature, describeTable, quoteName, signatureOf, signatureSql, tableName, type TableShape } from './table-shape.ts';
import { TextRows, type TextShape } from './text-chunk.ts';
import { orderValue } from './key-order.ts';
import { queryPipeline, rowTexts, type CommandHost, type Statement } from './text-query.ts';

/** One key value as JSON can hold it: strings and numbers as they are, bytes as hex. */
export type KeyValue = string | number | { hex: string } | null;

export interface Chunk {
  shape: TableShape;
  /** converted rows, in key order */
  rows: RowData[];
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
 * c1 >= v1 AND (c1 > v1 OR (c2 >= v2 AND (c2 > v2 OR ...))); `value` writes the place of column
 * i's value, left to right (the order placeholders take their parameters in).
 */
function afterKey(columns: readonly string[], last: readonly KeyValue[], value: (v: KeyValue, i: number) => string): string {
  const build = (i: number): string => {
    const c = quoteName(columns[i]!);
    if (i === columns.length - 1) return `${c} > ${value(last[i]!, i)}`;
    return `${c} >= ${value(last[i]!, i)} AND (${c} > ${value(last[i]!, i)} OR (${build(i + 1)}))`;
  };
  return build(0);
}

const DIGITS = /^[0-9]+$/;

/**
 * afterKey with `?` placeholders and their parameters, in order; the columns `inline` marks get
 * their value (digits: key-order.ts) in the text instead, where a string parameter would compare
 * as text.
 */
export function afterKeySql(columns: readonly string[], last: readonly KeyValue[], inline: readonly boolean[] = []): { sql: string; params: (string | number | Buffer | null)[] } {
  const params: (string | number | Buffer | null)[] = [];
  const sql = afterKey(columns, last, (v, i) => {
    if (inline[i] === true && typeof v === 'string' && DIGITS.test(v)) return v;
    params.push(sqlParam(v));
    return '?';
  });
  return { sql, params };
}

const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;
const HEX = /^[0-9a-fA-F]*$/;

/**
 * A key value as an SQL literal, for a query whose text carries its values: the value of a
 * numeric column (`numeric`) as its digits, bytes and anything else as hex literals (text with
 * the utf8mb4 introducer, so the comparison is in the column's collation). Nothing in it is read
 * differently under any sql_mode (NO_BACKSLASH_ESCAPES).
 */
export function keyLiteral(v: KeyValue, numeric: boolean): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`key value ${v} is not a finite number`);
    return String(v);
  }
  if (typeof v === 'object') {
    if (!HEX.test(v.hex)) throw new Error('key value bytes are not hex');
    return `X'${v.hex}'`;
  }
  return numeric && NUMBER.test(v) ? v : `_utf8mb4 X'${Buffer.from(v, 'utf8').toString('hex')}'`;
}

/** `key > last` with the values written into the text as literals; `numeric` per key column. */
export function afterKeyLiteralSql(columns: readonly string[], last: readonly KeyValue[], numeric: readonly boolean[]): string {
  return afterKey(columns, last, (v, i) => keyLiteral(v, numeric[i]!));
}

/** The resume point as the key's columns sort (key-order.ts), and which columns now resume by number. */
function orderedAfter(shape: TableShape, after: readonly KeyValue[]): { values: KeyValue[]; byNumber: boolean[] } {
  const where = `${shape.schema}.${shape.table}`;
  return {
    values: after.map((v, i) => orderValue(shape.keyOrder[i], v, `${where}.${shape.keyColumns[i]}`)),
    byNumber: shape.keyOrder.map((o) => o !== undefined),
  };
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

/** The chunk's SELECT: `columns` of the rows after `after` (a condition), in key order, at most `size`. */
function chunkSql(req: ChunkRequest, columns: string, keyColumns: readonly string[], after: string | undefined): string {
  const conds: string[] = [];
  if (req.where !== undefined && req.where !== '') conds.push(`(${req.where})`);
  if (after !== undefined) conds.push(after);
  const order = keyColumns.map(quoteName).join(', ');
  return `SELECT ${columns} FROM ${tableName(req.schema, req.table)}${conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${req.size}`;
}

const POSITION_SQL = "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'";

/** The binlog position of SHOW STATUS's binlog_snapshot_file/position rows (name, value). */
function positionOf(rows: readonly (readonly unknown[])[]): FilePosition {
  const v = new Map(rows.map((r) => [String(r[0]).toLowerCase(), String(r[1])]));
  const file = v.get('binlog_snapshot_file');
  const offset = Number(v.get('binlog_snapshot_position'));
  if (file === undefined || file === '' || !Number.isFinite(offset)) {
    throw new Error('the source reports no binlog_snapshot_file/position (MariaDB with log_bin is required for snapshots)');
  }
  return { file, offset };
}

async function snapshotPosition(conn: PoolConnection): Promise<FilePosition> {
  const [rows] = await conn.query<RowDataPacket[]>(POSITION_SQL);
  return positionOf(rows.map((r) => [r.Variable_name, r.Value]));
}

function tableChanged(req: ChunkRequest): ChunkRetry {
  return new ChunkRetry(`table ${req.schema}.${req.table} changed during the chunk read`);
}

/**
 * Reads one chunk. `known` is the previous chunk's shape, reused while the columns are unchanged.
 * Throws ChunkRetry when the table changed shape meanwhile; SnapshotRefused for a table that cannot be read.
 */
export async function readChunk(pool: Pool, req: ChunkRequest, known?: TableShape): Promise<Chunk> {
  const conn = await pool.getConnection();
  /** the connection goes back to the pool once this settles (its transaction ended) */
  let idle: Promise<unknown> = Promise.resolve();
  try {
    // The shape of the last chunk is reused; the check inside the transaction catches a change.
    const shape = known ?? (await describeTable(conn, req.schema, req.table, req.timezone));
    if (shape.text !== undefined) return await readText(conn, shape, shape.text, req, known);
    return await readBinary(conn, shape, req, known, (ended) => (idle = ended));
  } finally {
    void idle.then(() => conn.release());
  }
}

/**
 * The text protocol, each row's values read from its packet as it arrives (text-chunk.ts), and
 * the transaction, its position, the SELECT, the shape check and the COMMIT sent at once.
 */
async function readText(conn: PoolConnection, shape: TableShape, text: TextShape, req: ChunkRequest, known: TableShape | undefined): Promise<Chunk> {
  const rows = new TextRows(text, req.size);
  const status: (string | null)[][] = [];
  const columnsNow: (string | null)[][] = [];
  const ordered = req.after === undefined ? undefined : orderedAfter(shape, req.after);
  const after = ordered === undefined ? undefined : afterKeyLiteralSql(shape.keyColumns, ordered.values, text.keyNumeric.map((n, i) => n || ordered.byNumber[i]!));
  const placed = req.binlogSnapshot !== false;
  const statements: Statement[] = [{ sql: 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY' }];
  if (placed) statements.push({ sql: POSITION_SQL, onRow: (b, s, e) => void status.push(rowTexts(b, s, e)) });
  const select = statements.push({ sql: chunkSql(req, text.names.map(quoteName).join(', '), shape.keyColumns, after), onRow: rows.row }) - 1;
  // The SELECT holds the table's metadata lock until COMMIT: the shape read after it in the same
  // transaction is the shape the rows have.
  const check = statements.push({ sql: signatureSql(keyLiteral(req.schema, false), keyLiteral(req.table, false)), onRow: (b, s, e) => void columnsNow.push(rowTexts(b, s, e)) }) - 1;
  statements.push({ sql: 'COMMIT' });
  const errors = await queryPipeline((conn as unknown as { connection: CommandHost }).connection, statements);
  // a statement after a failed one still ran: the first failure is the one to report
  for (let i = 0; i <= check; i++) {
    const err = errors[i];
    if (err === undefined) continue;
    if (i === select && (err as { errno?: number }).errno === TABLE_DEF_CHANGED) throw tableChanged(req);
    throw err;
  }
  if (signatureOf(columnsNow) !== shape.signature) {
    if (known !== undefined) throw new ShapeChanged();
    throw new ChunkRetry(`table ${req.schema}.${req.table} changed shape during the chunk read`);
  }
  return { shape, rows: rows.rowDatas(), lastKey: rows.lastKey(), at: placed ? positionOf(status) : { file: '', offset: 0 } };
}

/**
 * The binary protocol (prepared statement): DOUBLE and FLOAT values arrive exact (the text protocol
 * prints DOUBLE with 15 digits and FLOAT with 6, which loses what the binlog carries).
 */
async function readBinary(conn: PoolConnection, shape: TableShape, req: ChunkRequest, known: TableShape | undefined, ending: (ended: Promise<unknown>) => void): Promise<Chunk> {
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  let ended: Promise<unknown> | undefined;
  try {
    const at = req.binlogSnapshot === false ? { file: '', offset: 0 } : await snapshotPosition(conn);
    const ordered = req.after === undefined ? undefined : orderedAfter(shape, req.after);
    const k = ordered === undefined ? undefined : afterKeySql(shape.keyColumns, ordered.values, ordered.byNumber);
    const sql = chunkSql(req, shape.selectList, shape.keyColumns, k?.sql);
    const values = k?.params ?? [];
    let raw: RowDataPacket[];
    try {
      [raw] = await conn.execute<RowDataPacket[]>(shape.spatial ? { sql, values, typeCast: keepSpatialBytes } : { sql, values });
    } catch (err) {
      if ((err as { errno?: number }).errno === TABLE_DEF_CHANGED) throw tableChanged(req);
      throw err;
    }
    // The SELECT holds the table's metadata lock until COMMIT: the shape read now is the shape
    // the rows have. Asked (with the COMMIT behind it) before the rows are converted, so the
    // server answers while this process converts; the COMMIT is not waited for.
    const signature = columnsSignature(conn, req.schema, req.table);
    signature.catch(() => undefined);
    ended = conn.query('COMMIT').catch(() => undefined);
    ending(ended);
    const last = raw.length > 0 ? raw[raw.length - 1]! : undefined;
    const lastKey = last === undefined ? undefined : shape.keyColumns.map((c) => keyParam(last[c]));
    const rows = shape.codec.toRowDatas(
      'writerows',
      shape.fixColumns.length === 0 ? (raw as Record<string, unknown>[]) : raw.map((r) => asBinlogRow(r as Record<string, unknown>, shape.fixColumns)),
    );
    if ((await signature) !== shape.signature) {
      if (known !== undefined) throw new ShapeChanged();
      throw new ChunkRetry(`table ${req.schema}.${req.table} changed shape during the chunk read`);
    }
    return { shape, rows, lastKey, at };
  } finally {
    if (ended === undefined) await conn.query('COMMIT').catch(() => undefined);
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
