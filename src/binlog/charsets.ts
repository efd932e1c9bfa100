// Character sets of binlog columns: collation ids (as TABLE_MAP optional metadata carries them)
// to charset names, bytes per character, and text decoding in the column's charset.
import type { Buffer } from 'node:buffer';
import iconv from 'iconv-lite';

/** Collation ids per charset, as id ranges; ids not listed (newer collations) are utf8mb4. */
const COLLATION_IDS: Record<string, string> = {
  big5: '1 84',
  latin2: '2 9 21 27 77',
  dec8: '3 69',
  cp850: '4 80',
  latin1: '5 8 15 31 47-49 94',
  hp8: '6 72',
  koi8r: '7 74',
  swe7: '10 82',
  ascii: '11 65',
  ujis: '12 91',
  sjis: '13 88',
  cp1251: '14 23 50-52',
  hebrew: '16 71',
  tis620: '18 89',
  euckr: '19 85',
  latin7: '20 41-42 79',
  koi8u: '22 75',
  gb2312: '24 86',
  greek: '25 70',
  cp1250: '26 34 44 66 99',
  gbk: '28 87',
  cp1257: '29 58-59',
  latin5: '30 78',
  armscii8: '32 64',
  utf8mb3: '33 76 83 192-215 223',
  ucs2: '35 90 128-151 159',
  cp866: '36 68',
  keybcs2: '37 73',
  macce: '38 43',
  macroman: '39 53',
  cp852: '40 81',
  utf16: '54-55 101-124',
  utf16le: '56 62',
  cp1256: '57 67',
  utf32: '60-61 160-183',
  binary: '63',
  geostd8: '92-93',
  cp932: '95-96',
  eucjpms: '97-98',
  gb18030: '248-250',
};

const byCollation = new Map<number, string>();
for (const [charset, ranges] of Object.entries(COLLATION_IDS)) {
  for (const range of ranges.split(' ')) {
    const [from, to] = range.split('-').map(Number) as [number, number | undefined];
    for (let id = from; id <= (to ?? from); id++) byCollation.set(id, charset);
  }
}

/** The binary pseudo-collation: byte strings rather than text. */
export const BINARY_COLLATION = 63;

export function charsetOfCollation(id: number): string {
  return byCollation.get(id) ?? 'utf8mb4';
}

const MAX_BYTES: Record<string, number> = {
  big5: 2,
  cp932: 2,
  eucjpms: 3,
  euckr: 2,
  gb18030: 4,
  gb2312: 2,
  gbk: 2,
  sjis: 2,
  ucs2: 2,
  ujis: 3,
  utf16: 4,
  utf16le: 4,
  utf32: 4,
  utf8: 3,
  utf8mb3: 3,
  utf8mb4: 4,
};

/** Bytes per character of the multi-byte charsets; undefined for single-byte and unknown ones. */
export function maxBytesPerChar(charset: string): number | undefined {
  return MAX_BYTES[charset];
}

const SINGLE_BYTE = new Set(Object.keys(COLLATION_IDS).filter((c) => MAX_BYTES[c] === undefined));

/** Bytes per character of a charset (4 for names not known). */
export function charsetMaxBytes(charset: string | null): number {
  if (charset === null) return 4;
  return MAX_BYTES[charset] ?? (SINGLE_BYTE.has(charset) ? 1 : 4);
}

/**
 * iconv-lite's name for a MySQL charset where they differ: MySQL's latin1 is cp1252; ucs2,
 * utf16 and utf32 are stored big-endian; ujis and eucjpms are EUC-JP; macce is Mac Central European.
 */
const ICONV_NAMES: Record<string, string> = {
  utf8mb3: 'utf8',
  utf8mb4: 'utf8',
  latin1: 'cp1252',
  ucs2: 'utf16-be',
  utf16: 'utf16-be',
  utf16le: 'utf16-le',
  utf32: 'utf32-be',
  ujis: 'eucjp',
  eucjpms: 'eucjp',
  macce: 'maccenteuro',
};

/** The iconv-lite encoding of a charset ('utf8' for utf8 and for no charset). */
export function decoderName(charset: string | null): string {
  return ICONV_NAMES[charset ?? ''] ?? charset ?? 'utf8';
}

/**
 * Text of bytes in a charset (`encoding` from decoderName), or undefined when iconv-lite has no
 * decoder for it. A leading U+FEFF is data, not a byte-order mark.
 */
export function decodeText(bytes: Buffer, encoding: string): string | undefined {
  if (encoding === 'utf8') return bytes.toString('utf8');
  if (!iconv.encodingExists(encoding)) return undefined;
  return iconv.decode(bytes, encoding, { stripBOM: false });
}
