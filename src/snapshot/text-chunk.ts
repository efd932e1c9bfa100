// A chunk's rows from the text protocol's row packets straight into a row batch: each value's
// bytes go from where they lie in the packet into the image's byte arena as the column's Canal
// text (text-values.ts; mostly a copy), with the same column specs and templates a binlog row of
// the table gets. No JavaScript value exists per cell or row (key texts, to match the stream's
// changes, are made from the cells only if a change reaches the chunk: snapshot-feed.ts). Only
// the last row's key values are kept as SQL values (to resume after).
import type { Buffer } from 'node:buffer';
import type { RowData } from '../protocol/entry-model.ts';
import { Kind, type ColumnSpec } from '../parser/columns/column-spec.ts';
import { BatchRow, Cell, ColumnTemplate, ImageBuilder, RowBatch } from '../parser/columns/row-batch.ts';
import type { TimestampRenderer } from '../parser/columns/temporal.ts';
import { textCell, textReader, type TextReader } from '../parser/columns/text-values.ts';
import type { KeyValue } from './chunk-reader.ts';
import { isNullValue, lenencSize, lenencValue } from './text-query.ts';

/** What reading a table's rows from text needs, built once per table shape. */
export interface TextShape {
  readers: TextReader[];
  templates: ColumnTemplate[];
  /** column names by index (one array per shape: row-keys caches by its identity) */
  names: string[];
  /** the key columns' indexes, in key order */
  keyIndexes: number[];
  /** per key column: its value as bytes ({hex}) rather than text when resuming after it */
  keyBytes: boolean[];
  /** per key column: a number, written as digits when resuming after it */
  keyNumeric: boolean[];
  /** bytes per row of the last chunk, to size the next one's arena */
  rowBytes: number;
}

/** The text shape of a table, or undefined when a column's text is not its binlog text (FLOAT, DOUBLE). */
export function textShape(specs: readonly ColumnSpec[], keyColumns: readonly string[], where: string, timestamps: TimestampRenderer): TextShape | undefined {
  const readers: TextReader[] = [];
  for (const spec of specs) {
    const r = textReader(spec, `${where}.${spec.name}`, timestamps);
    if (r === undefined) return undefined;
    readers.push(r);
  }
  const names = specs.map((s) => s.name);
  const keyIndexes = keyColumns.map((k) => names.indexOf(k));
  if (keyIndexes.some((i) => i < 0)) return undefined;
  return {
    readers,
    templates: specs.map((s) => new ColumnTemplate(s)),
    names,
    keyIndexes,
    keyBytes: keyIndexes.map((i) => specs[i]!.kind === Kind.BYTES || specs[i]!.kind === Kind.BIT),
    keyNumeric: keyIndexes.map((i) => NUMERIC.has(specs[i]!.kind)),
    rowBytes: 16 * specs.length,
  };
}

const WRITTEN = Cell.UPDATED;
/** rows the arena is first sized for */
const FIRST_ROWS = 4096;
const NUMERIC = new Set<number>([Kind.INT, Kind.BIGINT, Kind.DECIMAL, Kind.YEAR]);

/** The rows of one chunk as they arrive; `row` is the callback for queryRows. */
export class TextRows {
  count = 0;
  private readonly out: ImageBuilder;
  private lastBuffer: Buffer | undefined;
  private lastStart = 0;

  constructor(
    readonly shape: TextShape,
    /** the chunk's LIMIT */
    readonly size: number,
  ) {
    // room for the rows expected (the arena grows past it): a large chunk size over a few rows
    // allocates no more than those need
    const rows = Math.min(size, FIRST_ROWS);
    this.out = new ImageBuilder(rows * shape.readers.length, rows * shape.rowBytes);
  }

  readonly row = (b: Buffer, start: number, end: number): void => {
    const readers = this.shape.readers;
    const width = readers.length;
    if (this.count >= this.size) throw new Error(`the chunk query returned more than its ${this.size} rows`);
    const out = this.out;
    let p = start;
    for (let i = 0; i < width; i++) {
      if (p >= end) throw new Error(`a row of ${width} columns ended after ${i}`);
      if (isNullValue(b, p)) {
        p++;
        out.end(Cell.NULL | WRITTEN);
        continue;
      }
      const len = lenencValue(b, p);
      p += lenencSize(b, p);
      if (p + len > end) throw new Error(`a value of ${len} bytes runs past its row`);
      readers[i]!(b, p, p + len, out);
      out.end((textCell.promoted ? Cell.PROMOTED : Cell.VALUE) | WRITTEN);
      p += len;
    }
    this.lastBuffer = b;
    this.lastStart = start;
    this.count++;
  };

  /** The rows as RowData, written from the batch's cells as binlog INSERT rows are. */
  rowDatas(): RowData[] {
    if (this.count > 0) this.shape.rowBytes = Math.ceil((this.out.pos / this.count) * 1.1);
    const image = this.out.finish();
    const batch = new RowBatch(this.shape.templates, this.shape.names, undefined, image);
    const out: RowData[] = new Array(this.count);
    for (let r = 0; r < this.count; r++) out[r] = new BatchRow(batch, r);
    return out;
  }

  /** The last row's key as values to resume after (numbers and text as text, binary as hex); undefined without rows. */
  lastKey(): KeyValue[] | undefined {
    const b = this.lastBuffer;
    if (b === undefined) return undefined;
    const values: (KeyValue | undefined)[] = [];
    let p = this.lastStart;
    const { keyIndexes, keyBytes } = this.shape;
    const wanted = Math.max(...keyIndexes);
    for (let i = 0; i <= wanted; i++) {
      let value: KeyValue | undefined;
      const k = keyIndexes.indexOf(i);
      if (isNullValue(b, p)) {
        p++;
        value = null;
      } else {
        const len = lenencValue(b, p);
        p += lenencSize(b, p);
        if (k >= 0) value = keyBytes[k] ? { hex: b.toString('hex', p, p + len) } : b.toString('utf8', p, p + len);
        p += len;
      }
      if (k >= 0) values[k] = value;
    }
    return values as KeyValue[];
  }
}
