// Canal's text of a value as MariaDB's text protocol sends it (a result set row: each value's bytes
// as the server prints them), read in place: no JavaScript value per cell on the way. For most types
// the server's text already is the text a binlog value of the same column gets (cell-readers.ts);
// the readers here make the rest agree: DECIMAL groups, ENUM and SET as indexes, TIMESTAMP in the
// instance zone, BIT as a number, binary strings as Latin-1, ZEROFILL padding dropped.
// FLOAT and DOUBLE get no reader: the server prints them with 6 and 15 significant digits, which
// loses what the binlog carries (a table with such a column is read through the binary protocol).
import { Buffer } from 'node:buffer';
import { bitValue } from './bytes.ts';
import { Kind, type ColumnSpec } from './column-spec.ts';
import { canalDecimal } from './decimal.ts';
import { EnumIndex, SetMask } from './enum-set.ts';
import type { ImageBuilder } from './row-batch.ts';
import type { TimestampRenderer } from './temporal.ts';
import { putUtf8 } from './text-bytes.ts';

/** Writes the Canal text of the value in b[start, end) into `out`'s current cell (not ending it); sets `textCell.promoted`. */
export type TextReader = (b: Buffer, start: number, end: number, out: ImageBuilder) => void;

/** Set by the last reader that ran: the value needs the column's promoted sqlType (unsigned above the signed range). */
export const textCell = { promoted: false };

type Slicing = Buffer & { latin1Slice(s: number, e: number): string; utf8Slice(s: number, e: number): string };

/** Digits, signs, dates: ASCII, for which Latin-1 decoding is the cheapest exact one. */
function ascii(b: Buffer, start: number, end: number): string {
  return start === end ? '' : (b as Slicing).latin1Slice(start, end);
}

function utf8(b: Buffer, start: number, end: number): string {
  return start === end ? '' : (b as Slicing).utf8Slice(start, end);
}

/** ASCII bytes copied as they are. */
function copy(b: Buffer, s: number, e: number, out: ImageBuilder): void {
  out.room(e - s);
  const o = out.buf;
  let p = out.pos;
  for (let i = s; i < e; i++) o[p++] = b[i]!;
  out.pos = p;
}

/** Where a ZEROFILL column's padding ends ("00042" -> at "42", "000.50" -> at "0.50"): the binlog value has none. */
function unpadded(b: Buffer, s: number, e: number): number {
  while (s < e - 1 && b[s] === 48) {
    const next = b[s + 1]!;
    if (next < 48 || next > 57) break;
    s++;
  }
  return s;
}

const BIGINT_SIGNED_MAX = Buffer.from('9223372036854775807', 'latin1');

/** An unsigned decimal's digits above BIGINT's signed maximum. */
function aboveSignedBigint(b: Buffer, s: number, e: number): boolean {
  const n = e - s;
  if (n !== BIGINT_SIGNED_MAX.length) return n > BIGINT_SIGNED_MAX.length;
  for (let i = 0; i < n; i++) {
    const d = b[s + i]! - BIGINT_SIGNED_MAX[i]!;
    if (d !== 0) return d > 0;
  }
  return false;
}

/** The value of an unsigned integer's digits (at most 10 of them: up to INT UNSIGNED). */
function digitsValue(b: Buffer, s: number, e: number): number {
  let v = 0;
  for (let i = s; i < e; i++) v = v * 10 + (b[i]! - 48);
  return v;
}

/**
 * Whether canalDecimal leaves the text as it is, so its bytes can be copied: an optional '-',
 * digits without a leading zero (or a lone 0), and for scale 1-8 a point and exactly `scale`
 * digits not all zero; scale 0 without "-0".
 */
function canonicalDecimal(b: Buffer, s: number, e: number, scale: number): boolean {
  let i = s;
  if (b[i] === 45) i++;
  const intStart = i;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
  const intEnd = i;
  if (intEnd === intStart || (b[intStart] === 48 && intEnd - intStart > 1)) return false;
  if (scale === 0) return intEnd === e && !(b[intStart] === 48 && intStart > s);
  if (scale >= 9 || b[i] !== 46 || e - i - 1 !== scale) return false;
  let nonZero = false;
  for (i++; i < e; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

/** Binary bytes as the UTF-8 of Canal's Latin-1 string (one char per byte). */
function putLatin1(b: Buffer, s: number, e: number, out: ImageBuilder): void {
  out.room(2 * (e - s));
  const o = out.buf;
  let p = out.pos;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < 0x80) {
      o[p++] = c;
    } else {
      o[p++] = 0xc0 | (c >> 6);
      o[p++] = 0x80 | (c & 0x3f);
    }
  }
  out.pos = p;
}

/** The reader of a column, or undefined when the text protocol cannot give its binlog text (FLOAT, DOUBLE). */
export function textReader(spec: ColumnSpec, where: string, timestamps: TimestampRenderer): TextReader | undefined {
  switch (spec.kind) {
    case Kind.INT: {
      const { unsigned, signedMax } = spec;
      return (b, s, e, out) => {
        s = unpadded(b, s, e);
        textCell.promoted = unsigned && digitsValue(b, s, e) > signedMax;
        copy(b, s, e, out);
      };
    }
    case Kind.BIGINT: {
      const unsigned = spec.unsigned;
      return (b, s, e, out) => {
        s = unpadded(b, s, e);
        textCell.promoted = unsigned && aboveSignedBigint(b, s, e);
        copy(b, s, e, out);
      };
    }
    case Kind.DECIMAL: {
      const scale = spec.scale;
      return (b, s, e, out) => {
        textCell.promoted = false;
        if (canonicalDecimal(b, s, e, scale)) copy(b, s, e, out);
        else out.put(canalDecimal(ascii(b, unpadded(b, s, e), e), scale));
      };
    }
    case Kind.FLOAT:
    case Kind.DOUBLE:
      return undefined;
    case Kind.BIT:
      // the value's bytes, big-endian, as the binlog stores them
      return (b, s, e, out) => {
        textCell.promoted = false;
        out.put(bitValue(b.subarray(s, e)));
      };
    case Kind.TIMESTAMP:
      // read in the session's UTC, as the binlog's value is
      return (b, s, e, out) => {
        textCell.promoted = false;
        out.put(timestamps.render(ascii(b, s, e)));
      };
    case Kind.TEMPORAL_TEXT:
    case Kind.YEAR:
    case Kind.UUID:
    case Kind.INET4:
    case Kind.INET6:
      // the server's text is Canal's: dates with the column's fraction digits and zero dates as
      // zeros, TIME with its sign and hours past 24, the zero YEAR as 0000, the MariaDB types' forms
      return (b, s, e, out) => {
        textCell.promoted = false;
        copy(b, s, e, out);
      };
    case Kind.TEXT:
    case Kind.JSON:
      return (b, s, e, out) => {
        textCell.promoted = false;
        putUtf8(out, b, s, e - s);
      };
    case Kind.BYTES:
      // binary strings and spatial values (SRID + WKB) arrive as their stored bytes
      return (b, s, e, out) => {
        textCell.promoted = false;
        putLatin1(b, s, e, out);
      };
    case Kind.ENUM: {
      const index = new EnumIndex(where, spec.values);
      // the invalid value (index 0) prints as '', which zongji gives as undefined
      const emptyListed = spec.values.includes('');
      return (b, s, e, out) => {
        textCell.promoted = false;
        const label = utf8(b, s, e);
        out.put(index.index(label === '' && !emptyListed ? undefined : label));
      };
    }
    case Kind.SET: {
      const mask = new SetMask(where, spec.values);
      return (b, s, e, out) => {
        textCell.promoted = false;
        out.put(mask.mask(utf8(b, s, e)));
      };
    }
  }
}
