// One reader per column that takes a value's stored bytes straight to Canal's text: the row
// image is read in place, with no JavaScript value in between. Each reader gives exactly the text
// that zongji 0.9.0 (with the value options of zongji-options.ts) followed by the column's
// formatting rule would give for the same bytes (the property tests compare the two).
import { Buffer } from 'node:buffer';
import type { ColumnInfo, ColumnSchema } from '../../binlog/table-map.ts';
import { ColumnType as T } from '../../binlog/table-map.ts';
import { inflateColumnValue } from '../../binlog/compression.ts';
import { decodeText, decoderName } from '../../binlog/charsets.ts';
import { wellFormed } from './bytes.ts';
import { Kind, type ColumnSpec } from './column-spec.ts';
import { canalDecimal } from './decimal.ts';
import { EnumIndex, SetMask } from './enum-set.ts';
import { javaDoubleToString, javaFloatToString } from './java-number.ts';
import { formatInet4, formatInet6, formatUuid } from './mariadb-types.ts';
import { datetime2Size, datetime2Text, decimalSize, decimalText, signedBE } from './raw-values.ts';
import { canalYear, type TimestampRenderer } from './temporal.ts';
import { decimalLayout, putDatetime2, putDecimal, putInteger, putUtf8 } from './text-bytes.ts';
import type { ImageBuilder } from './row-batch.ts';

/**
 * Reads the value at b[p] (b ends at `end`), writes its Canal text's UTF-8 into `out`'s current
 * cell (without ending it), sets `cell.promoted`, sets `cell.isNull` for a value zongji decodes
 * as NULL (writing nothing), and returns the offset after the value.
 */
export type CellReader = (b: Buffer, p: number, end: number, out: ImageBuilder) => number;

/** What the last reader said about its value besides the bytes (the row loop resets isNull). */
export const cell = { promoted: false, isNull: false };

const ZEROS = '00000000000000000000000000000000';

/** zongji's zeroPad: the last `size` characters of the value's text after 32 zeros. */
function zeroPad(num: number | string, size: number): string {
  const s = ZEROS + num;
  return s.substr(s.length - size);
}

function sliceBits(input: number, start: number, end: number): number {
  const match = ((1 << end) - 1) ^ ((1 << start) - 1);
  return (input & match) >> start;
}

function uintLE(b: Buffer, p: number, n: number): number {
  switch (n) {
    case 1:
      return b[p]!;
    case 2:
      return b[p]! | (b[p + 1]! << 8);
    case 3:
      return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
    case 4:
      return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
    default:
      return b.readUIntLE(p, n);
  }
}

const intBE = signedBE;


interface Fraction {
  value: number;
  precision: number;
  milliseconds: number;
}

function millis(value: number, precision: number): number {
  if (precision > 3) return Math.floor(value / Math.pow(10, precision - 3));
  if (precision < 3) return value * Math.pow(10, 3 - precision);
  return value;
}

function fractionText(f: Fraction | undefined): string {
  return f === undefined ? '' : '.' + zeroPad(f.value, f.precision);
}

/** The DATETIME text of parts, as zongji's dateStrings output writes it. */
function dateTimeText(year: number, month: number, day: number, hour: number, minute: number, second: number, f: Fraction | undefined): string {
  return `${zeroPad(year, 4)}-${zeroPad(month, 2)}-${zeroPad(day, 2)} ${zeroPad(hour, 2)}:${zeroPad(minute, 2)}:${zeroPad(second, 2)}${fractionText(f)}`;
}

/** TIMESTAMP seconds (and fraction) as zongji's UTC text. */
function timestampUtcText(seconds: number, f: Fraction | undefined): string {
  if (seconds === 0 && (f === undefined || f.value === 0)) return '0000-00-00 00:00:00' + fractionText(f);
  const d = new Date(seconds * 1000 + (f ? f.milliseconds : 0));
  return dateTimeText(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), f);
}

/** zongji's hiresPrecision: the fsp of a MariaDB 5.3 temporal from its COLUMN_TYPE. */
function hiresPrecision(schema: ColumnSchema): number {
  const m = /^(?:time|datetime|timestamp)\((\d)\)/.exec(schema.COLUMN_TYPE);
  return m ? parseInt(m[1]!, 10) : 0;
}

/** zongji's parseSetEnumTypeDef: the value list split at every comma. */
function naiveValueList(columnType: string, prefix: number): string[] {
  return columnType
    .substr(prefix, columnType.length - prefix - 1)
    .split(',')
    .map((o) => (o[0] === '"' || o[0] === "'" ? o.substr(1, o.length - 2) : o));
}

export interface ReaderContext {
  /** `schema.table.column`, for error messages */
  where: string;
  timestamps: TimestampRenderer;
}

/**
 * The reader of one column. `column` is the table map's description (type as logged; GEOMETRY
 * may already read as BLOB), `schema` its INFORMATION_SCHEMA-shaped row, `spec` what column
 * conversion decided (kind, scale, unsigned promotion, ENUM/SET values).
 */
export function cellReader(column: ColumnInfo, schema: ColumnSchema, spec: ColumnSpec, ctx: ReaderContext): CellReader {
  const where = ctx.where;
  const md = column.metadata ?? {};
  const need = (p: number, n: number, end: number): void => {
    if (p + n > end || n < 0) throw new Error(`column ${where} (${spec.mysqlType}): the row image ends inside a value (${n} bytes needed at ${p}, ${end - p} left)`);
  };
  const unexpected = (what: string): Error => new Error(`column ${where} (${spec.mysqlType}): cannot convert ${what}`);

  /** Text of a value zongji would hand over as a string. */
  const fromString = (s: string): string => {
    switch (spec.kind) {
      case Kind.TEXT:
      case Kind.JSON:
        return wellFormed(s);
      case Kind.TEMPORAL_TEXT:
      case Kind.UUID:
      case Kind.INET4:
      case Kind.INET6:
        return s;
      case Kind.TIMESTAMP:
        return ctx.timestamps.render(s);
      case Kind.DECIMAL:
        return canalDecimal(s, spec.scale);
      case Kind.BIGINT:
        return s;
      default:
        throw unexpected(`string ${s.length > 120 ? s.slice(0, 120) + '…' : s}`);
    }
  };
  /** Text of a value zongji would hand over as bytes. */
  const fromBytes = (bytes: Buffer): string => {
    switch (spec.kind) {
      case Kind.BYTES:
        return bytes.toString('latin1');
      case Kind.BIT:
        return bitText(bytes, 0, bytes.length);
      case Kind.UUID:
        return formatUuid(bytes);
      case Kind.INET4:
        return formatInet4(bytes);
      case Kind.INET6:
        return formatInet6(bytes);
      default:
        if (spec.geometry) throw new Error(`column ${where} (${spec.mysqlType}): geometry without its bytes`);
        throw unexpected(`a Buffer of ${bytes.length} bytes`);
    }
  };
  const textOf = (value: string | Buffer): string => (typeof value === 'string' ? fromString(value) : fromBytes(value));
  const encoding = decoderName(column.charset);
  const decode = (bytes: Buffer): string | Buffer => decodeText(bytes, encoding) ?? bytes;

  switch (column.type) {
    case T.TINY:
    case T.SHORT:
    case T.INT24:
    case T.LONG: {
      const size = column.type === T.TINY ? 1 : column.type === T.SHORT ? 2 : column.type === T.INT24 ? 3 : 4;
      const unsigned = schema.UNSIGNED !== undefined ? schema.UNSIGNED : schema.COLUMN_TYPE.indexOf('unsigned') !== -1;
      const bits = 32 - size * 8;
      if (spec.kind !== Kind.INT) return () => { throw unexpected('an integer'); };
      const promote = spec.unsigned;
      const max = spec.signedMax;
      return (b, p, end, out) => {
        need(p, size, end);
        let v = uintLE(b, p, size);
        if (!unsigned) v = size === 4 ? v | 0 : (v << bits) >> bits;
        putInteger(out, v);
        cell.promoted = promote && v > max;
        return p + size;
      };
    }
    case T.LONGLONG: {
      const unsigned = schema.UNSIGNED !== undefined ? schema.UNSIGNED : schema.COLUMN_TYPE.indexOf('unsigned') !== -1;
      if (spec.kind !== Kind.BIGINT) return () => { throw unexpected('an integer'); };
      const promote = spec.unsigned;
      return (b, p, end, out) => {
        need(p, 8, end);
        const low = uintLE(b, p, 4);
        const high = uintLE(b, p + 4, 4);
        if (high < 0x200000) {
          putInteger(out, high * 0x100000000 + low);
          cell.promoted = false;
        } else {
          const u = (BigInt(high) << 32n) | BigInt(low);
          out.put((unsigned ? u : BigInt.asIntN(64, u)).toString());
          cell.promoted = promote && unsigned && high >= 0x80000000;
        }
        return p + 8;
      };
    }
    case T.FLOAT:
      if (spec.kind !== Kind.FLOAT) return () => { throw unexpected('a number'); };
      return (b, p, end, out) => {
        need(p, 4, end);
        out.put(javaFloatToString(b.readFloatLE(p)));
        cell.promoted = false;
        return p + 4;
      };
    case T.DOUBLE:
      if (spec.kind !== Kind.DOUBLE) return () => { throw unexpected('a number'); };
      return (b, p, end, out) => {
        need(p, 8, end);
        out.put(javaDoubleToString(b.readDoubleLE(p)));
        cell.promoted = false;
        return p + 8;
      };
    case T.NEWDECIMAL: {
      const precision = md.precision as number;
      const scale = md.decimals as number;
      const size = decimalSize(precision, scale);
      if (size === undefined) return () => { throw new Error(`column ${where}: DECIMAL(${precision},${scale}) metadata out of range`); };
      if (spec.kind !== Kind.DECIMAL) return () => { throw unexpected('a DECIMAL'); };
      const specScale = spec.scale;
      const layout = specScale === scale ? decimalLayout(precision, scale) : undefined;
      return (b, p, end, out) => {
        need(p, size, end);
        if (layout === undefined || !putDecimal(out, b, p, layout)) out.put(canalDecimal(decimalText(b, precision, scale, p), specScale));
        cell.promoted = false;
        return p + size;
      };
    }
    case T.BIT: {
      const size = Math.floor(((md.bits as number) + 7) / 8);
      return (b, p, end, out) => {
        need(p, size, end);
        out.put(spec.kind === Kind.BIT ? bitText(b, p, size) : fromBytes(b.subarray(p, p + size)));
        cell.promoted = false;
        return p + size;
      };
    }
    case T.DATE:
    case T.NEWDATE:
      if (column.type === T.NEWDATE) return () => { throw new Error(`column ${where}: binlog column type NEWDATE is not decoded`); };
      return (b, p, end, out) => {
        need(p, 3, end);
        const raw = uintLE(b, p, 3);
        out.put(fromString(`${zeroPad(sliceBits(raw, 9, 24), 4)}-${zeroPad(sliceBits(raw, 5, 9), 2)}-${zeroPad(sliceBits(raw, 0, 5), 2)}`));
        cell.promoted = false;
        return p + 3;
      };
    case T.DATETIME2: {
      const decimals = md.decimals as number | undefined;
      const size = datetime2Size(decimals);
      if (size === undefined) return () => { throw new Error(`column ${where}: DATETIME fraction digits ${String(decimals)} out of range`); };
      const direct = spec.kind === Kind.TEMPORAL_TEXT;
      const fsp = decimals ?? 0;
      return (b, p, end, out) => {
        need(p, size, end);
        if (!direct || !putDatetime2(out, b, p, fsp)) out.put(fromString(datetime2Text(b, decimals, p)));
        cell.promoted = false;
        return p + size;
      };
    }
    case T.TIMESTAMP2:
    case T.TIME2: {
      const decimals = (md.decimals as number | undefined) ?? 0;
      if (decimals > 6) return () => { throw new Error(`column ${where}: fraction digits ${decimals} out of range`); };
      const fracBytes = Math.ceil(decimals / 2);
      const body = column.type === T.TIMESTAMP2 ? 4 : 3;
      const readFraction = (b: Buffer, p: number): Fraction | undefined => {
        if (!decimals) return undefined;
        let f = intBE(b, p, fracBytes);
        if (decimals % 2 !== 0) f /= 10;
        if (f < 0) f *= -1;
        return { value: f, precision: decimals, milliseconds: millis(f, decimals) };
      };
      if (column.type === T.TIMESTAMP2) {
        return (b, p, end, out) => {
          need(p, body + fracBytes, end);
          const seconds = intBE(b, p, 4);
          out.put(fromString(timestampUtcText(seconds, readFraction(b, p + 4))));
          cell.promoted = false;
          return p + body + fracBytes;
        };
      }
      return (b, p, end, out) => {
        need(p, body + fracBytes, end);
        let raw = intBE(b, p, 3);
        const f = readFraction(b, p + 3);
        const negative = (raw & (1 << 23)) === 0;
        if (negative) raw = raw ^ ((1 << 24) - 1);
        const hour = sliceBits(raw, 12, 22);
        const minute = sliceBits(raw, 6, 12);
        let second = sliceBits(raw, 0, 6);
        if (negative && (f === undefined || f.value === 0)) second++;
        out.put(fromString(`${negative ? '-' : ''}${zeroPad(hour, hour > 99 ? 3 : 2)}:${zeroPad(minute, 2)}:${zeroPad(second, 2)}${fractionText(f)}`));
        cell.promoted = false;
        return p + body + fracBytes;
      };
    }
    case T.TIME: {
      const dec = hiresPrecision(schema);
      if (dec > 0) {
        const bytes = [3, 4, 4, 5, 5, 5, 6][dec]!;
        const scale = Math.pow(10, dec);
        return (b, p, end, out) => {
          need(p, bytes, end);
          let stored = b.readUIntBE(p, bytes) - 3020400 * scale;
          const negative = stored < 0;
          if (negative) stored = -stored;
          const frac = stored % scale;
          const total = Math.floor(stored / scale);
          const hour = Math.floor(total / 3600);
          const f: Fraction = { value: frac, precision: dec, milliseconds: millis(frac, dec) };
          out.put(fromString(`${negative ? '-' : ''}${zeroPad(hour, hour > 99 ? 3 : 2)}:${zeroPad(Math.floor((total % 3600) / 60), 2)}:${zeroPad(total % 60, 2)}${fractionText(f)}`));
          cell.promoted = false;
          return p + bytes;
        };
      }
      return (b, p, end, out) => {
        need(p, 3, end);
        let raw = uintLE(b, p, 3);
        const negative = (raw & (1 << 23)) !== 0;
        if (negative) raw = raw ^ ((1 << 24) - 1);
        const hour = Math.floor(raw / 10000);
        let second = raw % 100;
        if (negative) second += 1;
        out.put(fromString(`${negative ? '-' : ''}${zeroPad(hour, hour > 99 ? 3 : 2)}:${zeroPad(Math.floor((raw % 10000) / 100), 2)}:${zeroPad(second, 2)}`));
        cell.promoted = false;
        return p + 3;
      };
    }
    case T.DATETIME: {
      const dec = hiresPrecision(schema);
      if (dec > 0) {
        const bytes = [5, 6, 6, 7, 7, 7, 8][dec]!;
        const scale = 10n ** BigInt(dec);
        return (b, p, end, out) => {
          need(p, bytes, end);
          let packed = 0n;
          for (let i = 0; i < bytes; i++) packed = (packed << 8n) | BigInt(b[p + i]!);
          const frac = Number(packed % scale);
          let units = packed / scale;
          const second = Number(units % 60n);
          units /= 60n;
          const minute = Number(units % 60n);
          units /= 60n;
          const hour = Number(units % 24n);
          units /= 24n;
          const day = Number(units % 32n);
          units /= 32n;
          const month = Number(units % 13n);
          units /= 13n;
          const f: Fraction = { value: frac, precision: dec, milliseconds: millis(frac, dec) };
          out.put(fromString(dateTimeText(Number(units), month, day, hour, minute, second, f)));
          cell.promoted = false;
          return p + bytes;
        };
      }
      return (b, p, end, out) => {
        need(p, 8, end);
        const low = uintLE(b, p, 4);
        const high = uintLE(b, p + 4, 4);
        const raw = high < 0x200000 ? high * 0x100000000 + low : Number((BigInt(high) << 32n) | BigInt(low));
        const date = Math.floor(raw / 1000000);
        const time = raw % 1000000;
        out.put(fromString(
          dateTimeText(Math.floor(date / 10000), Math.floor((date % 10000) / 100), date % 100, Math.floor(time / 10000), Math.floor((time % 10000) / 100), time % 100, undefined),
          ),
        );
        cell.promoted = false;
        return p + 8;
      };
    }
    case T.TIMESTAMP: {
      const dec = hiresPrecision(schema);
      if (dec > 0) {
        const fracBytes = [0, 1, 1, 2, 2, 3, 3][dec]!;
        return (b, p, end, out) => {
          need(p, 4 + fracBytes, end);
          const seconds = b.readUInt32BE(p);
          const v = b.readUIntBE(p + 4, fracBytes);
          out.put(fromString(timestampUtcText(seconds, { value: v, precision: dec, milliseconds: millis(v, dec) })));
          cell.promoted = false;
          return p + 4 + fracBytes;
        };
      }
      return (b, p, end, out) => {
        need(p, 4, end);
        out.put(fromString(timestampUtcText(uintLE(b, p, 4), undefined)));
        cell.promoted = false;
        return p + 4;
      };
    }
    case T.YEAR:
      if (spec.kind !== Kind.YEAR) return () => { throw unexpected('a year'); };
      return (b, p, end, out) => {
        need(p, 1, end);
        out.put(canalYear(b[p]! + 1900));
        cell.promoted = false;
        return p + 1;
      };
    case T.VAR_STRING:
      return (b, p, end, out) => {
        need(p, 1, end);
        const first = b[p]!;
        if (first === 251) {
          cell.isNull = true;
          cell.promoted = false;
          return p + 1;
        }
        let n: number;
        let at: number;
        if (first < 251) {
          n = first;
          at = p + 1;
        } else {
          const w = first === 252 ? 2 : first === 253 ? 3 : 8;
          need(p + 1, w, end);
          n = w === 8 ? Number(b.readBigUInt64LE(p + 1)) : uintLE(b, p + 1, w);
          at = p + 1 + w;
        }
        need(at, n, end);
        out.put(fromString(b.toString('utf8', at, at + n)));
        cell.promoted = false;
        return at + n;
      };
    case T.VARCHAR:
    case T.STRING:
    case T.VARCHAR_COMPRESSED: {
      const prefix = (md.max_length as number) > 255 ? 2 : 1;
      const def = schema.COLUMN_TYPE;
      const defPrefix = def.substr(0, 6);
      if (column.type === T.VARCHAR_COMPRESSED) {
        const binary = defPrefix === 'varbin';
        return (b, p, end, out) => {
          need(p, prefix, end);
          const n = uintLE(b, p, prefix);
          need(p + prefix, n, end);
          const bytes = inflateColumnValue(b.subarray(p + prefix, p + prefix + n));
          out.put(textOf(binary ? bytes : decode(bytes)));
          cell.promoted = false;
          return p + prefix + n;
        };
      }
      const fixedWidth = def === 'uuid' || def === 'inet6' ? 16 : def === 'inet4' ? 4 : defPrefix === 'binary' ? parseInt(def.substr(7, def.length - 2), 10) : -1;
      const format = def === 'uuid' ? formatUuid : def === 'inet4' ? formatInet4 : def === 'inet6' ? inet6QueryText : undefined;
      const raw = defPrefix === 'vector' || defPrefix === 'varbin';
      const utf8Text = !raw && fixedWidth < 0 && encoding === 'utf8' && (spec.kind === Kind.TEXT || spec.kind === Kind.JSON);
      return (b, p, end, out) => {
        need(p, prefix, end);
        const n = prefix === 1 ? b[p]! : b[p]! | (b[p + 1]! << 8);
        const at = p + prefix;
        need(at, n, end);
        if (utf8Text) {
          putUtf8(out, b, at, n);
        } else if (fixedWidth >= 0) {
          const padded = Buffer.alloc(fixedWidth, 0);
          b.copy(padded, 0, at, at + Math.min(n, fixedWidth));
          out.put(format ? fromString(format(padded)) : fromBytes(padded));
        } else if (raw) {
          out.put(fromBytes(b.subarray(at, at + n)));
        } else {
          out.put(textOf(decode(b.subarray(at, at + n))));
        }
        cell.promoted = false;
        return at + n;
      };
    }
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
    case T.BLOB_COMPRESSED:
    case T.GEOMETRY: {
      const lengthSize = md.length_size as number;
      if (!(lengthSize >= 1 && lengthSize <= 4)) return () => { throw new Error(`column ${where}: BLOB length size ${String(lengthSize)} out of range`); };
      const compressed = column.type === T.BLOB_COMPRESSED;
      const text = column.charset !== null && column.type !== T.GEOMETRY;
      const utf8Text = text && !compressed && encoding === 'utf8' && (spec.kind === Kind.TEXT || spec.kind === Kind.JSON);
      return (b, p, end, out) => {
        need(p, lengthSize, end);
        const n = uintLE(b, p, lengthSize);
        const at = p + lengthSize;
        need(at, n, end);
        if (utf8Text) {
          putUtf8(out, b, at, n);
        } else {
          let bytes = b.subarray(at, at + n);
          if (compressed) bytes = inflateColumnValue(bytes);
          out.put(textOf(text ? decode(bytes) : bytes));
        }
        cell.promoted = false;
        return at + n;
      };
    }
    case T.JSON: {
      const lengthSize = md.length_size as number;
      return (b, p, end) => {
        need(p, lengthSize, end);
        const n = uintLE(b, p, lengthSize);
        need(p + lengthSize, n, end);
        if (n !== 0) throw new Error(`column ${where}: MySQL binary JSON values are not decoded (MariaDB stores JSON as text)`);
        cell.isNull = true;
        cell.promoted = false;
        return p + lengthSize;
      };
    }
    case T.ENUM: {
      const size = md.size as number;
      const choices = schema.ENUM_VALUES ?? naiveValueList(schema.COLUMN_TYPE, 5);
      if (spec.kind !== Kind.ENUM) return () => { throw unexpected('an ENUM'); };
      const index = new EnumIndex(where, spec.values);
      return (b, p, end, out) => {
        need(p, size, end);
        out.put(index.index(choices[uintLE(b, p, size) - 1]));
        cell.promoted = false;
        return p + size;
      };
    }
    case T.SET: {
      const size = md.size as number;
      const choices = schema.SET_VALUES ?? naiveValueList(schema.COLUMN_TYPE, 4);
      if (spec.kind !== Kind.SET) return () => { throw unexpected('a SET'); };
      const mask = new SetMask(where, spec.values);
      return (b, p, end, out) => {
        let low: number;
        let high = 0;
        if (size === 8) {
          need(p, 8, end);
          low = uintLE(b, p, 4);
          high = uintLE(b, p + 4, 4);
        } else {
          need(p, size, end);
          low = uintLE(b, p, size);
        }
        let labels = '';
        for (let i = 0; low >= Math.pow(2, i); i++) if (low & Math.pow(2, i)) labels += choices[i] + ',';
        if (high) for (let i = 0; high >= Math.pow(2, i); i++) if (high & Math.pow(2, i)) labels += choices[i + 32] + ',';
        if (labels.length > 0) labels = labels.substr(0, labels.length - 1);
        out.put(mask.mask(labels));
        cell.promoted = false;
        return p + size;
      };
    }
    default:
      return () => {
        throw new Error(`column ${where}: binlog column type ${column.type} is not decoded`);
      };
  }
}

/**
 * INET6 as query results print it (RFC 5952: the leftmost longest run of two or more zero
 * groups as '::'; IPv4-mapped and IPv4-compatible addresses end in dotted decimal): zongji's
 * text for INET6 columns whose type it takes from INFORMATION_SCHEMA.
 */
function inet6QueryText(b: Uint8Array): string {
  let zeros10 = true;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) zeros10 = false;
  const v4 = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (zeros10) {
    if (b[10] === 0xff && b[11] === 0xff) return `::ffff:${v4}`;
    if (b[10] === 0 && b[11] === 0 && (b[12]! * 0x1000000 + ((b[13]! << 16) | (b[14]! << 8) | b[15]!)) > 1) return `::${v4}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number): string => g.toString(16);
  if (bestStart === -1) return groups.map(hex).join(':');
  return `${groups.slice(0, bestStart).map(hex).join(':')}::${groups.slice(bestStart + bestLength).map(hex).join(':')}`;
}

/** BIT(n): the big-endian bytes b[p, p+n) as an unsigned decimal. */
function bitText(b: Buffer, p: number, n: number): string {
  if (n === 0) return '0';
  if (n <= 6) return String(b.readUIntBE(p, n));
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[p + i]!);
  return v.toString();
}
