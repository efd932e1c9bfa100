// The rows of one rows event, converted but not yet turned into Column objects: each cell's
// Canal text and a flag byte, in flat arrays. Serialization writes them straight into the entry
// bytes behind per-column pre-encoded field runs (index, sqlType, name, isKey, updated, isNull
// and the value tag; then mysqlType), built once per table map. Column objects are built only
// when someone reads `beforeColumns` / `afterColumns` (tests, the column filter on a
// materialized row), and then exactly as the table codec has always built them.
import type { Column, RowData } from '../../protocol/entry-model.ts';
import { ROW_WRITER, writeRowDataObjects, type SelfWritingRowData } from '../../protocol/entry-writer.ts';
import { ProtoWriter, SHORT_STRING, writeShortString } from '../../protocol/proto-writer.ts';
import { tags } from '../../protocol/wire-fields.ts';
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

/** One image (before or after) of every row: `texts[r * width + c]`, `flags` alike (NULL cells hold ''). */
export interface Image {
  texts: string[];
  flags: Uint8Array;
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
      const flag = image.flags[base + c]!;
      if ((flag & WHAT) === Cell.ABSENT || (keep !== undefined && keep[c] === 0)) continue;
      out.push(templates[c]!.column(image.texts[base + c]!, flag));
    }
    return out;
  }

  write(w: ProtoWriter, tag: number, image: Image | undefined, r: number): void {
    if (image === undefined) return;
    const { templates, keep } = this;
    const width = templates.length;
    const base = r * width;
    const { texts, flags } = image;
    for (let c = 0; c < width; c++) {
      const flag = flags[base + c]!;
      if ((flag & WHAT) === Cell.ABSENT || (keep !== undefined && keep[c] === 0)) continue;
      const t = templates[c]!;
      const head = t.heads[flag & 7]!;
      const tail = t.tail;
      const text = texts[base + c]!;
      const n = text.length;
      // The whole cell at once when its length surely fits one byte: one room check, no fork.
      // Head and tail go 4 bytes per store; the padding past their end is overwritten next
      // (or lies past pos), so the room check counts whole words.
      if (n < SHORT_STRING && head.length + 1 + 3 * n + tail.length < 128) {
        const hw = t.headWords[flag & 7]!;
        const tw = t.tailWords;
        const room = 3 + 4 * hw.length + 3 * n + 4 * tw.length;
        if (w.pos + room > w.buf.length) w.ensure(room);
        const b = w.buf;
        const v = w.view;
        let p = w.pos;
        b[p] = tag;
        const lenAt = p + 1;
        p += 2;
        for (let i = 0, q = p; i < hw.length; i++, q += 4) v.setUint32(q, hw[i]!, true);
        p += head.length;
        const textAt = p++;
        p = writeShortString(b, v, p, text);
        b[textAt] = p - textAt - 1;
        for (let i = 0, q = p; i < tw.length; i++, q += 4) v.setUint32(q, tw[i]!, true);
        p += tail.length;
        b[lenAt] = p - lenAt - 1;
        w.pos = p;
        continue;
      }
      w.byte(tag);
      const m = w.fork(1);
      w.raw(head);
      w.string(text);
      w.raw(tail);
      w.ldelim(m, 1);
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
