// Canal texts written as bytes straight into an image's cell (row-batch.ts ImageBuilder), for
// the value types that dominate row images: integers, UTF-8 text, DECIMAL and DATETIME(n). Each
// writer gives exactly the UTF-8 of the text its string counterpart gives (String(n),
// wellFormed(utf8), canalDecimal(decimalText), datetime2Text), or hands the value back to that
// counterpart when the bytes are outside the case it covers (say so by returning false).
import { isUtf8 } from 'node:buffer';
import type { Buffer } from 'node:buffer';
import type { ImageBuilder } from './row-batch.ts';
import { intBE, signedBE } from './raw-values.ts';

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

function digitCount(v: number): number {
  let n = 1;
  while (n < 10 && v >= POW10[n]!) n++;
  return n;
}

/** The digits of 0 <= v < 2^32 at b[p]; returns the end. */
function digits(b: Uint8Array, p: number, v: number): number {
  const end = p + digitCount(v);
  let q = end;
  do {
    const d = (v / 10) >>> 0;
    b[--q] = 48 + v - d * 10;
    v = d;
  } while (v !== 0);
  return end;
}

/** Exactly `width` digits of 0 <= v < 10^width at b[p] (leading zeros); returns the end. */
function padded(b: Uint8Array, p: number, v: number, width: number): number {
  for (let q = p + width - 1; q >= p; q--) {
    const d = (v / 10) >>> 0;
    b[q] = 48 + v - d * 10;
    v = d;
  }
  return p + width;
}

/** String(v) of an integer |v| <= 2^53. */
export function putInteger(out: ImageBuilder, v: number): void {
  out.room(17);
  const b = out.buf;
  let p = out.pos;
  if (v < 0) {
    b[p++] = 45;
    v = -v;
  }
  if (v < 4294967296) {
    out.pos = digits(b, p, v);
    return;
  }
  const high = Math.floor(v / 1e9);
  p = digits(b, p, high);
  out.pos = padded(b, p, v - high * 1e9, 9);
}

/** b.utf8Slice without its argument checks. */
function utf8(b: Buffer, start: number, end: number): string {
  return start === end ? '' : (b as Buffer & { utf8Slice(s: number, e: number): string }).utf8Slice(start, end);
}

/**
 * wellFormed(b.toString('utf8', at, at + n)) as UTF-8: well-formed bytes are that text's UTF-8
 * already and are copied; others decode with U+FFFD replacements, as the string path does.
 */
export function putUtf8(out: ImageBuilder, b: Buffer, at: number, n: number): void {
  out.room(n);
  const o = out.buf;
  const p = out.pos;
  if (n <= 64) {
    // ASCII (the usual case) is copied while it is checked
    let i = 0;
    for (; i < n; i++) {
      const c = b[at + i]!;
      if (c >= 0x80) break;
      o[p + i] = c;
    }
    if (i === n) {
      out.pos = p + n;
      return;
    }
  }
  if (isUtf8(b.subarray(at, at + n))) {
    b.copy(o, p, at, at + n);
    out.pos = p + n;
    return;
  }
  const s = utf8(b, at, at + n);
  out.put((s as unknown as { toWellFormed(): string }).toWellFormed());
}

const DIGITS_PER_INTEGER = 9;
const COMPRESSED_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** A DECIMAL(precision, scale)'s layout, when putDecimal covers it (else undefined). */
export interface DecimalLayout {
  scale: number;
  compIntegral: number;
  compIntegralSize: number;
  uncompIntegral: number;
  compFractionalSize: number;
}

/** Covered: 1 <= scale <= 8 (one partial fraction group, which canalDecimal prints as stored) and at most 15 integer digits (exact in a double). */
export function decimalLayout(precision: number, scale: number): DecimalLayout | undefined {
  const integral = precision - scale;
  if (scale < 1 || scale >= DIGITS_PER_INTEGER || integral > 15 || integral < 0) return undefined;
  const uncompIntegral = Math.floor(integral / DIGITS_PER_INTEGER);
  const compIntegral = integral - uncompIntegral * DIGITS_PER_INTEGER;
  return { scale, compIntegral, compIntegralSize: COMPRESSED_BYTES[compIntegral]!, uncompIntegral, compFractionalSize: COMPRESSED_BYTES[scale]! };
}

/**
 * canalDecimal(decimalText(b, precision, scale, start), scale) for a layout decimalLayout
 * covers; false (nothing written) when a stored part is out of its digits' range (bytes no
 * server writes), which the string path then formats.
 */
export function putDecimal(out: ImageBuilder, b: Uint8Array, start: number, d: DecimalLayout): boolean {
  const positive = (b[start]! & 0x80) === 0x80;
  const mask = positive ? 0 : -1;
  let pos = start;
  let integer = 0;
  if (d.compIntegralSize > 0) {
    integer = intBE(b, pos, d.compIntegralSize, start) ^ mask;
    if (integer < 0 || integer >= POW10[d.compIntegral]!) return false;
    pos += d.compIntegralSize;
  }
  for (let i = 0; i < d.uncompIntegral; i++) {
    const g = intBE(b, pos, 4, start) ^ mask;
    if (g < 0 || g >= 1e9) return false;
    integer = integer * 1e9 + g;
    pos += 4;
  }
  const fraction = intBE(b, pos, d.compFractionalSize, start) ^ mask;
  if (fraction < 0 || fraction >= POW10[d.scale]!) return false;
  // canalDecimal: a zero fraction prints as one '0', and a zero drops its sign
  if (!positive && (integer !== 0 || fraction !== 0)) {
    out.room(1);
    out.buf[out.pos++] = 45;
  }
  putInteger(out, integer);
  out.room(1 + d.scale);
  const o = out.buf;
  let p = out.pos;
  o[p++] = 46;
  out.pos = fraction === 0 ? ((o[p] = 48), p + 1) : padded(o, p, fraction, d.scale);
  return true;
}

function pair(o: Uint8Array, p: number, v: number): void {
  const t = (v / 10) | 0;
  o[p] = 48 + t;
  o[p + 1] = 48 + v - t * 10;
}

/**
 * datetime2Text(b, decimals, start) (zongji's text of a DATETIME(decimals) from its 5.6-format
 * bytes); false (nothing written) for a year past 9999 or a fraction out of its digits' range.
 */
export function putDatetime2(out: ImageBuilder, b: Uint8Array, start: number, decimals: number): boolean {
  const high = signedBE(b, start, 4);
  const low = signedBE(b, start + 1, 4);
  const yearMonth = (high & 0x7fffc000) >> 14;
  const year = Math.floor(yearMonth / 13);
  if (year > 9999) return false;
  let fraction = 0;
  if (decimals > 0) {
    fraction = signedBE(b, start + 5, (decimals + 1) >> 1);
    if (decimals % 2 !== 0) fraction /= 10;
    if (fraction < 0) fraction = -fraction;
    if (fraction !== Math.floor(fraction) || fraction >= POW10[decimals]!) return false;
  }
  out.room(27);
  const o = out.buf;
  const p = out.pos;
  pair(o, p, (year / 100) | 0);
  pair(o, p + 2, year % 100);
  o[p + 4] = 45;
  pair(o, p + 5, yearMonth % 13);
  o[p + 7] = 45;
  pair(o, p + 8, (low >> 17) & 31);
  o[p + 10] = 32;
  pair(o, p + 11, (low >> 12) & 31);
  o[p + 13] = 58;
  pair(o, p + 14, (low >> 6) & 63);
  o[p + 16] = 58;
  pair(o, p + 17, low & 63);
  if (decimals > 0) {
    o[p + 19] = 46;
    out.pos = padded(o, p + 20, fraction, decimals);
  } else {
    out.pos = p + 19;
  }
  return true;
}
