// The rows of one rows event (or snapshot chunk), converted but not yet turned into Column
// objects: each cell's Canal text as UTF-8 bytes in one byte arena per image, with a flag byte.
// No JavaScript string exists per value: the binlog cell readers write a value's text bytes
// straight into the arena (digits, copied UTF-8). Serialization writes the cells straight into
// the entry bytes behind per-column pre-encoded field runs (index, sqlType, name, isKey, updated,
// isNull and the value tag; then mysqlType), built once per table map. Column objects (and value
// strings) are built only when someone reads `beforeColumns` / `afterColumns` (tests, the
// column filter on a materialized row), and then exactly as the table codec has always built them.
//
// Building an image from outside the binlog decoder: `new ImageBuilder()`, then per cell, in
// row-major order (row r, column c is cell r * width + c), one of `text(s, flag)`,
// `copy(bytes, start, end, flag)`, `nul()`, `absent()` (or write bytes at `buf[pos...]` after
// `room(n)` and call `end(flag)`); `finish()` gives the Image. Values are Canal's text: a
// `copy` must be well-formed UTF-8 (`buffer.isUtf8`), anything else goes through `text`.
import { Buffer } from 'node:buffer';
import type { Column, RowData } from '../../protocol/entry-model.ts';
import { ROW_WRITER, writeRowDataObjects, type SelfWritingRowData } from '../../protocol/entry-writer.ts';
import { ProtoWriter, SHORT_STRING, writeShortString } from '../../protocol/proto-writer.ts';
import { tags } from '../../protocol/wire-fields.ts';
import { varintSize } from '../../protocol/varint.ts';
import type { ColumnSpec } from './column-spec.ts';

/** Cell flags: the low two bits say what the cell holds, bit 2 is Column.updated. */
export const Cell = {
  ABSENT: 0,
  VALUE: 1,
  /** a value of an unsigned column above the signed range: the promoted sqlType */
  PROMOTED: 2,
  NULL: 3,
  UPDATED: 4,
} as const;
const WHAT = 3;

const TAG_BEFORE = tags.RowData.beforeColumns;
const TAG_AFTER = tags.RowData.afterColumns;
const C = tags.Column;

function words(bytes: Uint8Array): Uint32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  const out = new Uint32Array(padded.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** Everything about a column that the bytes of its cells share. */
export class ColumnTemplate {
  readonly spec: ColumnSpec;
  /** field run from index to the value's tag, by (cell & 7): what the cell holds and updated */
  readonly heads: Uint8Array[];
  /** the mysqlType field */
  readonly tail: Uint8Array;
  /** heads and tail as little-endian 32-bit words (zero-padded): 4 bytes per store */
  readonly headWords: Uint32Array[];
  readonly tailWords: Uint32Array;

  constructor(spec: ColumnSpec) {
    this.spec = spec;
    const w = new ProtoWriter(256);
    const run = (what: number, updated: boolean): Uint8Array => {
      w.reset();
      w.byte(C.index);
      w.int32(spec.index);
      w.byte(C.sqlType);
      w.int32(what === Cell.NULL ? spec.nullSqlType : what === Cell.PROMOTED ? spec.promotedSqlType : spec.sqlType);
      w.byte(C.name);
      w.string(spec.name);
      w.byte(C.isKey);
      w.bool(spec.isKey);
      w.byte(C.updated);
      w.bool(updated);
      w.byte(C.isNull);
      w.bool(what === Cell.NULL);
      w.byte(C.value);
      return Uint8Array.from(w.buf.subarray(0, w.pos));
    };
    this.heads = [];
    for (let flag = 0; flag < 8; flag++) {
      const what = flag & WHAT;
      this.heads.push(what === Cell.ABSENT ? new Uint8Array(0) : run(what, (flag & Cell.UPDATED) !== 0));
    }
    w.reset();
    if (spec.mysqlType != null) {
      w.byte(C.mysqlType);
      w.string(spec.mysqlType);
    }
    this.tail = Uint8Array.from(w.buf.subarray(0, w.pos));
    this.headWords = this.heads.map(words);
    this.tailWords = words(this.tail);
  }

  /** The Column object of a cell, field for field what the table codec always built. */
  column(text: string, flag: number): Column {
    const s = this.spec;
    const what = flag & WHAT;
    const updated = (flag & Cell.UPDATED) !== 0;
    if (what === Cell.NULL) {
      return { index: s.index, sqlType: s.nullSqlType, name: s.name, isKey: s.isKey, updated, isNull: true, value: '', mysqlType: s.mysqlType };
    }
    const sqlType = what === Cell.PROMOTED ? s.promotedSqlType : s.sqlType;
    return { index: s.index, sqlType, name: s.name, isKey: s.isKey, updated, isNull: false, value: text, mysqlType: s.mysqlType };
  }
}

type Utf8Slicing = Buffer & { utf8Slice(start: number, end: number): string; utf8Write(s: string, at: number, n: number): number };

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * One image (before or after) of every row. Cell `at = r * width + c` is entry `base + at` of
 * `offsets` and `flags`: it holds the UTF-8 of its Canal text in `bytes[offsets[base + at],
 * offsets[base + at + 1])` (nothing for NULL and absent cells) and its flag. The arrays may be
 * shared with other images (see ImageBuilder), so read cells through `base`.
 */
export class Image {
  private bytesView: DataView | undefined;

  constructor(
    readonly bytes: Buffer,
    /** one more entry than there are cells: a cell ends where the next begins */
    readonly offsets: Uint32Array,
    readonly flags: Uint8Array,
    readonly base: number,
    readonly cells: number,
    view?: DataView,
  ) {
    this.bytesView = view;
  }

  flag(at: number): number {
    return this.flags[this.base + at]!;
  }

  /** A view of `bytes`, for readers that load 4 bytes at a time. */
  get view(): DataView {
    this.bytesView ??= viewOf(this.bytes);
    return this.bytesView;
  }

  /** The Canal text of cell `at` ('' for NULL and absent cells). */
  text(at: number): string {
    const s = this.offsets[this.base + at]!;
    const e = this.offsets[this.base + at + 1]!;
    return s === e ? '' : (this.bytes as Utf8Slicing).utf8Slice(s, e);
  }
}

// Small images (a single-row event's) take their room from shared slabs instead of allocating
// arrays of their own: a few typed arrays per rows event cost more than decoding its row. A
// builder reserves a stretch of each slab and hands back what it did not use when it is the
// slab's last reservation; it moves to arrays of its own when it outgrows its stretch.
const SLAB_BYTES = 256 * 1024;
const SLAB_CELLS = 16 * 1024;

class Slab {
  readonly bytes = Buffer.allocUnsafe(SLAB_BYTES);
  readonly view = viewOf(this.bytes);
  readonly offsets = new Uint32Array(SLAB_CELLS + 1);
  readonly flags = new Uint8Array(SLAB_CELLS);
  bytesTop = 0;
  cellsTop = 0;
}

let slab = new Slab();

/**
 * Builds an Image cell by cell, in order (row-major: cell `r * width + c`). A cell's bytes are
 * what was written at `buf[...pos)` since the previous cell ended; `end(flag)` closes it.
 */
export class ImageBuilder {
  buf: Buffer;
  /** a view of `buf`, for writers that store 4 bytes at a time */
  view: DataView;
  pos: number;
  /** end of this builder's room in `buf` */
  private limit: number;
  private offsets: Uint32Array;
  private flags: Uint8Array;
  private base: number;
  private cellLimit: number;
  /** the slab this builder's room is in, if it is */
  private slab: Slab | undefined;
  /** cells ended so far */
  cells = 0;

  /** `cells` and `bytes`: first guesses of the image's size (both grow as needed) */
  constructor(cells = 64, bytes = 1024) {
    cells = Math.max(1, cells);
    bytes = Math.max(64, bytes);
    if (cells <= SLAB_CELLS >> 4 && bytes <= SLAB_BYTES >> 4) {
      let s = slab;
      if (s.bytesTop + bytes > SLAB_BYTES || s.cellsTop + cells + 1 > SLAB_CELLS) slab = s = new Slab();
      this.slab = s;
      this.buf = s.bytes;
      this.view = s.view;
      this.pos = s.bytesTop;
      this.limit = s.bytesTop += bytes;
      this.offsets = s.offsets;
      this.flags = s.flags;
      this.base = s.cellsTop;
      this.cellLimit = cells;
      // offsets take one entry more than flags
      s.cellsTop += cells + 1;
    } else {
      this.buf = Buffer.allocUnsafe(bytes);
      this.view = viewOf(this.buf);
      this.pos = 0;
      this.limit = bytes;
      this.offsets = new Uint32Array(cells + 1);
      this.flags = new Uint8Array(cells);
      this.base = 0;
      this.cellLimit = cells;
    }
    this.offsets[this.base] = this.pos;
  }

  /** Makes room for `n` more bytes at `pos`. */
  room(n: number): void {
    if (this.pos + n <= this.limit) return;
    const s = this.slab;
    // the slab's last reservation grows in place while the slab has room
    if (s !== undefined && s.bytes === this.buf && s.bytesTop === this.limit && this.pos + n <= SLAB_BYTES) {
      s.bytesTop = this.limit = Math.min(SLAB_BYTES, Math.max(this.pos + n, this.limit * 2));
      return;
    }
    const start = this.offsets[this.base]!;
    const used = this.pos - start;
    let size = Math.max(1024, used * 2);
    while (size < used + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, start, this.pos);
    // the cells' offsets move with their bytes
    for (let i = 0; i <= this.cells; i++) this.offsets[this.base + i]! -= start;
    if (s !== undefined && s.bytes === this.buf && s.bytesTop === this.limit) s.bytesTop = start;
    this.buf = next;
    this.view = viewOf(next);
    this.pos = used;
    this.limit = size;
  }

  /** Ends the current cell: its bytes are those written since the previous cell ended. */
  end(flag: number): void {
    const c = this.cells;
    if (c === this.cellLimit) this.moreCells();
    this.flags[this.base + c] = flag;
    this.offsets[this.base + c + 1] = this.pos;
    this.cells = c + 1;
  }

  private moreCells(): void {
    const c = this.cells;
    const s = this.slab;
    if (s !== undefined && s.offsets === this.offsets && s.cellsTop === this.base + this.cellLimit + 1 && this.base + c * 2 + 1 <= SLAB_CELLS) {
      s.cellsTop = this.base + c * 2 + 1;
      this.cellLimit = c * 2;
      return;
    }
    const offsets = new Uint32Array(c * 2 + 1);
    offsets.set(this.offsets.subarray(this.base, this.base + c + 1));
    const flags = new Uint8Array(c * 2);
    flags.set(this.flags.subarray(this.base, this.base + c));
    if (s !== undefined && s.offsets === this.offsets && s.cellsTop === this.base + this.cellLimit + 1) s.cellsTop = this.base;
    this.offsets = offsets;
    this.flags = flags;
    this.base = 0;
    this.cellLimit = c * 2;
  }

  /** Drops what was written for the current cell so far. */
  rewind(): void {
    this.pos = this.offsets[this.base + this.cells]!;
  }

  /** Writes the UTF-8 of `s` into the current cell, exactly as ProtoWriter.string would write it. */
  put(s: string): void {
    const n = s.length;
    if (n < SHORT_STRING) {
      if (this.pos + 3 * n > this.limit) this.room(3 * n);
      this.pos = writeShortString(this.buf, this.view, this.pos, s);
      return;
    }
    const len = Buffer.byteLength(s);
    this.room(len);
    this.pos += (this.buf as Utf8Slicing).utf8Write(s, this.pos, len);
  }

  /** A cell holding `s`. */
  text(s: string, flag: number): void {
    this.put(s);
    this.end(flag);
  }

  /** A cell holding `src[start, end)`, which must be well-formed UTF-8 (Canal text). */
  copy(src: Uint8Array, start: number, end: number, flag: number): void {
    const n = end - start;
    if (this.pos + n > this.limit) this.room(n);
    const b = this.buf;
    let p = this.pos;
    if (n < 32) {
      for (let i = start; i < end; i++) b[p++] = src[i]!;
    } else {
      b.set(src.subarray(start, end), p);
      p += n;
    }
    this.pos = p;
    this.end(flag);
  }

  nullCell(): void {
    this.end(Cell.NULL);
  }

  absentCell(): void {
    this.end(Cell.ABSENT);
  }

  /** The flag of ended cell `at`. */
  flag(at: number): number {
    return this.flags[this.base + at]!;
  }

  /** Whether ended cell `at` of `other` holds the same bytes as the current cell so far. */
  sameAsCurrent(other: ImageBuilder, at: number): boolean {
    const ob = other.offsets;
    const os = ob[other.base + at]!;
    const n = ob[other.base + at + 1]! - os;
    const s = this.offsets[this.base + this.cells]!;
    if (this.pos - s !== n) return false;
    const a = this.buf;
    const o = other.buf;
    for (let i = 0; i < n; i++) if (a[s + i] !== o[os + i]) return false;
    return true;
  }

  /** The image built; the builder is not to be used afterwards. */
  finish(): Image {
    const s = this.slab;
    // hand back the unused room when nobody reserved after this builder
    if (s !== undefined) {
      if (s.bytes === this.buf && s.bytesTop === this.limit) s.bytesTop = this.pos;
      if (s.offsets === this.offsets && s.cellsTop === this.base + this.cellLimit + 1) s.cellsTop = this.base + this.cells + 1;
    }
    return new Image(this.buf, this.offsets, this.flags, this.base, this.cells, this.view);
  }
}

/** A rows event's converted cells, with an optional column mask (the sink's column filter). */
export class RowBatch {
  constructor(
    readonly templates: readonly ColumnTemplate[],
    /** column names by index (one array per table map, so its identity names the table map) */
    readonly columnNames: readonly string[],
    readonly before: Image | undefined,
    readonly after: Image | undefined,
    /** 1 = the column is kept; undefined = all */
    readonly keep?: Uint8Array,
  ) {}

  columns(image: Image | undefined, r: number): Column[] {
    if (image === undefined) return [];
    const { templates, keep } = this;
    const width = templates.length;
    const base = r * width;
    const out: Column[] = [];
    for (let c = 0; c < width; c++) {
      const flag = image.flag(base + c);
      if ((flag & WHAT) === Cell.ABSENT || (keep !== undefined && keep[c] === 0)) continue;
      out.push(templates[c]!.column(image.text(base + c), flag));
    }
    return out;
  }

  write(w: ProtoWriter, tag: number, image: Image | undefined, r: number): void {
    if (image === undefined) return;
    const { templates, keep } = this;
    const width = templates.length;
    const base = image.base + r * width;
    const { bytes: src, offsets, flags } = image;
    const sv = image.view;
    for (let c = 0; c < width; c++) {
      const at = base + c;
      const flag = flags[at]!;
      if ((flag & WHAT) === Cell.ABSENT || (keep !== undefined && keep[c] === 0)) continue;
      const t = templates[c]!;
      const head = t.heads[flag & 7]!;
      const tail = t.tail;
      const s = offsets[at]!;
      const e = offsets[at + 1]!;
      const n = e - s;
      const hl = head.length;
      const tl = tail.length;
      const len = hl + 1 + n + tl;
      // The whole cell at once when its lengths fit one byte: one room check, no fork. Head and
      // tail go 4 bytes per store; the padding past their end is overwritten next (or lies past
      // pos), so the room check counts whole words.
      if (len < 128) {
        const hw = t.headWords[flag & 7]!;
        const tw = t.tailWords;
        const room = 3 + 4 * hw.length + n + 4 * tw.length;
        if (w.pos + room > w.buf.length) w.ensure(room);
        const b = w.buf;
        const v = w.view;
        let p = w.pos;
        b[p] = tag;
        b[p + 1] = len;
        p += 2;
        for (let i = 0, q = p; i < hw.length; i++, q += 4) v.setUint32(q, hw[i]!, true);
        p += hl;
        b[p++] = n;
        if (n < 64) {
          // 4 bytes per load and store, the last few one by one
          let i = s;
          for (; i + 4 <= e; i += 4, p += 4) v.setUint32(p, sv.getUint32(i, true), true);
          for (; i < e; i++) b[p++] = src[i]!;
        } else {
          src.copy(b, p, s, e);
          p += n;
        }
        for (let i = 0, q = p; i < tw.length; i++, q += 4) v.setUint32(q, tw[i]!, true);
        w.pos = p + tl;
        continue;
      }
      w.byte(tag);
      w.uint32(hl + varintSize(n) + n + tl);
      w.raw(head);
      w.uint32(n);
      w.ensure(n);
      src.copy(w.buf, w.pos, s, e);
      w.pos += n;
      w.raw(tail);
    }
  }

  /** The same cells with only the columns `keep` marks (combined with any mask already set). */
  masked(keep: Uint8Array): RowBatch {
    const prior = this.keep;
    const mask = prior === undefined ? keep : keep.map((k, i) => (k !== 0 && prior[i] !== 0 ? 1 : 0));
    return new RowBatch(this.templates, this.columnNames, this.before, this.after, mask);
  }
}

/**
 * One row of a batch, as a RowData: serialization writes it from the batch; reading its columns
 * builds them once and from then on they are what gets written (so edits to them count).
 */
export class BatchRow implements SelfWritingRowData {
  private built: { before: Column[]; after: Column[] } | undefined;

  constructor(
    readonly batch: RowBatch,
    readonly row: number,
  ) {}

  private materialize(): { before: Column[]; after: Column[] } {
    this.built ??= { before: this.batch.columns(this.batch.before, this.row), after: this.batch.columns(this.batch.after, this.row) };
    return this.built;
  }

  get materialized(): boolean {
    return this.built !== undefined;
  }

  get beforeColumns(): Column[] {
    return this.materialize().before;
  }

  set beforeColumns(cols: Column[]) {
    this.materialize().before = cols;
  }

  get afterColumns(): Column[] {
    return this.materialize().after;
  }

  set afterColumns(cols: Column[]) {
    this.materialize().after = cols;
  }

  /** Column names by index, for choosing a column mask. */
  get columnNames(): readonly string[] {
    return this.batch.columnNames;
  }

  /** This row limited to the columns `keep` marks (1 per column index), as a new RowData. */
  selectColumns(keep: Uint8Array): RowData {
    if (this.built === undefined) return new BatchRow(this.batch.masked(keep), this.row);
    const pick = (cols: Column[]): Column[] => cols.filter((c) => keep[c.index] !== 0);
    return { beforeColumns: pick(this.built.before), afterColumns: pick(this.built.after) };
  }

  [ROW_WRITER](w: ProtoWriter): void {
    if (this.built !== undefined) {
      writeRowDataObjects(w, { beforeColumns: this.built.before, afterColumns: this.built.after });
      return;
    }
    this.batch.write(w, TAG_BEFORE, this.batch.before, this.row);
    this.batch.write(w, TAG_AFTER, this.batch.after, this.row);
  }

  toJSON(): RowData {
    return { beforeColumns: this.beforeColumns, afterColumns: this.afterColumns };
  }
}
