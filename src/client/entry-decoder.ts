// The client's fast paths over Canal Entry bytes, beside the general readers of
// protocol/entry-reader.ts: a row image straight into a name → value map, and the Column
// messages of one side of a RowData with their repeated strings shared, each read from the
// retained entry bytes on demand by the consumer's lazy view in entry.ts.
import type { Column } from '../protocol/entry-model.ts';
import { AFTER, BEFORE, ended, readColumn, type ColumnStrings } from '../protocol/entry-reader.ts';
import { PositionStrings } from './position-strings.ts';
import { tags } from '../protocol/wire-fields.ts';
import { utf8, WireReader } from '../protocol/wire-reader.ts';

// Column and RowData tags the fast paths compare whole (one wire type each)
const TAG_NAME = tags.Column.name;
const TAG_VALUE = tags.Column.value;
const TAG_IS_NULL = tags.Column.isNull;
const TAG_IS_KEY = tags.Column.isKey;
const TAG_UPDATED = tags.Column.updated;
const TAG_MYSQL_TYPE = tags.Column.mysqlType;
const TAG_INDEX = tags.Column.index;
const TAG_SQL_TYPE = tags.Column.sqlType;
const TAG_BEFORE = tags.RowData.beforeColumns;
const TAG_AFTER = tags.RowData.afterColumns;

// Names and MySQL types at each column position, kept once for lazily read Column lists (the
// maps' names come from ImageBuilder's prefixes).
const beforeStrings: ColumnStrings = { names: new PositionStrings(), mysqlTypes: new PositionStrings() };
const afterStrings: ColumnStrings = { names: new PositionStrings(), mysqlTypes: new PositionStrings() };

/**
 * A Column as sluice's server writes every one: index, sqlType, name, isKey, updated, isNull,
 * value and mysqlType, each once and in that order. Built as one literal (one allocation, one
 * shape) instead of field by field; undefined, with `r` moved, for any other layout.
 */
function standardColumn(r: WireReader, end: number, strings: ColumnStrings, position: number): Column | undefined {
  if (r.uint32() !== TAG_INDEX) return undefined;
  const index = r.int32();
  if (r.uint32() !== TAG_SQL_TYPE) return undefined;
  const sqlType = r.int32();
  if (r.uint32() !== TAG_NAME) return undefined;
  const name = strings.names.read(r, position);
  if (r.uint32() !== TAG_IS_KEY) return undefined;
  const isKey = r.bool();
  if (r.uint32() !== TAG_UPDATED) return undefined;
  const updated = r.bool();
  if (r.uint32() !== TAG_IS_NULL) return undefined;
  const isNull = r.bool();
  if (r.uint32() !== TAG_VALUE) return undefined;
  const value = r.string();
  if (r.uint32() !== TAG_MYSQL_TYPE) return undefined;
  const mysqlType = strings.mysqlTypes.read(r, position);
  if (r.pos !== end) return undefined;
  return { index, sqlType, name, isKey, updated, isNull, value, mysqlType };
}

/** The Column messages of one side (BEFORE or AFTER) of the RowData at [start, end). */
export function readColumns(buf: Buffer, start: number, end: number, side: typeof BEFORE | typeof AFTER, limit = buf.length): Column[] {
  const r = new WireReader(buf, start, limit);
  const out: Column[] = [];
  const strings = side === BEFORE ? beforeStrings : afterStrings;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 !== side || (tag & 7) !== 2) {
      r.skip(tag & 7);
      continue;
    }
    const columnEnd = r.endOfLength();
    const columnStart = r.pos;
    const position = out.length;
    let c: Column | undefined;
    try {
      c = standardColumn(r, columnEnd, strings, position);
    } catch {
      // A layout the fast path misread; the general reader decides whether it is valid.
      c = undefined;
    }
    if (c === undefined) {
      r.pos = columnStart;
      c = readColumn(r, columnEnd, strings, position);
    }
    out.push(c);
    r.pos = columnEnd;
  }
  ended(r, end, 'RowData');
  return out;
}

/**
 * Builds one side's name → value maps. Rows of a table carry the same names in the same
 * order, so after the first row each map is cloned from a template with those keys (V8 then
 * gives it the template's shape at once, with the properties in the object itself) and only
 * the values are stored. The keys and their order are those of plain assignment in column
 * order, which is what entry.ts's reference `values` does.
 *
 * A column at a position starts with the same bytes in every row of a table (index, sqlType,
 * name), so those bytes are kept per position and compared instead of parsed: a match gives
 * the name, and only the fields after it (isKey, updated, isNull, value, mysqlType) are read.
 */
class ImageBuilder {
  private readonly names: string[] = [];
  /** each value's bytes; start -1 for NULL */
  private readonly valueStarts: number[] = [];
  private readonly valueEnds: number[] = [];
  private count = 0;
  /** per position: a column's bytes up to the end of its name, and that name */
  private readonly prefixes: (Buffer | undefined)[] = [];
  private readonly prefixNames: string[] = [];
  /** the last row's values were all ASCII: worth decoding them with one call (see asciiSpan) */
  private asciiRows = true;
  /** where the text asciiSpan returned starts in the buffer */
  private spanStart = 0;
  private template: Record<string, string | null> | undefined;
  private templateNames: string[] = [];

  /** Forgets columns added for a map that was never built (its row failed to decode). */
  reset(): void {
    this.count = 0;
  }

  /** Reads one Column message: null when isNull, else the value string ('' when absent). */
  addColumn(r: WireReader, end: number): void {
    const i = this.count++;
    const prefix = this.prefixes[i];
    if (prefix !== undefined) {
      const buf = r.buf;
      const start = r.pos;
      const n = prefix.length;
      let k = 0;
      if (start + n <= end) while (k < n && buf[start + k] === prefix[k]) k++;
      if (k === n && this.afterName(r, start + n, end, i)) {
        this.names[i] = this.prefixNames[i]!;
        return;
      }
      r.pos = start;
      this.readColumn(r, end, i, k === n);
      return;
    }
    this.readColumn(r, end, i, false);
  }

  /**
   * The fields after a known name, when they are the usual ones (isKey, updated, isNull, value,
   * mysqlType, each at most once and in that order, booleans in one byte): true when read to
   * `end`, false for any other layout (which the general reader then reads).
   */
  private afterName(r: WireReader, at: number, end: number, i: number): boolean {
    const buf = r.buf;
    let p = at;
    if (p + 1 < end && buf[p] === TAG_IS_KEY && buf[p + 1]! < 0x80) p += 2;
    if (p + 1 < end && buf[p] === TAG_UPDATED && buf[p + 1]! < 0x80) p += 2;
    let isNull = false;
    if (p + 1 < end && buf[p] === TAG_IS_NULL && buf[p + 1]! < 0x80) {
      isNull = buf[p + 1] !== 0;
      p += 2;
    }
    let valueStart = 0;
    let valueEnd = 0;
    if (p < end && buf[p] === TAG_VALUE) {
      r.pos = p + 1;
      valueEnd = r.endOfLength();
      valueStart = r.pos;
      p = valueEnd;
    }
    if (p < end && buf[p] === TAG_MYSQL_TYPE) {
      r.pos = p + 1;
      p = r.endOfLength();
    }
    if (p !== end) return false;
    r.pos = end;
    this.valueStarts[i] = isNull ? -1 : valueStart;
    this.valueEnds[i] = valueEnd;
    return true;
  }

  /** The general reader; `known`: the column starts with position i's prefix (keep it). */
  private readColumn(r: WireReader, end: number, i: number, known: boolean): void {
    const buf = r.buf;
    const start = r.pos;
    let nameStart = 0;
    let nameEnd = 0;
    let valueStart = 0;
    let valueEnd = 0;
    let isNull = false;
    // fields 1, 2, 3 first and in order: the bytes up to the name's end can be the prefix
    let order = 0;
    let prefixEnd = -1;
    while (r.pos < end) {
      const tag = r.uint32();
      order = (order === 0 && tag === TAG_INDEX) || (order === 1 && tag === TAG_SQL_TYPE) || (order === 2 && tag === TAG_NAME) ? order + 1 : -1;
      if (tag === TAG_NAME) {
        nameEnd = r.endOfLength();
        nameStart = r.pos;
        r.pos = nameEnd;
      } else if (tag === TAG_VALUE) {
        valueEnd = r.endOfLength();
        valueStart = r.pos;
        r.pos = valueEnd;
      } else if (tag === TAG_IS_NULL) {
        isNull = r.bool();
      } else {
        const field = tag >>> 3;
        if (field === TAG_NAME >>> 3 || field === TAG_VALUE >>> 3 || field === TAG_IS_NULL >>> 3) throw new Error(`Column field ${field} has wire type ${tag & 7} at offset ${r.pos}`);
        r.skip(tag & 7);
      }
      if (order === 3) prefixEnd = nameEnd;
    }
    ended(r, end, 'Column');
    // A later name field wins over the one in the prefix (protobuf's last-one-wins).
    if (prefixEnd !== nameEnd) this.names[i] = utf8(buf, nameStart, nameEnd);
    else this.names[i] = known ? this.prefixNames[i]! : this.learnPrefix(buf, start, prefixEnd, nameStart, i);
    this.valueStarts[i] = isNull ? -1 : valueStart;
    this.valueEnds[i] = valueEnd;
  }

  /** The name at [nameStart, prefixEnd), which ends position i's new prefix [start, prefixEnd). */
  private learnPrefix(buf: Buffer, start: number, prefixEnd: number, nameStart: number, i: number): string {
    const name = utf8(buf, nameStart, prefixEnd);
    if (prefixEnd - start <= MAX_PREFIX_BYTES && i < MAX_PREFIXES) {
      this.prefixes[i] = Buffer.from(buf.subarray(start, prefixEnd));
      this.prefixNames[i] = name;
    }
    return name;
  }

  /** The map of the columns added since the last build, their values read from `buf`. */
  build(buf: Buffer): Record<string, string | null> {
    const n = this.count;
    this.count = 0;
    const names = this.names;
    let out: Record<string, string | null>;
    if (this.template !== undefined && this.sameNames(n)) {
      out = { ...this.template };
    } else {
      out = {};
      if (n > 0) this.learn(n);
    }
    const starts = this.valueStarts;
    const ends = this.valueEnds;
    if (n > 1 && this.asciiRows) {
      const text = this.asciiSpan(buf, n);
      if (text !== undefined) {
        const base = this.spanStart;
        for (let i = 0; i < n; i++) {
          const s = starts[i]!;
          out[names[i]!] = s < 0 ? null : text.slice(s - base, ends[i]! - base);
        }
        return out;
      }
    }
    let chars = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const s = starts[i]!;
      if (s < 0) {
        out[names[i]!] = null;
        continue;
      }
      const e = ends[i]!;
      const v = utf8(buf, s, e);
      chars += v.length;
      bytes += e - s;
      out[names[i]!] = v;
    }
    // Try the span again once a row's values are plain ASCII (a hint only: correctness does not depend on it).
    this.asciiRows = chars === bytes;
    return out;
  }

  /**
   * The bytes from the first value's start to the last value's end as one string (one char per
   * byte), when every value byte is ASCII: each value is then a slice of it at its byte offsets.
   * Undefined otherwise. A Buffer decode is a native call costing more than a short value's bytes.
   */
  private asciiSpan(buf: Buffer, n: number): string | undefined {
    const starts = this.valueStarts;
    const ends = this.valueEnds;
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < n; i++) {
      const s = starts[i]!;
      if (s < 0) continue;
      if (lo < 0) lo = s;
      hi = ends[i]!;
    }
    // Long values: the native decoder checks their bytes faster than a loop here does.
    if (lo < 0 || hi <= lo || hi - lo > MAX_SPAN_BYTES) return undefined;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      const s = starts[i]!;
      if (s < 0) continue;
      const e = ends[i]!;
      for (let k = s; k < e; k++) bits |= buf[k]!;
    }
    if (bits >= 0x80) {
      this.asciiRows = false;
      return undefined;
    }
    this.spanStart = lo;
    return (buf as Latin1SliceBuffer).latin1Slice(lo, hi);
  }

  private sameNames(n: number): boolean {
    const t = this.templateNames;
    if (t.length !== n) return false;
    for (let i = 0; i < n; i++) if (t[i] !== this.names[i]) return false;
    return true;
  }

  private learn(n: number): void {
    const names = this.names.slice(0, n);
    // '__proto__' assigned to a plain object sets its prototype instead of a key: no template.
    if (names.includes('__proto__')) {
      this.template = undefined;
      this.templateNames = [];
      return;
    }
    const t: Record<string, string | null> = {};
    for (const name of names) t[name] = null;
    this.template = t;
    this.templateNames = names;
  }
}

/** Buffer's own Latin-1 decoder (each byte one char; the same text as UTF-8 for ASCII bytes). */
interface Latin1SliceBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Positions whose column prefix is kept, and the longest prefix kept. */
const MAX_PREFIXES = 256;
const MAX_PREFIX_BYTES = 96;
/** Longest run of a row's values decoded as one string (see asciiSpan). */
const MAX_SPAN_BYTES = 2048;

const beforeImages = new ImageBuilder();
const afterImages = new ImageBuilder();

// One reader for readRowValues, which is called once per row and never re-entered.
const rowReader = new WireReader(Buffer.alloc(0), 0, 0);

/** A row's two images as maps. */
export interface RowImages {
  before: Record<string, string | null>;
  after: Record<string, string | null>;
}

/**
 * Sets `row.before` and `row.after` to the row images of the RowData at [start, end), as
 * name → value maps (one object per image), without building Column objects.
 */
export function readRowValues(buf: Buffer, start: number, end: number, row: RowImages, limit = buf.length): void {
  const r = rowReader.reset(buf, start, limit);
  beforeImages.reset();
  afterImages.reset();
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_BEFORE) beforeImages.addColumn(r, r.endOfLength());
    else if (tag === TAG_AFTER) afterImages.addColumn(r, r.endOfLength());
    else r.skip(tag & 7);
  }
  const overran = r.pos !== end;
  r.release();
  if (overran) throw new RangeError(`RowData field runs past the end of its message (${end})`);
  row.before = beforeImages.build(buf);
  row.after = afterImages.build(buf);
}
