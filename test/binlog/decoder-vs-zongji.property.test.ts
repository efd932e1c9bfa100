// sluice's own binlog decoder (src/binlog/ plus the cell readers of src/parser/columns/) against
// @vlasky/zongji 0.9.0, the reference: arbitrary tables (every column type the parser converts,
// every metadata flavour: FULL optional metadata with its charset, signedness, ENUM/SET value,
// geometry and key fields, or none and the schema from information_schema, MariaDB 5.3 temporal
// columns), arbitrary rows (mostly plausible values, some arbitrary bytes, cut rows, partial row
// images, compressed events and columns), and tables altered under the same table id or a new
// one. Each table map and rows event goes through the converter twice: as zongji decodes it
// (zongji's objects, the column codec's toRowDatas) and as sluice decodes it; the entries must be
// byte for byte equal, or both sides refuse the event. Where zongji reads past the end of a
// rows event (it does not check), sluice must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { BinlogDecoder } from '../../src/binlog/events.ts';
import type { ColumnSchema } from '../../src/binlog/table-map.ts';
import { EventConverter, type BinlogEventLike } from '../../src/parser/event-converter.ts';
import { buildTableCodec, keepGeometryBytes } from '../../src/parser/columns/table-codec.ts';
import { keepRawBytes } from '../../src/parser/columns/raw-values.ts';
import type { TableMeta } from '../../src/parser/columns/types.ts';
import { ZONGJI_VALUE_OPTIONS } from '../../src/parser/columns/zongji-options.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import type { ParsedEntry } from '../../src/protocol/entry-model.ts';

const base = new URL(import.meta.resolve('@vlasky/zongji'));
type ZjEventClass = new (parser: unknown, options: object, zongji: unknown) => BinlogEventLike & Record<string, unknown>;
const zjEvents = (await import(new URL('./lib/binlog_event.js', base).href)) as Record<string, ZjEventClass>;
const zjRows = (await import(new URL('./lib/rows_event.js', base).href)) as Record<string, ZjEventClass>;
const { Parser } = (await import(new URL('./lib/reader.js', base).href)) as {
  Parser: new (packet: { buffer: Buffer; offset: number; end: number }) => { _offset: number; _packetEnd: number };
};

let seed = 20261202;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}
function pick<T>(xs: readonly T[]): T {
  return xs[rnd(xs.length)]!;
}
function bytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd(256);
  return b;
}
function le(v: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  const m = Math.min(n, 6);
  b.writeUIntLE(v % 2 ** (8 * m), 0, m);
  return b;
}
function lenenc(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.concat([Buffer.from([252]), le(n, 2)]);
  return Buffer.concat([Buffer.from([253]), le(n, 3)]);
}
function lstr(s: Buffer | string): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([lenenc(b.length), b]);
}

const T = {
  TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, TIMESTAMP: 7, LONGLONG: 8, INT24: 9, DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13,
  VARCHAR: 15, BIT: 16, TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19, BLOB_COMPRESSED: 140, VARCHAR_COMPRESSED: 141, NEWDECIMAL: 246,
  ENUM: 247, SET: 248, BLOB: 252, STRING: 254, GEOMETRY: 255,
} as const;
const NUMERIC = new Set<number>([T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG, T.NEWDECIMAL, T.FLOAT, T.DOUBLE, T.YEAR]);
const CHARACTER = new Set<number>([T.VARCHAR, T.STRING, T.BLOB, T.BLOB_COMPRESSED, T.VARCHAR_COMPRESSED]);

/** collation id, I_S charset name, bytes per char */
const COLLATIONS: [number, string | null, number][] = [
  [45, 'utf8mb4', 4], [224, 'utf8mb4', 4], [33, 'utf8mb3', 3], [8, 'latin1', 1], [63, null, 1], [35, 'ucs2', 2], [51, 'cp1251', 1], [13, 'sjis', 2], [3, 'dec8', 1],
];

interface Col {
  name: string;
  /** type as logged in the column type array (ENUM/SET log as STRING) */
  logged: number;
  real: number;
  /** the metadata bytes of the column */
  meta: Buffer;
  collation: (typeof COLLATIONS)[number] | undefined;
  unsigned: boolean | undefined;
  values: string[];
  /** generator of a stored value (without NULL handling) */
  value: () => Buffer;
  /** COLUMN_TYPE information_schema would report */
  columnType: string;
  dataType: string;
  geometryType?: number;
}

const WORDS = ['a', 'b', 'c,d', "o'k", 'é', '\u4e16', '', 'x y', 'undefined', 'zz'];
function text(max: number, coll: Col['collation']): Buffer {
  const n = rnd(Math.min(max, 12) + 1);
  const cs = coll?.[1];
  if (rnd(6) === 0 || cs === 'ucs2' || cs === 'sjis' || cs === null || cs === 'dec8') return bytes(n);
  const s = Array.from({ length: n }, () => pick(['a', 'Z', ' ', 'é', '\u4e16', '\u{1f600}', '0', "'"])).join('');
  const b = cs === 'latin1' || cs === 'cp1251' ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf8');
  return b.subarray(0, Math.min(b.length, max));
}
function compressedValue(raw: Buffer): Buffer {
  if (raw.length === 0) return raw;
  switch (rnd(3)) {
    case 0:
      return Buffer.concat([Buffer.from([0x00]), raw]);
    case 1: {
      const z = zlib.deflateSync(raw);
      return Buffer.concat([Buffer.from([0x81]), Buffer.from([raw.length & 0xff]), z]);
    }
    default: {
      const z = zlib.deflateRawSync(raw);
      return Buffer.concat([Buffer.from([0x89]), Buffer.from([raw.length & 0xff]), z]);
    }
  }
}

function makeColumn(i: number, mariadbHires: boolean): Col {
  const name = `c${i}_${pick(['x', 'id', 'Name', 'ü'])}`;
  const unsignedChoice = pick([true, false, undefined]);
  const sizeOf: Record<number, number> = { [T.TINY]: 1, [T.SHORT]: 2, [T.INT24]: 3, [T.LONG]: 4, [T.LONGLONG]: 8 };
  const col = (c: Partial<Col> & Pick<Col, 'logged' | 'real' | 'value' | 'columnType' | 'dataType'>): Col => ({
    name,
    meta: Buffer.alloc(0),
    collation: undefined,
    unsigned: undefined,
    values: [],
    ...c,
  });
  switch (rnd(17)) {
    case 0:
    case 1: {
      const t = pick([T.TINY, T.SHORT, T.INT24, T.LONG, T.LONGLONG]);
      const n = sizeOf[t]!;
      const base = { [T.TINY]: 'tinyint', [T.SHORT]: 'smallint', [T.INT24]: 'mediumint', [T.LONG]: 'int', [T.LONGLONG]: 'bigint' }[t]!;
      return col({
        logged: t,
        real: t,
        unsigned: unsignedChoice,
        value: () => (rnd(3) === 0 ? Buffer.alloc(n, pick([0, 0xff, 0x7f, 0x80])) : bytes(n)),
        columnType: `${base}(${n * 3})${unsignedChoice ? ' unsigned' : ''}`,
        dataType: base,
      });
    }
    case 2: {
      const t = pick([T.FLOAT, T.DOUBLE]);
      const n = t === T.FLOAT ? 4 : 8;
      return col({
        logged: t,
        real: t,
        meta: Buffer.from([n]),
        unsigned: unsignedChoice,
        value: () => {
          if (rnd(2) === 0) return bytes(n);
          const b = Buffer.alloc(n);
          const v = pick([0, -0, 1.1, 0.1, 1e-5, 3.4e38, 1e10, Math.PI, -2.5, 1e-45, 123456789]);
          if (n === 4) b.writeFloatLE(v);
          else b.writeDoubleLE(v);
          return b;
        },
        columnType: t === T.FLOAT ? 'float' : 'double',
        dataType: t === T.FLOAT ? 'float' : 'double',
      });
    }
    case 3: {
      const precision = 1 + rnd(65);
      const scale = rnd(Math.min(30, precision) + 1);
      const int = precision - scale;
      const comp = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
      const size = Math.floor(int / 9) * 4 + comp[int % 9]! + Math.floor(scale / 9) * 4 + comp[scale % 9]!;
      return col({
        logged: T.NEWDECIMAL,
        real: T.NEWDECIMAL,
        meta: Buffer.from([precision, scale]),
        unsigned: unsignedChoice,
        value: () => {
          const b = bytes(size);
          if (rnd(2) === 0) b.fill(b[0]! & 0x80 ? 0 : 0xff, 1, Math.max(1, size - 2));
          return b;
        },
        columnType: `decimal(${precision},${scale})`,
        dataType: 'decimal',
      });
    }
    case 4: {
      const bits = 1 + rnd(64);
      return col({
        logged: T.BIT,
        real: T.BIT,
        meta: Buffer.from([bits % 8, bits >> 3]),
        value: () => bytes((bits + 7) >> 3),
        columnType: `bit(${bits})`,
        dataType: 'bit',
      });
    }
    case 5: {
      const t = pick([T.DATE, T.YEAR]);
      return col({
        logged: t,
        real: t,
        value: () => bytes(t === T.DATE ? 3 : 1),
        columnType: t === T.DATE ? 'date' : 'year(4)',
        dataType: t === T.DATE ? 'date' : 'year',
        unsigned: t === T.YEAR ? unsignedChoice : undefined,
      });
    }
    case 6:
    case 7: {
      const t = pick([T.TIME2, T.DATETIME2, T.TIMESTAMP2]);
      const fsp = rnd(7);
      const body = t === T.TIME2 ? 3 : t === T.DATETIME2 ? 5 : 4;
      const name = t === T.TIME2 ? 'time' : t === T.DATETIME2 ? 'datetime' : 'timestamp';
      return col({
        logged: t,
        real: t,
        meta: Buffer.from([fsp]),
        value: () => {
          const b = bytes(body + Math.ceil(fsp / 2));
          if (t === T.TIMESTAMP2 && rnd(4) === 0) b.fill(0, 0, 4);
          if (t === T.DATETIME2 && rnd(3) === 0) b[0] = 0x80 | rnd(0x40);
          return b;
        },
        columnType: fsp > 0 ? `${name}(${fsp})` : name,
        dataType: name,
      });
    }
    case 8: {
      // classic temporal codes: on MariaDB only through information_schema, maybe "hires"
      const t = pick([T.TIME, T.DATETIME, T.TIMESTAMP]);
      const name = t === T.TIME ? 'time' : t === T.DATETIME ? 'datetime' : 'timestamp';
      const fsp = mariadbHires ? rnd(7) : 0;
      const sizes = t === T.TIME ? [3, 3, 4, 4, 5, 5, 5, 6] : t === T.DATETIME ? [8, 5, 6, 6, 7, 7, 7, 8] : [4, 4, 5, 5, 6, 6, 7, 7];
      const size = fsp === 0 ? (t === T.TIME ? 3 : t === T.DATETIME ? 8 : 4) : sizes[fsp + 1]!;
      return col({
        logged: t,
        real: t,
        value: () => bytes(size),
        columnType: fsp > 0 ? `${name}(${fsp}) /* mariadb-5.3 */` : name,
        dataType: name,
      });
    }
    case 9:
    case 10: {
      const t = pick([T.VARCHAR, T.STRING, T.VARCHAR_COMPRESSED]);
      const coll = pick(COLLATIONS);
      const chars = pick([1, 4, 10, 16, 60, 200]);
      const maxLength = Math.min(chars * coll[2] + (t === T.VARCHAR_COMPRESSED ? 1 : 0), t === T.STRING ? 255 : 65535);
      const metaBytes =
        t === T.STRING ? Buffer.from([T.STRING ^ ((maxLength & 0x300) >> 4), maxLength & 0xff]) : le(maxLength, 2);
      const prefix = maxLength > 255 ? 2 : 1;
      const binary = coll[1] === null;
      const fixed = t === T.STRING;
      let columnType = binary ? `${fixed ? 'binary' : 'varbinary'}(${maxLength})` : `${fixed ? 'char' : 'varchar'}(${Math.floor(maxLength / coll[2])})`;
      let dataType = binary ? (fixed ? 'binary' : 'varbinary') : fixed ? 'char' : 'varchar';
      if (binary && fixed && (maxLength === 16 || maxLength === 4) && rnd(2) === 0) {
        dataType = maxLength === 4 ? 'inet4' : pick(['uuid', 'inet6']);
        if (rnd(3) === 0) columnType = dataType;
      }
      return col({
        logged: t,
        real: t,
        meta: metaBytes,
        collation: coll,
        value: () => {
          let v = rnd(5) === 0 ? bytes(rnd(maxLength + 1)) : text(maxLength, coll);
          if (binary && fixed && rnd(2) === 0) v = bytes(maxLength);
          if (t === T.VARCHAR_COMPRESSED) v = compressedValue(v);
          return Buffer.concat([le(Math.min(v.length, prefix === 1 ? 255 : 65535), prefix), v]);
        },
        columnType,
        dataType,
      });
    }
    case 11:
    case 12: {
      const t = pick([T.BLOB, T.BLOB, T.BLOB_COMPRESSED]);
      const lengthSize = 1 + rnd(4);
      const coll = rnd(3) === 0 ? COLLATIONS[4]! : pick(COLLATIONS);
      const binary = coll[1] === null;
      const names = [['tinyblob', 'tinytext'], ['blob', 'text'], ['mediumblob', 'mediumtext'], ['longblob', 'longtext']][lengthSize - 1]!;
      const isJson = !binary && lengthSize === 4 && rnd(3) === 0;
      return col({
        logged: t,
        real: t,
        meta: Buffer.from([lengthSize]),
        collation: coll,
        value: () => {
          let v = rnd(5) === 0 ? bytes(rnd(40)) : text(lengthSize === 1 ? 255 : 300, coll);
          if (isJson && rnd(2) === 0) v = Buffer.from(pick(['{"a": 1}', '[]', '"x"', '{"big": 18446744073709551615}']));
          if (t === T.BLOB_COMPRESSED) v = compressedValue(v);
          return Buffer.concat([le(v.length, lengthSize), v]);
        },
        columnType: names[binary ? 0 : 1]! + (t === T.BLOB_COMPRESSED ? ' /*M!100301 COMPRESSED*/' : ''),
        dataType: isJson ? 'longtext' : names[binary ? 0 : 1]!,
        values: isJson ? ['json'] : [],
      });
    }
    case 13: {
      const count = 1 + rnd(6);
      const values = Array.from({ length: count }, (_, k) => `${pick(WORDS)}${k}`);
      const size = pick([1, 1, 2]);
      const coll = pick([COLLATIONS[0]!, COLLATIONS[3]!]);
      return col({
        logged: T.STRING,
        real: T.ENUM,
        meta: Buffer.from([T.ENUM, size]),
        collation: coll,
        values,
        value: () => le(rnd(5) === 0 ? rnd(1 << (8 * size)) : rnd(count + 1), size),
        columnType: `enum(${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`,
        dataType: 'enum',
      });
    }
    case 14: {
      const count = 1 + rnd(10);
      const values = Array.from({ length: count }, (_, k) => `${pick(WORDS.filter((w) => !w.includes(',')))}${k}`);
      const size = pick([1, 2, 3, 4, 8]);
      const coll = pick([COLLATIONS[0]!, COLLATIONS[3]!]);
      return col({
        logged: T.STRING,
        real: T.SET,
        meta: Buffer.from([T.SET, size]),
        collation: coll,
        values,
        value: () => (rnd(6) === 0 ? bytes(size) : le(rnd(1 << Math.min(count, 30)), size)),
        columnType: `set(${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`,
        dataType: 'set',
      });
    }
    case 15: {
      const gt = rnd(8);
      const name = ['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geomcollection'][gt]!;
      return col({
        logged: T.GEOMETRY,
        real: T.GEOMETRY,
        meta: Buffer.from([4]),
        geometryType: gt,
        value: () => {
          const v = bytes(rnd(60));
          return Buffer.concat([le(v.length, 4), v]);
        },
        columnType: name,
        dataType: name,
      });
    }
    default: {
      const t = pick([T.TINY, T.LONG]);
      return col({ logged: t, real: t, unsigned: unsignedChoice, value: () => bytes(t === T.TINY ? 1 : 4), columnType: t === T.TINY ? 'tinyint(4)' : 'int(11)', dataType: 'int' });
    }
  }
}

type Flavour = 'full' | 'minimal' | 'none';

interface Table {
  id: number;
  schema: string;
  name: string;
  cols: Col[];
  flavour: Flavour;
  pk: number[];
  /** the optional block written in an odd order or with an unknown field */
  extras: boolean;
  /** its TABLE_MAP event: a server writes the same bytes for a table id every time */
  packet?: Buffer;
}

function optionalBlock(t: Table): Buffer {
  if (t.flavour === 'none') return Buffer.alloc(0);
  const fields: Buffer[] = [];
  const field = (type: number, body: Buffer): void => {
    fields.push(Buffer.concat([Buffer.from([type]), lenenc(body.length), body]));
  };
  const numeric = t.cols.filter((c) => NUMERIC.has(c.real));
  if (numeric.length > 0 && rnd(6) !== 0) {
    const b = Buffer.alloc((numeric.length + 7) >> 3);
    numeric.forEach((c, i) => {
      if (c.unsigned) b[i >> 3]! |= 0x80 >> (i & 7);
    });
    field(1, b);
  }
  const character = t.cols.filter((c) => CHARACTER.has(c.real));
  if (character.length > 0) {
    if (rnd(2) === 0) field(3, Buffer.concat(character.map((c) => lenenc(c.collation![0]))));
    else {
      const def = character[0]!.collation![0];
      const pairs = character.flatMap((c, i) => (c.collation![0] !== def ? [lenenc(i), lenenc(c.collation![0])] : []));
      field(2, Buffer.concat([lenenc(def), ...pairs]));
    }
  }
  if (t.flavour === 'full') field(4, Buffer.concat(t.cols.map((c) => lstr(c.name))));
  const sets = t.cols.filter((c) => c.real === T.SET);
  if (t.flavour === 'full' && sets.length > 0) field(5, Buffer.concat(sets.map((c) => Buffer.concat([lenenc(c.values.length), ...c.values.map((v) => lstr(Buffer.from(v, c.collation![1] === 'latin1' ? 'latin1' : 'utf8')))]))));
  const enums = t.cols.filter((c) => c.real === T.ENUM);
  if (t.flavour === 'full' && enums.length > 0) field(6, Buffer.concat(enums.map((c) => Buffer.concat([lenenc(c.values.length), ...c.values.map((v) => lstr(Buffer.from(v, c.collation![1] === 'latin1' ? 'latin1' : 'utf8')))]))));
  const geos = t.cols.filter((c) => c.real === T.GEOMETRY);
  if (geos.length > 0 && rnd(3) !== 0) field(7, Buffer.concat(geos.map((c) => lenenc(c.geometryType!))));
  const es = t.cols.filter((c) => c.real === T.ENUM || c.real === T.SET);
  if (es.length > 0) field(11, Buffer.concat(es.map((c) => lenenc(c.collation![0]))));
  if (t.flavour === 'full' && t.pk.length > 0) {
    if (rnd(2) === 0) field(8, Buffer.concat(t.pk.map((i) => lenenc(i))));
    else field(9, Buffer.concat(t.pk.flatMap((i) => [lenenc(i), lenenc(rnd(3))])));
  }
  if (t.extras) {
    if (rnd(2) === 0) field(12, Buffer.alloc((t.cols.length + 7) >> 3, 0xff));
    field(40 + rnd(10), bytes(rnd(5)));
    if (rnd(4) === 0) fields.reverse();
    // a malformed block: the decoders must both drop it as a whole
    if (rnd(8) === 0) fields.push(Buffer.from([4, 200]));
  }
  return Buffer.concat(fields);
}

function header(code: number, bodyLength: number, nextPosition: number): Buffer {
  const h = Buffer.alloc(19);
  h.writeUInt32LE(1_700_000_000 + rnd(1000), 0);
  h[4] = code;
  h.writeUInt32LE(1, 5);
  h.writeUInt32LE(19 + bodyLength, 9);
  h.writeUInt32LE(nextPosition, 13);
  return h;
}

function tableMapEvent(t: Table): Buffer {
  const types = Buffer.from(t.cols.map((c) => c.logged));
  const meta = Buffer.concat(t.cols.map((c) => c.meta));
  const body = Buffer.concat([
    le(t.id, 6),
    le(1, 2),
    Buffer.from([Buffer.byteLength(t.schema)]),
    Buffer.from(t.schema),
    Buffer.from([0, Buffer.byteLength(t.name)]),
    Buffer.from(t.name),
    Buffer.from([0]),
    lenenc(t.cols.length),
    types,
    lenenc(meta.length),
    meta,
    Buffer.alloc((t.cols.length + 7) >> 3, 0xff),
    optionalBlock(t),
  ]);
  return Buffer.concat([header(19, body.length, 0), body]);
}

function rowImage(t: Table, present: Buffer): Buffer {
  const presentCols = t.cols.filter((_, i) => (present[i >> 3]! & (1 << (i & 7))) !== 0);
  let bits = 0;
  for (const b of present) for (let v = b; v; v >>= 1) bits += v & 1;
  const nulls = Buffer.alloc((bits + 7) >> 3);
  const parts: Buffer[] = [];
  presentCols.forEach((c, k) => {
    if (rnd(6) === 0) nulls[k >> 3]! |= 1 << (k & 7);
    else parts.push(c.value());
  });
  if (rnd(10) === 0) for (let k = 0; k < nulls.length; k++) nulls[k] = rnd(256);
  return Buffer.concat([nulls, ...parts]);
}

const KIND_CODES = { writerows: [23, 30, 166, 169], updaterows: [24, 31, 167, 170], deleterows: [25, 32, 168, 171] } as const;

/** A rows event, and for a compressed one its uncompressed twin (to see whether zongji reads past the end). */
function rowsEvent(t: Table, kind: keyof typeof KIND_CODES): { packet: Buffer; twin?: Buffer } {
  const code = pick(KIND_CODES[kind]);
  const v2 = (code >= 30 && code <= 32) || code >= 169;
  const bitmapBytes = (t.cols.length + 7) >> 3;
  const full = (): Buffer => {
    const b = Buffer.alloc(bitmapBytes);
    for (let i = 0; i < t.cols.length; i++) if (rnd(10) !== 0) b[i >> 3]! |= 1 << (i & 7);
    if (rnd(3) !== 0) for (let i = 0; i < t.cols.length; i++) b[i >> 3]! |= 1 << (i & 7);
    // a row image of no columns takes no bytes, and zongji would read such rows forever
    if (b.every((x) => x === 0)) b[0] = 1;
    return b;
  };
  const present = full();
  const presentAfter = kind === 'updaterows' ? full() : undefined;
  const rows: Buffer[] = [];
  const n = 1 + rnd(3);
  for (let r = 0; r < n; r++) {
    rows.push(rowImage(t, present));
    if (presentAfter) rows.push(rowImage(t, presentAfter));
  }
  let area = Buffer.concat(rows);
  // cut or lengthened row areas only uncompressed: zongji reads a compressed one through a parser
  // of its own, so whether it read past the end cannot be seen from outside
  if (code < 166 && rnd(12) === 0) area = area.subarray(0, rnd(area.length + 1));
  if (code < 166 && rnd(30) === 0) area = Buffer.concat([area, bytes(1 + rnd(4))]);
  const event = (c: number, rowsArea: Buffer): Buffer => {
    const body = Buffer.concat([le(t.id, 6), le(1, 2), v2 ? le(2, 2) : Buffer.alloc(0), lenenc(t.cols.length), present, presentAfter ?? Buffer.alloc(0), rowsArea]);
    return Buffer.concat([header(c, body.length, 0), body]);
  };
  if (code < 166) return { packet: event(code, area) };
  const z = zlib.deflateSync(area);
  const compressed = Buffer.concat([Buffer.from([0x84]), Buffer.alloc(4), z]);
  compressed.writeUInt32BE(area.length, 1);
  return { packet: event(code, compressed), twin: event(code >= 169 ? code - 139 : code - 143, area) };
}

function metaOf(t: Table): TableMeta {
  const columns = new Map<string, { columnType: string; dataType: string; isJson: boolean }>();
  const schemas: ColumnSchema[] = [];
  for (const c of t.cols) {
    const columnType = rnd(5) === 0 ? 'int(11)' : c.columnType;
    columns.set(c.name, { columnType, dataType: c.dataType, isJson: c.values[0] === 'json' });
    schemas.push({ COLUMN_NAME: c.name, COLLATION_NAME: null, CHARACTER_SET_NAME: c.collation?.[1] ?? null, COLUMN_COMMENT: '', COLUMN_TYPE: c.columnType });
  }
  return { primaryKey: t.pk.map((i) => t.cols[i]!.name), columns, columnSchemas: schemas };
}

/** One side of the comparison: a converter and what it needs. */
function converterFor(meta: Map<string, TableMeta>, timezone: string): EventConverter {
  return new EventConverter({
    file: 'binlog.000001',
    offset: 4,
    gtidSeed: '',
    flavor: 'mariadb',
    sourceServerId: 1,
    checksum: false,
    meta: { get: (s, t) => meta.get(`${s}.${t}`), has: (s, t) => meta.has(`${s}.${t}`), invalidate: () => undefined, invalidateSchema: () => undefined },
    buildCodec: buildTableCodec,
    format: { timezone },
  });
}

function zongjiFake(): Record<string, unknown> {
  return {
    tableMap: {},
    useChecksum: false,
    isMariaDb: true,
    connection: { config: { ...ZONGJI_VALUE_OPTIONS } },
    _skipSchema: () => false,
    emit(name: string, err: Error) {
      if (name === 'error') throw err;
    },
  };
}

const ROWS_CLASS = { writerows: 'WriteRows', updaterows: 'UpdateRows', deleterows: 'DeleteRows' } as const;

/** zongji's decode of a TABLE_MAP event as its binlog handler completes it; throws where zongji reports an error. */
function zongjiTableMap(zj: Record<string, unknown>, packet: Buffer, meta: TableMeta): BinlogEventLike {
  const parser = new Parser({ buffer: packet, offset: 19, end: packet.length });
  const options = { timestamp: packet.readUInt32LE(0) * 1000, nextPosition: 0, size: packet.length - 19, eventType: 19, serverId: 1 };
  const ev = new zjEvents.TableMap!(parser, options, zj) as BinlogEventLike & {
    tableId: number;
    tableName: string;
    columnCount: number;
    hasSelfDescribingMetadata(): boolean;
    hasAmbiguousTemporalColumns(): boolean;
    buildColumnSchemas(): unknown[];
    updateColumnInfo(): void;
  };
  const tableMap = zj.tableMap as Record<number, { columnSchemas: unknown[]; parentSchema: string; tableName: string; columns?: unknown[] }>;
  if (ev.hasSelfDescribingMetadata() && !ev.hasAmbiguousTemporalColumns()) {
    tableMap[ev.tableId] = { columnSchemas: ev.buildColumnSchemas(), parentSchema: String(ev.schemaName), tableName: ev.tableName };
  } else {
    const known = tableMap[ev.tableId];
    if (!known || known.tableName !== ev.tableName || known.columns?.length !== ev.columnCount) {
      tableMap[ev.tableId] = { columnSchemas: meta.columnSchemas!.map((s) => ({ ...s })), parentSchema: String(ev.schemaName), tableName: ev.tableName };
    }
  }
  ev.updateColumnInfo();
  // what EventParser did in zongji's 'binlog' listener before the rows event was decoded
  keepGeometryBytes(tableMap[ev.tableId] as never);
  keepRawBytes(tableMap[ev.tableId] as never);
  return ev;
}

interface Outcome {
  entries?: Buffer[];
  error?: string;
  overran?: boolean;
}

function run(fn: () => ParsedEntry[]): Outcome {
  try {
    return { entries: fn().map((e) => Buffer.from(encodeEntry(e))) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function compare(what: string, z: Outcome, s: Outcome): void {
  if (z.error !== undefined || z.overran) {
    assert.ok(s.error !== undefined, `${what}: zongji ${z.error !== undefined ? `failed (${z.error})` : 'read past the event'} but sluice decoded it`);
    return;
  }
  assert.equal(s.error, undefined, `${what}: sluice failed (${s.error}) where zongji decoded it`);
  if (process.env.DEBUG_DIFF && JSON.stringify(s.entries) !== JSON.stringify(z.entries)) console.log(z.entries!.map((b) => b.toString('latin1')), s.entries!.map((b) => b.toString('latin1')));
  assert.deepEqual(s.entries, z.entries, `${what}: entries differ`);
}

// zongji warns on the console for each charset iconv-lite lacks (dec8 here); the outcome is what counts
console.warn = () => undefined;

const TRIALS = Number(process.env.SLUICE_DECODER_TRIALS ?? 10_000);

test(`${TRIALS} arbitrary tables and rows decode to the same entries as through zongji, across ALTERs`, () => {
  let compared = 0;
  let refused = 0;
  let nextId = 1;
  for (let trial = 0; trial < TRIALS; trial++) {
    const metas = new Map<string, TableMeta>();
    const zone = pick(['UTC', 'Asia/Shanghai', 'America/St_Johns', '+05:30']);
    const zconv = converterFor(metas, zone);
    const sconv = converterFor(metas, zone);
    const zj = zongjiFake();
    const decoder = new BinlogDecoder({ checksum: false, mariadb: true });
    const flavour: Flavour = pick(['full', 'full', 'full', 'minimal', 'none']);
    let table: Table | undefined;
    const versions = 1 + rnd(3);
    for (let v = 0; v < versions; v++) {
      const hires = flavour !== 'full' && rnd(2) === 0;
      if (table === undefined || rnd(2) === 0) {
        // a new table, or the same one altered: a new table id, or (FULL only) the same id
        const width = 1 + rnd(9);
        const cols = Array.from({ length: width }, (_, i) => makeColumn(i, hires));
        // the same id only where zongji would not keep information_schema rows of the old shape
        const classic = (cs: Col[]): boolean => cs.some((c) => c.real === T.TIME || c.real === T.DATETIME || c.real === T.TIMESTAMP);
        const sameId = table !== undefined && flavour === 'full' && !classic(cols) && !classic(table.cols) && rnd(2) === 0;
        table = {
          id: sameId ? table!.id : nextId++,
          schema: table?.schema ?? pick(['s', 'shop', 'db\u00e9']),
          name: table?.name ?? pick(['t', 'orders', 'T_1']),
          cols,
          flavour,
          pk: cols.flatMap((_, i) => (rnd(3) === 0 ? [i] : [])),
          // (a malformed optional block sends zongji to information_schema rows it keeps per table id)
          extras: !sameId && rnd(4) === 0,
        };
        metas.set(`${table.schema}.${table.name}`, metaOf(table));
      }
      const meta = metas.get(`${table.schema}.${table.name}`)!;
      table.packet ??= tableMapEvent(table);
      const mapPacket = table.packet;
      const what = `trial ${trial} version ${v} (${flavour}, columns ${table.cols.map((c) => `${c.real}:${c.columnType}`).join(' ')})`;
      const zMap = run(() => zconv.convert(zongjiTableMap(zj, mapPacket, meta)));
      const sMap = run(() => {
        const ev = decoder.decode(mapPacket, 0, mapPacket.length)!;
        return sconv.convert(ev);
      });
      compare(`${what} table map`, zMap, sMap);
      if (zMap.error !== undefined) {
        refused++;
        break;
      }
      for (let k = 1 + rnd(2); k > 0; k--) {
        const kind = pick(['writerows', 'updaterows', 'deleterows'] as const);
        const { packet, twin } = rowsEvent(table, kind);
        const zongjiRows = (p: Buffer): BinlogEventLike => {
          const parser = new Parser({ buffer: p, offset: 19, end: p.length });
          const options = { timestamp: p.readUInt32LE(0) * 1000, nextPosition: 0, size: p.length - 19, eventType: p[4], serverId: 1 };
          const ev = new zjRows[ROWS_CLASS[kind]]!(parser, options, zj);
          if (parser._offset > p.length) throw new Error('zongji read past the end');
          return ev;
        };
        const z = run(() => {
          if (twin) zongjiRows(twin);
          return zconv.convert(zongjiRows(packet));
        });
        if (z.error === 'zongji read past the end') z.overran = true;
        const s = run(() => sconv.convert(decoder.decode(packet, 0, packet.length)!));
        compare(`${what} ${kind}`, z, s);
        if (z.error !== undefined || z.overran) refused++;
        else compared++;
      }
    }
  }
  // most rows events must be decodable, or the comparison proves little
  assert.ok(compared > TRIALS, `only ${compared} rows events compared (${refused} refused)`);
});
