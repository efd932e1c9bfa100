// TABLE_MAP events: the table's column types and per-column metadata, and (MariaDB 10.5+ and
// MySQL 8.0 with binlog_row_metadata=FULL) the optional metadata block with column names,
// signedness, charsets, ENUM/SET values, geometry types and the primary key. The result is shaped
// as INFORMATION_SCHEMA.COLUMNS rows plus per-column binlog facts, the same shape zongji 0.9.0
// builds, so column conversion sees one description whichever decoder produced it.
import type { Buffer } from 'node:buffer';
import { BinlogFormatError, ByteReader } from './bytes.ts';
import { BINARY_COLLATION, charsetMaxBytes, charsetOfCollation, decodeText, decoderName } from './charsets.ts';

/** Column type codes of the binlog (MySQL's enum_field_types, MariaDB's COMPRESSED variants). */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  BLOB_COMPRESSED: 140,
  VARCHAR_COMPRESSED: 141,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Per-column metadata of the table map, by type (absent for types without any). */
export interface ColumnMetadata {
  size?: number;
  max_length?: number;
  bits?: number;
  precision?: number;
  decimals?: number;
  length_size?: number;
  /** ENUM/SET: the real type the STRING code hides (removed once applied) */
  type?: number;
  [key: string]: unknown;
}

/** One column as INFORMATION_SCHEMA.COLUMNS describes it (built from FULL metadata or queried). */
export interface ColumnSchema {
  COLUMN_NAME: string;
  COLLATION_NAME: string | null;
  CHARACTER_SET_NAME: string | null;
  COLUMN_COMMENT: string;
  COLUMN_TYPE: string;
  UNSIGNED?: boolean;
  ENUM_VALUES?: string[];
  SET_VALUES?: string[];
}

/** One column as row images are decoded: name, charset, real type code and its metadata. */
export interface ColumnInfo {
  name: string;
  charset: string | null;
  type: number;
  metadata: ColumnMetadata;
}

export interface TableMapEntry {
  columnSchemas: ColumnSchema[];
  parentSchema: string;
  tableName: string;
  columns?: ColumnInfo[];
}

const Optional = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
  COLUMN_VISIBILITY: 12,
} as const;

const T = ColumnType;
/** Columns the SIGNEDNESS bitmap covers (the server's numeric types, YEAR included). */
const NUMERIC = new Set<number>([T.DECIMAL, T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG, T.NEWDECIMAL, T.FLOAT, T.DOUBLE, T.YEAR]);
/** Columns the charset lists cover (ENUM and SET have lists of their own). */
const CHARACTER = new Set<number>([T.VARCHAR, T.VAR_STRING, T.STRING, T.BLOB, T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB, T.BLOB_COMPRESSED, T.VARCHAR_COMPRESSED]);
const GEOMETRY_NAMES = ['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geomcollection'];
const BLOB_NAMES: Record<number, [binary: string, text: string]> = {
  1: ['tinyblob', 'tinytext'],
  2: ['blob', 'text'],
  3: ['mediumblob', 'mediumtext'],
  4: ['longblob', 'longtext'],
};

/** What the optional metadata block said (all undefined when absent or malformed). */
interface OptionalMetadata {
  columnNames?: string[];
  signedness?: boolean[];
  primaryKey?: number[];
  geometryTypes?: number[];
  charsetIds?: (number | undefined)[];
  enumSetValues?: (Buffer[] | undefined)[];
}

export interface DecodedTableMap {
  tableId: number;
  flags: number;
  schemaName: string;
  tableName: string;
  columnCount: number;
  /** the real type of each column (ENUM/SET instead of the STRING code that carries them) */
  columnTypes: number[];
  columnsMetadata: ColumnMetadata[];
  columnNames: string[] | undefined;
  primaryKey: number[] | undefined;
  /**
   * The columns described by the event itself (FULL metadata); undefined when the event lacks
   * column names, or on MariaDB when it has classic temporal columns, whose 5.3 "hires" variant
   * only the table definition reveals: then the schema must come from INFORMATION_SCHEMA.
   */
  entry: TableMapEntry | undefined;
  /** without `entry`: the signedness the event carried, applied over the queried schema */
  signedness: boolean[] | undefined;
}

function readColumnMetadata(r: ByteReader, types: readonly number[]): ColumnMetadata[] {
  const out: ColumnMetadata[] = new Array(types.length);
  for (let i = 0; i < types.length; i++) {
    let md: ColumnMetadata | undefined;
    switch (types[i]) {
      case T.FLOAT:
      case T.DOUBLE:
        md = { size: r.u8() };
        break;
      case T.VARCHAR:
      case T.VARCHAR_COMPRESSED:
        md = { max_length: r.u16() };
        break;
      case T.BIT: {
        const bits = r.u8();
        const bytes = r.u8();
        md = { bits: bytes * 8 + bits };
        break;
      }
      case T.NEWDECIMAL: {
        const precision = r.u8();
        md = { precision, decimals: r.u8() };
        break;
      }
      case T.BLOB:
      case T.BLOB_COMPRESSED:
      case T.GEOMETRY:
      case T.JSON:
        md = { length_size: r.u8() };
        break;
      case T.STRING:
      case T.VAR_STRING: {
        // two bytes, high first: the real type (ENUM/SET ride on STRING) and a size, or a
        // 10-bit byte length whose top two bits are stored inverted in the first byte
        const hi = r.u8();
        const lo = r.u8();
        const v = (hi << 8) + lo;
        md = hi === T.ENUM || hi === T.SET ? { type: hi, size: lo } : { max_length: (((v >> 4) & 0x300) ^ 0x300) + lo };
        break;
      }
      case T.TIMESTAMP2:
      case T.DATETIME2:
      case T.TIME2:
        md = { decimals: r.u8() };
        break;
    }
    out[i] = md as ColumnMetadata;
  }
  return out;
}

function readOptional(r: ByteReader, count: number, types: readonly number[]): OptionalMetadata {
  // one nullability bit per column comes first
  r.bytes((count + 7) >> 3);
  const out: OptionalMetadata = {};
  if (r.pos >= r.end) return out;
  const numeric: number[] = [];
  const character: number[] = [];
  const enumSet: number[] = [];
  const enums: number[] = [];
  const sets: number[] = [];
  const geometry: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = types[i]!;
    if (NUMERIC.has(t)) numeric.push(i);
    else if (t === T.ENUM) {
      enumSet.push(i);
      enums.push(i);
    } else if (t === T.SET) {
      enumSet.push(i);
      sets.push(i);
    } else if (CHARACTER.has(t)) character.push(i);
    else if (t === T.GEOMETRY) geometry.push(i);
  }
  const charsetIds = new Array<number | undefined>(count);
  const end = r.end;
  const readBitmap = (f: ByteReader, indexes: number[], target: boolean[]): void => {
    const bytes = f.bytes((indexes.length + 7) >> 3);
    for (let i = 0; i < indexes.length; i++) target[indexes[i]!] = (bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  };
  const readDefaultCharset = (f: ByteReader, indexes: number[]): void => {
    const def = f.count();
    for (const i of indexes) charsetIds[i] = def;
    while (f.pos < f.end) {
      const position = f.count();
      const collation = f.count();
      if (position < indexes.length) charsetIds[indexes[position]!] = collation;
    }
  };
  const readColumnCharsets = (f: ByteReader, indexes: number[]): void => {
    for (let i = 0; f.pos < f.end; i++) {
      const collation = f.count();
      if (i < indexes.length) charsetIds[indexes[i]!] = collation;
    }
  };
  const readValues = (f: ByteReader, indexes: number[]): void => {
    out.enumSetValues ??= new Array(count);
    for (let i = 0; f.pos < f.end; i++) {
      const n = f.count();
      const values: Buffer[] = [];
      for (let j = 0; j < n; j++) values.push(f.bytes(f.count()));
      if (i < indexes.length) out.enumSetValues[indexes[i]!] = values;
    }
  };
  while (r.pos < end) {
    const type = r.u8();
    const length = r.lenenc();
    if (length === null || r.pos + length > end) throw new BinlogFormatError('malformed TABLE_MAP optional metadata');
    const f = new ByteReader(r.buf, r.pos, r.pos + length, 'TABLE_MAP optional metadata');
    let known = true;
    switch (type) {
      case Optional.SIGNEDNESS:
        out.signedness = new Array(count);
        readBitmap(f, numeric, out.signedness);
        break;
      case Optional.DEFAULT_CHARSET:
        readDefaultCharset(f, character);
        break;
      case Optional.COLUMN_CHARSET:
        readColumnCharsets(f, character);
        break;
      case Optional.COLUMN_NAME: {
        const names: string[] = [];
        while (f.pos < f.end) names.push(f.utf8(f.count()));
        out.columnNames = names;
        break;
      }
      case Optional.SET_STR_VALUE:
        readValues(f, sets);
        break;
      case Optional.ENUM_STR_VALUE:
        readValues(f, enums);
        break;
      case Optional.ENUM_AND_SET_DEFAULT_CHARSET:
        readDefaultCharset(f, enumSet);
        break;
      case Optional.ENUM_AND_SET_COLUMN_CHARSET:
        readColumnCharsets(f, enumSet);
        break;
      case Optional.SIMPLE_PRIMARY_KEY: {
        const pk: number[] = [];
        while (f.pos < f.end) pk.push(f.count());
        out.primaryKey = pk;
        break;
      }
      case Optional.PRIMARY_KEY_WITH_PREFIX: {
        const pk: number[] = [];
        while (f.pos < f.end) {
          pk.push(f.count());
          f.count();
        }
        out.primaryKey = pk;
        break;
      }
      case Optional.GEOMETRY_TYPE: {
        out.geometryTypes = new Array(count);
        for (let i = 0; f.pos < f.end; i++) {
          const g = f.count();
          if (i < geometry.length) out.geometryTypes[geometry[i]!] = g;
        }
        break;
      }
      case Optional.COLUMN_VISIBILITY: {
        const all = Array.from({ length: count }, (_, i) => i);
        readBitmap(f, all, new Array(count));
        break;
      }
      default:
        // fields of later servers are skipped whole
        known = false;
    }
    if (known && f.pos !== f.end) throw new BinlogFormatError('malformed TABLE_MAP optional metadata');
    r.pos = f.end;
  }
  out.charsetIds = charsetIds;
  return out;
}

function enumSetValues(buffers: Buffer[] | undefined, charset: string | null): string[] {
  if (!buffers) return [];
  const encoding = decoderName(charset);
  return buffers.map((b) => decodeText(b, encoding) ?? b.toString('utf8'));
}

function withFsp(name: string, decimals: number | undefined): string {
  return decimals ? `${name}(${decimals})` : name;
}

/** INFORMATION_SCHEMA-shaped rows from the event's own FULL metadata. */
function columnSchemas(t: DecodedTableMap, o: OptionalMetadata): ColumnSchema[] {
  const out: ColumnSchema[] = [];
  for (let i = 0; i < t.columnCount; i++) {
    const type = t.columnTypes[i]!;
    const md = t.columnsMetadata[i] ?? {};
    const charsetId = o.charsetIds?.[i];
    const binary = charsetId === BINARY_COLLATION;
    const charset = charsetId === undefined || binary ? null : charsetOfCollation(charsetId);
    const unsigned = o.signedness?.[i];
    const s: ColumnSchema = { COLUMN_NAME: o.columnNames![i]!, COLLATION_NAME: null, CHARACTER_SET_NAME: charset, COLUMN_COMMENT: '', COLUMN_TYPE: '' };
    switch (type) {
      case T.TINY:
        s.COLUMN_TYPE = 'tinyint';
        break;
      case T.SHORT:
        s.COLUMN_TYPE = 'smallint';
        break;
      case T.INT24:
        s.COLUMN_TYPE = 'mediumint';
        break;
      case T.LONG:
        s.COLUMN_TYPE = 'int';
        break;
      case T.LONGLONG:
        s.COLUMN_TYPE = 'bigint';
        break;
      case T.FLOAT:
        s.COLUMN_TYPE = 'float';
        break;
      case T.DOUBLE:
        s.COLUMN_TYPE = 'double';
        break;
      case T.DECIMAL:
      case T.NEWDECIMAL:
        s.COLUMN_TYPE = `decimal(${md.precision},${md.decimals})`;
        break;
      case T.YEAR:
        s.COLUMN_TYPE = 'year';
        break;
      case T.STRING:
      case T.VARCHAR:
      case T.VAR_STRING: {
        const fixed = type === T.STRING;
        if (binary) s.COLUMN_TYPE = `${fixed ? 'binary' : 'varbinary'}(${md.max_length})`;
        else s.COLUMN_TYPE = `${fixed ? 'char' : 'varchar'}(${Math.floor((md.max_length as number) / charsetMaxBytes(charset))})`;
        break;
      }
      case T.TINY_BLOB:
      case T.MEDIUM_BLOB:
      case T.LONG_BLOB:
      case T.BLOB:
        s.COLUMN_TYPE = (BLOB_NAMES[md.length_size as number] ?? BLOB_NAMES[2]!)[binary ? 0 : 1];
        break;
      case T.BLOB_COMPRESSED:
        s.COLUMN_TYPE = (BLOB_NAMES[md.length_size as number] ?? BLOB_NAMES[2]!)[binary ? 0 : 1] + ' /*M!100301 COMPRESSED*/';
        break;
      case T.VARCHAR_COMPRESSED: {
        const bytes = (md.max_length as number) - 1;
        s.COLUMN_TYPE =
          binary ? `varbinary(${bytes}) /*M!100301 COMPRESSED*/` : `varchar(${Math.floor(bytes / charsetMaxBytes(charset))}) /*M!100301 COMPRESSED*/`;
        break;
      }
      case T.ENUM:
      case T.SET: {
        const values = enumSetValues(o.enumSetValues?.[i], charset);
        if (type === T.ENUM) s.ENUM_VALUES = values;
        else s.SET_VALUES = values;
        s.COLUMN_TYPE = `${type === T.ENUM ? 'enum' : 'set'}(${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`;
        break;
      }
      case T.BIT:
        s.COLUMN_TYPE = `bit(${md.bits})`;
        break;
      case T.JSON:
        s.COLUMN_TYPE = 'json';
        break;
      case T.GEOMETRY:
        s.COLUMN_TYPE = GEOMETRY_NAMES[o.geometryTypes?.[i] as number] ?? 'geometry';
        break;
      case T.TIMESTAMP:
      case T.TIMESTAMP2:
        s.COLUMN_TYPE = withFsp('timestamp', md.decimals);
        break;
      case T.DATETIME:
      case T.DATETIME2:
        s.COLUMN_TYPE = withFsp('datetime', md.decimals);
        break;
      case T.TIME:
      case T.TIME2:
        s.COLUMN_TYPE = withFsp('time', md.decimals);
        break;
      case T.DATE:
      case T.NEWDATE:
        s.COLUMN_TYPE = 'date';
        break;
    }
    if (unsigned !== undefined && NUMERIC.has(type)) {
      s.UNSIGNED = unsigned;
      if (unsigned && type !== T.YEAR) s.COLUMN_TYPE += ' unsigned';
    }
    out.push(s);
  }
  return out;
}

/** The row-decoding columns of an entry whose columnSchemas are known. */
export function columnInfos(t: DecodedTableMap, schemas: readonly ColumnSchema[]): ColumnInfo[] {
  const out: ColumnInfo[] = new Array(t.columnCount);
  for (let i = 0; i < t.columnCount; i++) {
    const s = schemas[i]!;
    out[i] = { name: s.COLUMN_NAME, charset: s.CHARACTER_SET_NAME, type: t.columnTypes[i]!, metadata: t.columnsMetadata[i]! };
  }
  return out;
}

/**
 * The entry of a table map from INFORMATION_SCHEMA rows (columns in ordinal order), for events
 * without FULL metadata. Fails when the table now has fewer columns than the event.
 */
export function entryFromSchema(t: DecodedTableMap, rows: ColumnSchema[]): TableMapEntry {
  if (rows.length < t.columnCount) {
    throw new BinlogFormatError(
      `table ${t.schemaName}.${t.tableName} changed between the binlog event and the metadata query: ` +
        `the event has ${t.columnCount} columns, information_schema has ${rows.length}`,
    );
  }
  const schemas = rows.map((r) => ({ ...r }));
  if (t.signedness && schemas.length === t.columnCount) {
    for (let i = 0; i < t.columnCount; i++) if (t.signedness[i] !== undefined) schemas[i]!.UNSIGNED = t.signedness[i];
  }
  const entry: TableMapEntry = { columnSchemas: schemas, parentSchema: t.schemaName, tableName: t.tableName };
  entry.columns = columnInfos(t, schemas);
  return entry;
}

/**
 * Decodes a TABLE_MAP body (buf[start, end), checksum excluded). `mariadb` makes tables with
 * classic temporal columns take the INFORMATION_SCHEMA path (see DecodedTableMap.entry).
 */
export function decodeTableMap(buf: Buffer, start: number, end: number, mariadb: boolean): DecodedTableMap {
  const r = new ByteReader(buf, start, end, 'TABLE_MAP event');
  const tableId = r.u48();
  const flags = r.u16();
  const schemaName = r.utf8(r.u8());
  r.u8();
  const tableName = r.utf8(r.u8());
  r.u8();
  const columnCount = r.count();
  const rawTypes = Array.from(r.bytes(columnCount));
  r.lenenc();
  const columnsMetadata = readColumnMetadata(r, rawTypes);
  const columnTypes = rawTypes.map((t, i) => columnsMetadata[i]?.type ?? t);
  let o: OptionalMetadata;
  try {
    o = readOptional(r, columnCount, columnTypes);
  } catch {
    // a malformed optional block is as good as none: the schema then comes from the server
    o = {};
  }
  const t: DecodedTableMap = {
    tableId,
    flags,
    schemaName,
    tableName,
    columnCount,
    columnTypes,
    columnsMetadata,
    columnNames: o.columnNames,
    primaryKey: o.primaryKey,
    entry: undefined,
    signedness: o.signedness,
  };
  const selfDescribing = o.columnNames !== undefined && o.columnNames.length === columnCount;
  const ambiguousTemporal = mariadb && columnTypes.some((c) => c === T.TIMESTAMP || c === T.TIME || c === T.DATETIME);
  if (selfDescribing && !ambiguousTemporal) {
    const schemas = columnSchemas(t, o);
    const entry: TableMapEntry = { columnSchemas: schemas, parentSchema: schemaName, tableName };
    for (const md of columnsMetadata) if (md?.type !== undefined) delete md.type;
    entry.columns = columnInfos(t, schemas);
    t.entry = entry;
  } else {
    for (const md of columnsMetadata) if (md?.type !== undefined) delete md.type;
  }
  return t;
}
