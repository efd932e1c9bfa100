// A table as a snapshot reads it: its columns and the key chunks are ordered by, read from
// information_schema, and a row codec built from them through the same column module the binlog
// path uses (src/parser/columns/), so that a snapshot row converts to exactly the Canal values a
// binlog row of the same values gets. The codec is fed a table map assembled from
// information_schema as a FULL-metadata table map event would describe the table.
import type { Pool } from 'mysql2/promise';
import type { ColumnInfo, ColumnSchema, TableMapEntry } from '@vlasky/zongji';
import { BinlogType, buildColumnSpec } from '../parser/columns/column-spec.ts';
import { parseValueList } from '../parser/columns/enum-set.ts';
import { buildTableCodec } from '../parser/columns/table-codec.ts';
import { TimestampRenderer } from '../parser/columns/temporal.ts';
import type { TableCodec } from '../parser/columns/types.ts';
import { TableMetaCache } from '../parser/table-meta.ts';
import { textShape, type TextShape } from './text-chunk.ts';
import { keyOrderOf, type KeyOrder } from './key-order.ts';

export class SnapshotRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotRefused';
  }
}

/** The source has no such table (a group snapshots the table on the sources that have it). */
export class TableMissing extends SnapshotRefused {}

interface ColumnRow {
  name: string;
  dataType: string;
  columnType: string;
  charset: string | null;
  collation: string | null;
  comment: string;
  precision: number | null;
  scale: number | null;
  datetimePrecision: number | null;
  octets: number | null;
}

export interface SnapshotColumn {
  name: string;
  /** information_schema DATA_TYPE, lower case */
  dataType: string;
  /** ENUM value list (a SELECT gives '' for the invalid value, which zongji gives as undefined) */
  enumValues?: string[];
  /** DATETIME, TIMESTAMP and TIME fraction digits */
  fsp?: number;
}

export interface TableShape {
  schema: string;
  table: string;
  columns: SnapshotColumn[];
  /** the columns chunks are ordered and resumed by: the primary key, else a unique NOT NULL key */
  keyColumns: string[];
  /** which index that is, for messages */
  keyName: string;
  /** per key column: how it sorts when not as its text (ENUM, SET, BIT: key-order.ts) */
  keyOrder: KeyOrder[];
  /** the engine's row estimate (information_schema.TABLES.TABLE_ROWS) */
  estimatedRows: number;
  codec: TableCodec;
  /** the column list of the chunk SELECT */
  selectList: string;
  /** the columns whose SELECT value differs from zongji's binlog value (asBinlogRow); often none */
  fixColumns: SnapshotColumn[];
  /** the information_schema column rows of the shape as it was described (columnsSignature) */
  signature: string;
  /** a spatial column is present: the SELECT needs a typeCast keeping its bytes */
  spatial: boolean;
  /** how rows are read from the text protocol's packets; undefined for a table with FLOAT or DOUBLE columns (binary protocol) */
  text: TextShape | undefined;
}

export function quoteName(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export function tableName(schema: string, table: string): string {
  return `${quoteName(schema)}.${quoteName(table)}`;
}

const COLUMNS_SQL =
  'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, CHARACTER_SET_NAME AS charset, ' +
  'COLLATION_NAME AS collation, COLUMN_COMMENT AS comment, NUMERIC_PRECISION AS `precision`, NUMERIC_SCALE AS scale, ' +
  'DATETIME_PRECISION AS datetimePrecision, CHARACTER_OCTET_LENGTH AS octets ' +
  'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION';
const KEYS_SQL =
  'SELECT s.INDEX_NAME AS indexName, s.COLUMN_NAME AS name, s.NON_UNIQUE AS nonUnique, s.SUB_PART AS subPart, c.IS_NULLABLE AS nullable ' +
  'FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c ' +
  'ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME ' +
  'WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX';
const TABLE_SQL = 'SELECT TABLE_TYPE AS type, ENGINE AS engine, TABLE_ROWS AS estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?';

const BLOB_LENGTH_SIZE: Record<string, number> = { tiny: 1, '': 2, medium: 3, long: 4 };
const SPATIAL = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);
const INT_CODES: Record<string, number> = { tinyint: BinlogType.TINY, smallint: BinlogType.SHORT, mediumint: BinlogType.INT24, int: BinlogType.LONG, integer: BinlogType.LONG, bigint: BinlogType.LONGLONG };

/** The binlog type code and table map metadata a FULL-metadata table map gives a column. */
function binlogColumn(c: ColumnRow, where: string): ColumnInfo {
  const dt = c.dataType;
  const binary = c.charset === null;
  const col = (type: number, metadata: Record<string, unknown> = {}, charset: string | null = null): ColumnInfo => ({ name: c.name, type, metadata, charset });
  if (INT_CODES[dt] !== undefined) return col(INT_CODES[dt]);
  const blob = /^(tiny|medium|long|)(text|blob)$/.exec(dt);
  if (blob) return col(BinlogType.BLOB, { length_size: BLOB_LENGTH_SIZE[blob[1]!] }, binary ? null : c.charset);
  if (SPATIAL.has(dt)) return col(BinlogType.GEOMETRY, { length_size: 4 });
  switch (dt) {
    case 'float':
      return col(BinlogType.FLOAT, { size: 4 });
    case 'double':
    case 'real':
      return col(BinlogType.DOUBLE, { size: 8 });
    case 'decimal':
    case 'numeric':
      return col(BinlogType.NEWDECIMAL, { precision: Number(c.precision), decimals: Number(c.scale ?? 0) });
    case 'bit':
      return col(BinlogType.BIT, { bits: Number(c.precision) });
    case 'date':
      return col(BinlogType.DATE);
    case 'datetime':
      return col(BinlogType.DATETIME2, { decimals: Number(c.datetimePrecision ?? 0) });
    case 'timestamp':
      return col(BinlogType.TIMESTAMP2, { decimals: Number(c.datetimePrecision ?? 0) });
    case 'time':
      return col(BinlogType.TIME2, { decimals: Number(c.datetimePrecision ?? 0) });
    case 'year':
      return col(BinlogType.YEAR);
    case 'char':
      return col(BinlogType.STRING, { max_length: Number(c.octets) }, c.charset);
    case 'varchar':
      return col(BinlogType.VARCHAR, { max_length: Number(c.octets) }, c.charset);
    case 'binary':
      return col(BinlogType.STRING, { max_length: Number(c.octets) });
    case 'varbinary':
      return col(BinlogType.VARCHAR, { max_length: Number(c.octets) });
    case 'uuid':
    case 'inet6':
      return col(BinlogType.STRING, { max_length: 16 });
    case 'inet4':
      return col(BinlogType.STRING, { max_length: 4 });
    case 'json':
      return col(BinlogType.JSON, { length_size: 4 });
    case 'enum':
      return col(BinlogType.ENUM, { size: 2 }, c.charset);
    case 'set':
      return col(BinlogType.SET, { size: 8 }, c.charset);
  }
  throw new SnapshotRefused(`column ${where}.${c.name} has type ${c.columnType}, which snapshots do not read`);
}

function columnSchema(c: ColumnRow): ColumnSchema {
  const s: ColumnSchema = { COLUMN_NAME: c.name, COLLATION_NAME: c.collation, CHARACTER_SET_NAME: c.charset, COLUMN_COMMENT: c.comment, COLUMN_TYPE: c.columnType };
  if (INT_CODES[c.dataType] !== undefined || ['float', 'double', 'real', 'decimal', 'numeric'].includes(c.dataType)) s.UNSIGNED = /\bunsigned\b/i.test(c.columnType);
  if (c.dataType === 'enum') s.ENUM_VALUES = parseValueList(c.columnType);
  if (c.dataType === 'set') s.SET_VALUES = parseValueList(c.columnType);
  return s;
}

/** The primary key, else the unique key of fewest NOT NULL full columns (ties: by name), else a refusal naming the table. */
function chooseKey(rows: { indexName: string; name: string; nonUnique: number | string; subPart: number | null; nullable: string }[], where: string): { name: string; columns: string[]; primary: string[] } {
  const indexes = new Map<string, { columns: string[]; usable: boolean; unique: boolean }>();
  for (const r of rows) {
    let ix = indexes.get(r.indexName);
    if (!ix) {
      ix = { columns: [], usable: true, unique: Number(r.nonUnique) === 0 };
      indexes.set(r.indexName, ix);
    }
    ix.columns.push(r.name);
    if (r.nullable !== 'NO' || r.subPart !== null) ix.usable = false;
  }
  const primary = indexes.get('PRIMARY');
  if (primary) return { name: 'PRIMARY', columns: primary.columns, primary: primary.columns };
  const candidates = [...indexes.entries()].filter(([, ix]) => ix.unique && ix.usable).sort((a, b) => a[1].columns.length - b[1].columns.length || a[0].localeCompare(b[0]));
  const best = candidates[0];
  if (!best) {
    throw new SnapshotRefused(
      `table ${where} has no primary key and no unique key over NOT NULL columns (without prefix lengths); a snapshot needs one to read it in chunks and to match binlog changes to rows: add a primary key`,
    );
  }
  return { name: best[0], columns: best[1].columns, primary: [] };
}

/**
 * Describes `schema.table` as it is now. Run inside the chunk's transaction after its SELECT, so
 * the table's metadata lock keeps the description and the rows read together.
 */
type Db = Pick<Pool, 'query'>;

async function columnRows(db: Db, schema: string, table: string): Promise<ColumnRow[]> {
  const [colRows] = await db.query(COLUMNS_SQL, [schema, table]);
  return (colRows as ColumnRow[]).map((c) => ({ ...c, dataType: String(c.dataType).toLowerCase() }));
}

/** The columns' information_schema rows a shape is compared by, oldest first. */
const SIGNATURE_COLUMNS =
  'COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_OCTET_LENGTH';

/** The signature query with the names written in as SQL literals (for a query sent without parameters). */
export function signatureSql(schemaLiteral: string, tableLiteral: string): string {
  return `SELECT ${SIGNATURE_COLUMNS} FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${schemaLiteral} AND TABLE_NAME = ${tableLiteral} ORDER BY ORDINAL_POSITION`;
}

/** The signature of the signature query's rows, each value as text (NULL as null). */
export function signatureOf(rows: readonly (readonly (string | null)[])[]): string {
  return JSON.stringify(rows);
}

/** What a table's columns are now, as one comparable text: a change means a new shape. */
export async function columnsSignature(db: Db, schema: string, table: string): Promise<string> {
  const [rows] = await db.query({
    sql: signatureSql('?', '?'),
    values: [schema, table],
    rowsAsArray: true,
    typeCast: (field: { string(): string | null }) => field.string(),
  });
  return signatureOf(rows as (string | null)[][]);
}

export async function describeTable(db: Db, schema: string, table: string, timezone: string): Promise<TableShape> {
  const where = `${schema}.${table}`;
  const [tables] = await db.query(TABLE_SQL, [schema, table]);
  const t = (tables as { type: string; engine: string | null; estimate: number | string | null }[])[0];
  if (!t) throw new TableMissing(`table ${where} does not exist on the source`);
  if (t.type !== 'BASE TABLE') throw new SnapshotRefused(`${where} is a ${t.type.toLowerCase()}, not a table; only base tables can be snapshotted`);
  if (t.engine !== null && t.engine.toLowerCase() !== 'innodb') {
    throw new SnapshotRefused(`table ${where} uses the ${t.engine} engine; snapshots read in consistent-snapshot transactions, which need InnoDB`);
  }
  // before the description: a change between the two then shows as a changed shape at the first chunk
  const signature = await columnsSignature(db, schema, table);
  const cols = await columnRows(db, schema, table);
  if (cols.length === 0) throw new SnapshotRefused(`table ${where} has no columns readable by this account`);
  const [keyRows] = await db.query(KEYS_SQL, [schema, table]);
  const key = chooseKey(keyRows as never, where);
  // The same information_schema reading the binlog path uses for what the table map lacks (JSON columns, COLUMN_TYPE).
  const meta = await new TableMetaCache(db as unknown as Pool).load(schema, table);
  const entry: TableMapEntry = {
    columnSchemas: cols.map(columnSchema),
    parentSchema: schema,
    tableName: table,
    columns: cols.map((c) => binlogColumn(c, where)),
  };
  // before buildTableCodec, which retypes some of the entry's columns for zongji
  const specs = entry.columns!.map((column, i) => buildColumnSpec(i, column, entry.columnSchemas[i], key.primary.includes(column.name), meta));
  const codec = buildTableCodec(
    { tableId: 0, schemaName: schema, tableName: table, tableMap: { 0: entry }, columnNames: cols.map((c) => c.name), primaryKey: key.primary.map((n) => cols.findIndex((c) => c.name === n)) },
    meta,
    { timezone },
  );
  const shape: TableShape = {
    schema,
    table,
    columns: cols.map((c): SnapshotColumn => {
      if (c.dataType === 'enum') return { name: c.name, dataType: c.dataType, enumValues: parseValueList(c.columnType) };
      if (c.dataType === 'datetime' || c.dataType === 'timestamp' || c.dataType === 'time') return { name: c.name, dataType: c.dataType, fsp: Number(c.datetimePrecision ?? 0) };
      return { name: c.name, dataType: c.dataType };
    }),
    keyColumns: key.columns,
    keyName: key.name,
    keyOrder: key.columns.map((k) => {
      const c = cols.find((x) => x.name === k)!;
      return keyOrderOf(c.dataType, c.columnType);
    }),
    estimatedRows: Number(t.estimate ?? 0),
    codec,
    selectList: cols.map((c) => (TEXT_TEMPORAL.has(c.dataType) ? `CAST(${quoteName(c.name)} AS CHAR) AS ${quoteName(c.name)}` : quoteName(c.name))).join(', '),
    signature,
    fixColumns: [],
    spatial: cols.some((c) => SPATIAL.has(c.dataType)),
    text: textShape(specs, key.columns, where, new TimestampRenderer(timezone)),
  };
  shape.fixColumns = shape.columns.filter((c) => c.dataType === 'year' || c.dataType === 'enum' || (c.fsp !== undefined && c.fsp > 0 && !TEXT_TEMPORAL.has(c.dataType)));
  return shape;
}

/**
 * Temporal types the SELECT reads as text (CAST AS CHAR): the server writes exactly the text the
 * binlog value gives (the column's fraction digits, zero dates as zeros; TIMESTAMP in the
 * connection's UTC), where mysql2's binary protocol would build each from its parts, a tenth of the
 * snapshot's CPU on a table with one DATETIME column. TIME stays binary (negative and >24 h values).
 */
const TEXT_TEMPORAL = new Set(['datetime', 'timestamp', 'date']);

/** `v` with exactly `fsp` fraction digits (mysql2's binary protocol drops trailing zeros, and the fraction of a zero value). */
function withFraction(v: string, fsp: number): string {
  const dot = v.indexOf('.');
  if (dot < 0) return `${v}.${'0'.repeat(fsp)}`;
  const digits = v.length - dot - 1;
  return digits >= fsp ? v : v + '0'.repeat(fsp - digits);
}

/**
 * Turns a row as the chunk SELECT gives it (binary protocol) into the values zongji gives for a
 * binlog row, where they differ: the zero YEAR (zongji: 1900), the invalid ENUM value ''
 * (zongji: undefined) and temporal fractions (zongji: always the column's n digits).
 */
export function asBinlogRow(row: Record<string, unknown>, columns: readonly SnapshotColumn[]): Record<string, unknown> {
  // `columns`: the shape's fixColumns, so a table without such columns costs nothing per row
  for (const c of columns) {
    const v = row[c.name];
    if (c.dataType === 'year') {
      if (v === 0) row[c.name] = 1900;
    } else if (c.dataType === 'enum') {
      if (v === '' && !c.enumValues!.includes('')) row[c.name] = undefined;
    } else if (c.fsp !== undefined && c.fsp > 0 && typeof v === 'string') {
      row[c.name] = withFraction(v, c.fsp);
    }
  }
  return row;
}
