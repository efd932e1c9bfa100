// Everything about one column that does not depend on the row: how its values are converted
// (kind), Canal's sqlType codes, its mysqlType text and key flag. Built once per table map from
// the binlog's own metadata, with TableMeta filling in what the binlog does not carry.
import { ColumnType, type ColumnInfo, type ColumnSchema } from '../../binlog/table-map.ts';
import { maxBytesPerChar } from '../../binlog/charsets.ts';
import { SqlType } from '../../protocol/entry-model.ts';
import { parseValueList, valueListType } from './enum-set.ts';
import type { TableMeta } from './types.ts';

/** Binlog column type codes (MySQL's enum_field_types, plus MariaDB's COMPRESSED variants). */
export const BinlogType = ColumnType;

/** How a column's values are converted; one branch per kind in the row loop. */
export const Kind = {
  INT: 0,
  BIGINT: 1,
  DECIMAL: 2,
  FLOAT: 3,
  DOUBLE: 4,
  BIT: 5,
  /** DATE, DATETIME, TIME: zongji's text is already Canal's */
  TEMPORAL_TEXT: 6,
  TIMESTAMP: 7,
  YEAR: 8,
  TEXT: 9,
  BYTES: 10,
  ENUM: 11,
  SET: 12,
  JSON: 13,
  UUID: 14,
  INET4: 15,
  INET6: 16,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface ColumnSpec {
  index: number;
  name: string;
  isKey: boolean;
  mysqlType: string;
  kind: Kind;
  /** sqlType of a non-null value (before any unsigned promotion) */
  sqlType: number;
  /** sqlType of a NULL value (Canal's quirks: SET and BLOBs 2004, JSON 1111) */
  nullSqlType: number;
  /** integers: unsigned column whose value may exceed the signed range */
  unsigned: boolean;
  /** TINYINT to INT: largest signed value; larger (unsigned) values take promotedSqlType */
  signedMax: number;
  promotedSqlType: number;
  /** DECIMAL scale */
  scale: number;
  /** ENUM/SET value list */
  values: string[];
  /** a spatial column, whose bytes zongji keeps only after keepGeometryBytes */
  geometry: boolean;
}

const SPATIAL_TYPES = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

/** Maximum bytes per character, to turn the binlog's byte lengths into CHAR/VARCHAR lengths. */
function charsetMaxBytes(charset: string | null): number {
  return charset === null ? 1 : (maxBytesPerChar(charset.toLowerCase()) ?? 1);
}

const BLOB_NAMES: Record<number, [text: string, binary: string]> = {
  1: ['tinytext', 'tinyblob'],
  2: ['text', 'blob'],
  3: ['mediumtext', 'mediumblob'],
  4: ['longtext', 'longblob'],
};

interface IntType {
  name: string;
  /** display widths MariaDB writes in COLUMN_TYPE */
  widthSigned: number;
  widthUnsigned: number;
  sqlType: number;
  /** BIGINT compares as text instead (its values beyond 2^53 arrive as strings) */
  signedMax: number;
  promoted: number;
}

const INT_TYPES: Record<number, IntType> = {
  [BinlogType.TINY]: { name: 'tinyint', widthSigned: 4, widthUnsigned: 3, sqlType: SqlType.TINYINT, signedMax: 127, promoted: SqlType.SMALLINT },
  [BinlogType.SHORT]: { name: 'smallint', widthSigned: 6, widthUnsigned: 5, sqlType: SqlType.SMALLINT, signedMax: 32767, promoted: SqlType.INTEGER },
  [BinlogType.INT24]: { name: 'mediumint', widthSigned: 9, widthUnsigned: 8, sqlType: SqlType.INTEGER, signedMax: 8388607, promoted: SqlType.INTEGER },
  [BinlogType.LONG]: { name: 'int', widthSigned: 11, widthUnsigned: 10, sqlType: SqlType.INTEGER, signedMax: 2147483647, promoted: SqlType.BIGINT },
  [BinlogType.LONGLONG]: { name: 'bigint', widthSigned: 20, widthUnsigned: 20, sqlType: SqlType.BIGINT, signedMax: 0, promoted: SqlType.DECIMAL },
};

/** A column type text split for comparison: `bigint(20) unsigned zerofill` -> bigint, ['20'], unsigned. */
interface TypeText {
  base: string;
  params: string[];
  unsigned: boolean;
}

function splitTypeText(columnType: string): TypeText {
  const lower = columnType.toLowerCase();
  const base = /^[a-z0-9_]+/.exec(lower)?.[0] ?? '';
  const paren = /^[a-z0-9_]+\s*\(([^)]*)\)/.exec(lower);
  return {
    base,
    params: paren ? paren[1]!.split(',').map((p) => p.trim()) : [],
    unsigned: /\bunsigned\b/.test(lower),
  };
}

function withFsp(name: string, fsp: number): string {
  return fsp > 0 ? `${name}(${fsp})` : name;
}

function num(metadata: Record<string, unknown> | undefined, key: string): number {
  const v = metadata?.[key];
  return typeof v === 'number' ? v : 0;
}

/** What the table map says of one column, and what we derive from it. */
interface Derived {
  kind: Kind;
  sqlType: number;
  nullSqlType: number;
  /** mysqlType built from the binlog alone */
  synthesized: string;
  /** does TableMeta's column type describe the same binlog type? */
  agrees: (meta: TypeText, columnType: string) => boolean;
  int?: IntType;
  scale?: number;
  values?: string[];
  geometry?: boolean;
}

function isSpatial(schema: ColumnSchema | undefined): boolean {
  return schema !== undefined && SPATIAL_TYPES.has(splitTypeText(schema.COLUMN_TYPE).base);
}

function derive(column: ColumnInfo, schema: ColumnSchema | undefined, unsigned: boolean, metaType: { dataType: string } | undefined): Derived {
  const md = column.metadata;
  const charset = column.charset;
  const binary = charset === null;
  const type = column.type;
  const unsignedSuffix = unsigned ? ' unsigned' : '';

  const intType = INT_TYPES[type];
  if (intType) {
    return {
      kind: type === BinlogType.LONGLONG ? Kind.BIGINT : Kind.INT,
      sqlType: intType.sqlType,
      nullSqlType: intType.sqlType,
      synthesized: `${intType.name}(${unsigned ? intType.widthUnsigned : intType.widthSigned})${unsignedSuffix}`,
      agrees: (m) => m.base === intType.name && m.unsigned === unsigned,
      int: intType,
    };
  }

  switch (type) {
    case BinlogType.FLOAT:
    case BinlogType.DOUBLE: {
      const name = type === BinlogType.FLOAT ? 'float' : 'double';
      const sqlType = type === BinlogType.FLOAT ? SqlType.REAL : SqlType.DOUBLE;
      return {
        kind: type === BinlogType.FLOAT ? Kind.FLOAT : Kind.DOUBLE,
        sqlType,
        nullSqlType: sqlType,
        synthesized: name + unsignedSuffix,
        agrees: (m) => (m.base === name || (name === 'double' && m.base === 'real')) && m.unsigned === unsigned,
      };
    }
    case BinlogType.NEWDECIMAL: {
      const precision = num(md, 'precision');
      const scale = num(md, 'decimals');
      return {
        kind: Kind.DECIMAL,
        sqlType: SqlType.DECIMAL,
        nullSqlType: SqlType.DECIMAL,
        synthesized: `decimal(${precision},${scale})${unsignedSuffix}`,
        agrees: (m) =>
          (m.base === 'decimal' || m.base === 'numeric') && m.params[0] === String(precision) && (m.params[1] ?? '0') === String(scale) && m.unsigned === unsigned,
        scale,
      };
    }
    case BinlogType.BIT: {
      const bits = num(md, 'bits');
      return {
        kind: Kind.BIT,
        sqlType: SqlType.BIT,
        nullSqlType: SqlType.BIT,
        synthesized: `bit(${bits})`,
        agrees: (m) => m.base === 'bit' && (m.params[0] ?? '1') === String(bits),
      };
    }
    case BinlogType.DATE:
    case BinlogType.NEWDATE:
      return { kind: Kind.TEMPORAL_TEXT, sqlType: SqlType.DATE, nullSqlType: SqlType.DATE, synthesized: 'date', agrees: (m) => m.base === 'date' };
    case BinlogType.DATETIME:
    case BinlogType.DATETIME2:
    case BinlogType.TIME:
    case BinlogType.TIME2:
    case BinlogType.TIMESTAMP:
    case BinlogType.TIMESTAMP2: {
      const name =
        type === BinlogType.DATETIME || type === BinlogType.DATETIME2 ? 'datetime' : type === BinlogType.TIME || type === BinlogType.TIME2 ? 'time' : 'timestamp';
      // MariaDB 5.3 "hires" columns use the classic codes with no fsp in the binlog metadata;
      // zongji then reads the table's COLUMN_TYPE, which carries it
      const legacy = type === BinlogType.DATETIME || type === BinlogType.TIME || type === BinlogType.TIMESTAMP;
      const fsp = legacy ? Number(/\((\d)\)/.exec(schema?.COLUMN_TYPE ?? '')?.[1] ?? 0) : num(md, 'decimals');
      const sqlType = name === 'time' ? SqlType.TIME : SqlType.TIMESTAMP;
      return {
        kind: name === 'timestamp' ? Kind.TIMESTAMP : Kind.TEMPORAL_TEXT,
        sqlType,
        nullSqlType: sqlType,
        synthesized: withFsp(name, fsp),
        agrees: (m) => m.base === name && (m.params[0] ?? '0') === String(fsp),
      };
    }
    case BinlogType.YEAR:
      return { kind: Kind.YEAR, sqlType: SqlType.VARCHAR, nullSqlType: SqlType.VARCHAR, synthesized: 'year(4)', agrees: (m) => m.base === 'year' };
    case BinlogType.STRING:
    case BinlogType.VARCHAR:
    case BinlogType.VAR_STRING:
    case BinlogType.VARCHAR_COMPRESSED: {
      const fixed = type === BinlogType.STRING;
      const byteLength = num(md, 'max_length') - (type === BinlogType.VARCHAR_COMPRESSED ? 1 : 0);
      if (binary) {
        const mariaType = fixed ? mariadbBinaryType(metaType?.dataType, byteLength) : undefined;
        if (mariaType) {
          return {
            kind: mariaType.kind,
            sqlType: SqlType.VARCHAR,
            nullSqlType: SqlType.VARCHAR,
            synthesized: mariaType.name,
            agrees: (m) => m.base === mariaType.name,
          };
        }
        const name = fixed ? 'binary' : 'varbinary';
        return {
          kind: Kind.BYTES,
          sqlType: SqlType.BLOB,
          nullSqlType: SqlType.BLOB,
          synthesized: `${name}(${byteLength})`,
          agrees: (m) => m.base === name && m.params[0] === String(byteLength),
        };
      }
      const name = fixed ? 'char' : 'varchar';
      const perChar = charsetMaxBytes(charset);
      const sqlType = fixed ? SqlType.CHAR : SqlType.VARCHAR;
      return {
        kind: Kind.TEXT,
        sqlType,
        nullSqlType: sqlType,
        synthesized: `${name}(${Math.floor(byteLength / perChar)})`,
        agrees: (m) => m.base === name && Number(m.params[0]) * perChar === byteLength,
      };
    }
    case BinlogType.TINY_BLOB:
    case BinlogType.MEDIUM_BLOB:
    case BinlogType.LONG_BLOB:
    case BinlogType.BLOB:
    case BinlogType.BLOB_COMPRESSED: {
      if (isSpatial(schema)) return geometry(schema);
      const names = BLOB_NAMES[num(md, 'length_size')] ?? BLOB_NAMES[2]!;
      // MariaDB's JSON is LONGTEXT with a json_valid check and goes out as the LONGTEXT it is:
      // Canal takes the column type from the table's DDL, where MariaDB reports `longtext`, so its
      // clients see mysqlType longtext and sqlType CLOB (2005), null or not.
      const name = binary ? names[1] : names[0];
      return {
        kind: binary ? Kind.BYTES : Kind.TEXT,
        sqlType: binary ? SqlType.BLOB : SqlType.CLOB,
        nullSqlType: binary ? SqlType.BLOB : SqlType.CLOB,
        synthesized: name,
        agrees: (m) => m.base === name,
      };
    }
    case BinlogType.GEOMETRY:
      return geometry(schema);
    case BinlogType.JSON:
      return { kind: Kind.JSON, sqlType: SqlType.VARCHAR, nullSqlType: SqlType.OTHER, synthesized: 'json', agrees: (m) => m.base === 'json' };
    case BinlogType.ENUM:
    case BinlogType.SET: {
      const isEnum = type === BinlogType.ENUM;
      const keyword = isEnum ? 'enum' : 'set';
      const listed = isEnum ? schema?.ENUM_VALUES : schema?.SET_VALUES;
      const values = listed ?? (schema ? parseValueList(schema.COLUMN_TYPE) : []);
      const synthesized = valueListType(keyword, values);
      return {
        kind: isEnum ? Kind.ENUM : Kind.SET,
        sqlType: isEnum ? SqlType.INTEGER : SqlType.BIT,
        nullSqlType: isEnum ? SqlType.INTEGER : SqlType.BLOB,
        synthesized,
        agrees: (m, columnType) => m.base === keyword && columnType === synthesized,
        values,
      };
    }
  }
  throw new Error(`column ${column.name}: binlog column type ${type} is not supported`);
}

function geometry(schema: ColumnSchema | undefined): Derived {
  const sub = schema ? splitTypeText(schema.COLUMN_TYPE).base : 'geometry';
  const name = SPATIAL_TYPES.has(sub) ? sub : 'geometry';
  return { kind: Kind.BYTES, sqlType: SqlType.BLOB, nullSqlType: SqlType.BLOB, synthesized: name, agrees: (m) => SPATIAL_TYPES.has(m.base), geometry: true };
}

function mariadbBinaryType(dataType: string | undefined, byteLength: number): { name: string; kind: Kind } | undefined {
  switch (dataType?.toLowerCase()) {
    case 'uuid':
      return byteLength === 16 ? { name: 'uuid', kind: Kind.UUID } : undefined;
    case 'inet6':
      return byteLength === 16 ? { name: 'inet6', kind: Kind.INET6 } : undefined;
    case 'inet4':
      return byteLength === 4 ? { name: 'inet4', kind: Kind.INET4 } : undefined;
    default:
      return undefined;
  }
}

/**
 * Builds the spec of column `index`. Names, types and signedness come from the table map;
 * TableMeta (the table as it is now) supplies the mysqlType text only where it still describes
 * the same binlog type, and tells MariaDB's UUID/INET/JSON apart from their storage types.
 */
export function buildColumnSpec(index: number, column: ColumnInfo, schema: ColumnSchema | undefined, isKey: boolean, meta: TableMeta | undefined): ColumnSpec {
  const unsigned = schema?.UNSIGNED ?? (schema ? splitTypeText(schema.COLUMN_TYPE).unsigned : false);
  const metaColumn = meta?.columns.get(column.name);
  const d = derive(column, schema, unsigned, metaColumn);
  let mysqlType = d.synthesized;
  if (metaColumn && d.agrees(splitTypeText(metaColumn.columnType), metaColumn.columnType)) mysqlType = metaColumn.columnType;
  return {
    index,
    name: column.name,
    isKey,
    mysqlType,
    kind: d.kind,
    sqlType: d.sqlType,
    nullSqlType: d.nullSqlType,
    unsigned: d.int !== undefined && unsigned,
    signedMax: d.int?.signedMax ?? 0,
    promotedSqlType: d.int?.promoted ?? d.sqlType,
    scale: d.scale ?? 0,
    values: d.values ?? [],
    geometry: d.geometry === true,
  };
}
