// DECIMAL and DATETIME(n) values from their stored bytes. zongji formats both through a
// 32-digit zero-padding helper per part (a string concatenation and a substring each), about a
// tenth of decoding on single-row loads. keepRawBytes() retypes those columns in zongji's table map
// entry as BIT of the same byte width, so zongji hands over the bytes, and the text functions here
// give exactly the strings zongji would have made from them (its parseNewDecimal, and its
// DATETIME2 decoding with the dateStrings option), for any bytes.
import type { TableMapEntry } from '../../binlog/table-map.ts';

type ZjColumn = NonNullable<TableMapEntry['columns']>[number];

const NEWDECIMAL = 246;
const DATETIME2 = 18;
const BIT = 16;
const DIGITS_PER_INTEGER = 9;
const COMPRESSED_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** The column as zongji's table map described it, on a column retyped by keepRawBytes. */
const ORIGINAL = Symbol('sluice.originalColumn');

type Retyped = ZjColumn & { [ORIGINAL]?: ZjColumn };

export function originalColumn(column: ZjColumn): ZjColumn {
  return (column as Retyped)[ORIGINAL] ?? column;
}

function smallInt(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Stored size of a DECIMAL(precision, scale), or undefined for metadata zongji would not decode either. */
export function decimalSize(precision: unknown, scale: unknown): number | undefined {
  if (!smallInt(precision, 65) || !smallInt(scale, 38) || scale > precision || precision === 0) return undefined;
  const integral = precision - scale;
  const uncompIntegral = Math.floor(integral / DIGITS_PER_INTEGER);
  const uncompFractional = Math.floor(scale / DIGITS_PER_INTEGER);
  const compIntegral = integral - uncompIntegral * DIGITS_PER_INTEGER;
  const compFractional = scale - uncompFractional * DIGITS_PER_INTEGER;
  return uncompIntegral * 4 + COMPRESSED_BYTES[compIntegral]! + uncompFractional * 4 + COMPRESSED_BYTES[compFractional]!;
}

/** Stored size of a DATETIME(fsp) in the 5.6 format, or undefined for metadata out of range. */
export function datetime2Size(decimals: unknown): number | undefined {
  if (decimals === undefined) return 5;
  if (!smallInt(decimals, 6)) return undefined;
  return 5 + Math.ceil(decimals / 2);
}

/**
 * Retypes the entry's DECIMAL and DATETIME2 columns as BIT of their byte width, keeping the
 * original column for the codec (originalColumn). Must run where keepGeometryBytes runs: in
 * zongji's 'binlog' listener for every TableMap event, before the rows event is decoded.
 * Idempotent; columns whose metadata does not give a size are left alone.
 */
export function keepRawBytes(entry: TableMapEntry): void {
  const columns = entry.columns;
  if (columns === undefined) return;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const md = column.metadata as { precision?: unknown; decimals?: unknown } | undefined;
    let size: number | undefined;
    if (column.type === NEWDECIMAL) size = decimalSize(md?.precision, md?.decimals);
    else if (column.type === DATETIME2) size = datetime2Size(md?.decimals);
    else continue;
    if (size === undefined) continue;
    const retyped: Retyped = { ...column, type: BIT, metadata: { bits: size * 8 } };
    retyped[ORIGINAL] = column;
    columns[i] = retyped;
  }
}

const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000', '000000000'];
const TWO: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/** zongji's zeroPad: the last `size` characters of the text left-padded with zeros. */
function zeroPad(text: string, size: number): string {
  const n = text.length;
  if (n >= size) return n === size ? text : text.slice(n - size);
  return ZEROS[size - n]! + text;
}

/** Big-endian signed integer of 1-4 bytes at `at`, with the top bit of byte `start` flipped (a stored DECIMAL part). */
export function intBE(b: Uint8Array, at: number, len: number, start: number): number {
  const b0 = at === start ? b[at]! ^ 0x80 : b[at]!;
  switch (len) {
    case 1:
      return (b0 << 24) >> 24;
    case 2:
      return (((b0 << 8) | b[at + 1]!) << 16) >> 16;
    case 3:
      return (((b0 << 16) | (b[at + 1]! << 8) | b[at + 2]!) << 8) >> 8;
    default:
      return (b0 << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** intDigits.replace(/^0+(?=\d)/, ''), without the regex. */
function stripLeadingZeros(s: string): string {
  let k = 0;
  while (k < s.length && s.charCodeAt(k) === 48) k++;
  if (k === 0) return s;
  const strip = k < s.length && isDigit(s.charCodeAt(k)) ? k : k - 1;
  return strip > 0 ? s.slice(strip) : s;
}

/** zongji's text of a DECIMAL(precision, scale) from its stored bytes (decimalSize of them). */
export function decimalText(b: Uint8Array, precision: number, scale: number, start = 0): string {
  const integral = precision - scale;
  const uncompIntegral = Math.floor(integral / DIGITS_PER_INTEGER);
  const uncompFractional = Math.floor(scale / DIGITS_PER_INTEGER);
  const compIntegral = integral - uncompIntegral * DIGITS_PER_INTEGER;
  const compFractional = scale - uncompFractional * DIGITS_PER_INTEGER;
  const isPositive = (b[start]! & 0x80) === 0x80;
  // negative numbers are stored with all bits flipped
  const mask = isPositive ? 0 : -1;
  let pos = start;
  let intDigits = '';
  const compIntegralSize = COMPRESSED_BYTES[compIntegral]!;
  if (compIntegralSize > 0) {
    intDigits += String(intBE(b, start, compIntegralSize, start) ^ mask);
    pos += compIntegralSize;
  }
  for (let i = 0; i < uncompIntegral; i++) {
    intDigits += zeroPad(String(intBE(b, pos, 4, start) ^ mask), 9);
    pos += 4;
  }
  intDigits = stripLeadingZeros(intDigits);
  if (intDigits === '') intDigits = '0';
  let fractionDigits = '';
  for (let k = 0; k < uncompFractional; k++) {
    fractionDigits += zeroPad(String(intBE(b, pos, 4, start) ^ mask), 9);
    pos += 4;
  }
  const compFractionalSize = COMPRESSED_BYTES[compFractional]!;
  if (compFractionalSize > 0) fractionDigits += zeroPad(String(intBE(b, pos, compFractionalSize, start) ^ mask), compFractional);
  const text = isPositive ? intDigits : `-${intDigits}`;
  return scale > 0 ? `${text}.${fractionDigits}` : text;
}

/** Big-endian two's complement integer of 1-4 bytes at `at`. */
export function signedBE(b: Uint8Array, at: number, len: number): number {
  switch (len) {
    case 1:
      return (b[at]! << 24) >> 24;
    case 2:
      return (((b[at]! << 8) | b[at + 1]!) << 16) >> 16;
    case 3:
      return (((b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!) << 8) >> 8;
    default:
      return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  }
}

/** zongji's sliceBits. */
function sliceBits(input: number, start: number, end: number): number {
  const match = ((1 << end) - 1) ^ ((1 << start) - 1);
  return (input & match) >> start;
}

function pad2(n: number): string {
  return n >= 0 && n < 100 ? TWO[n]! : zeroPad(String(n), 2);
}

/** zongji's dateStrings text of a DATETIME(decimals) in the 5.6 format from its stored bytes (datetime2Size of them). */
export function datetime2Text(b: Uint8Array, decimals: number | undefined, start = 0): string {
  const rawHigh = signedBE(b, start, 4);
  const rawLow = signedBE(b, start + 1, 4);
  const yearMonth = sliceBits(rawHigh, 14, 31);
  const year = Math.floor(yearMonth / 13);
  const yearText = year >= 0 && year < 10000 ? TWO[Math.floor(year / 100)]! + TWO[year % 100]! : zeroPad(String(year), 4);
  let text =
    `${yearText}-${pad2(yearMonth % 13)}-${pad2(sliceBits(rawLow, 17, 22))} ` +
    `${pad2(sliceBits(rawLow, 12, 17))}:${pad2(sliceBits(rawLow, 6, 12))}:${pad2(sliceBits(rawLow, 0, 6))}`;
  if (decimals) {
    let fraction = signedBE(b, start + 5, Math.ceil(decimals / 2));
    if (decimals % 2 !== 0) fraction /= 10;
    if (fraction < 0) fraction *= -1;
    text += `.${zeroPad(String(fraction), decimals)}`;
  }
  return text;
}
