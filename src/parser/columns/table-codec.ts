// Column conversion for one table map: zongji's decoded rows into Canal's RowData, with every
// Column field filled the way Canal fills it (value text and sqlType rules: docs/client.md, Entries).
import { Buffer } from 'node:buffer';
import type { ColumnInfo, ColumnSchema, TableMapEntry } from '../../binlog/table-map.ts';
import { cell, cellReader, type CellReader } from './cell-readers.ts';
import type { RowData } from '../../protocol/entry-model.ts';
import { bitValue, latin1, wellFormed } from './bytes.ts';
import { BinlogType, buildColumnSpec, Kind, type ColumnSpec } from './column-spec.ts';
import { canalDecimal } from './decimal.ts';
import { EnumIndex, SetMask } from './enum-set.ts';
import { javaDoubleToString, javaFloatToString } from './java-number.ts';
import { formatInet4, formatInet6, formatUuid } from './mariadb-types.ts';
import { datetime2Size, datetime2Text, decimalSize, decimalText, keepRawBytes, originalColumn } from './raw-values.ts';
import { BatchRow, Cell, ColumnTemplate, ImageBuilder, RowBatch } from './row-batch.ts';
import { canalYear, TimestampRenderer } from './temporal.ts';
import type { ColumnFormatOptions, RowImages, TableCodec, TableMapInput, TableMeta } from './types.ts';

const BIGINT_SIGNED_MAX = '9223372036854775807';

/**
 * zongji parses GEOMETRY values into {x,y} objects and loses SRID, type and bytes; Canal sends
 * the stored bytes (SRID + WKB). Retyping the cached column as a BLOB with the same length
 * prefix makes zongji hand over those bytes as a Buffer. zongji rebuilds the entry on every
 * TableMap event and decodes the next rows event right after emitting it, so this must run
 * synchronously in zongji's 'binlog' listener for every 'tablemap' event. buildTableCodec calls
 * it too, which covers only the table maps it is called for. Idempotent.
 */
export function keepGeometryBytes(entry: TableMapEntry): void {
  const columns = entry.columns ?? [];
  for (const column of columns) {
    if (column.type === BinlogType.GEOMETRY) column.type = BinlogType.BLOB;
  }
}

function bigintAboveSigned(v: unknown): boolean {
  if (typeof v !== 'string' || v.charCodeAt(0) === 45) return false;
  return v.length > BIGINT_SIGNED_MAX.length || (v.length === BIGINT_SIGNED_MAX.length && v > BIGINT_SIGNED_MAX);
}

/** A short description of an unexpected value for an error message. */
function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  const text = value === null || typeof value !== 'object' ? `${typeof value} ${String(value)}` : `an object ${JSON.stringify(value)}`;
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** Converts one column's values; everything value-independent is decided in the constructor. */
class ColumnCodec {
  readonly spec: ColumnSpec;
  private readonly where: string;
  private readonly timestamps: TimestampRenderer | undefined;
  private readonly enumIndex: EnumIndex | undefined;
  private readonly setMask: SetMask | undefined;
  /** DECIMAL: precision, and the stored size (0: zongji gives text only) */
  private readonly precision: number;
  private readonly decimalBytes: number;
  /** DATETIME2: fsp, and the stored size (0: zongji gives text only) */
  private readonly fsp: number | undefined;
  private readonly datetimeBytes: number;

  constructor(spec: ColumnSpec, where: string, timestamps: TimestampRenderer, column?: NonNullable<TableMapEntry['columns']>[number]) {
    this.spec = spec;
    const md = column?.metadata as { precision?: unknown; decimals?: unknown } | undefined;
    const decimalBytes = column?.type === BinlogType.NEWDECIMAL ? decimalSize(md?.precision, md?.decimals) : undefined;
    this.precision = decimalBytes !== undefined ? (md!.precision as number) : 0;
    this.decimalBytes = decimalBytes ?? 0;
    const datetimeBytes = column?.type === BinlogType.DATETIME2 ? datetime2Size(md?.decimals) : undefined;
    this.fsp = datetimeBytes !== undefined ? (md?.decimals as number | undefined) : undefined;
    this.datetimeBytes = datetimeBytes ?? 0;
    this.where = `${where}.${spec.name}`;
    this.timestamps = spec.kind === Kind.TIMESTAMP ? timestamps : undefined;
    this.enumIndex = spec.kind === Kind.ENUM ? new EnumIndex(this.where, spec.values) : undefined;
    this.setMask = spec.kind === Kind.SET ? new SetMask(this.where, spec.values) : undefined;
  }

  private unexpected(value: unknown): Error {
    return new Error(`column ${this.where} (${this.spec.mysqlType}): cannot convert ${describe(value)}`);
  }

  private bytes(value: unknown): Buffer {
    if (Buffer.isBuffer(value)) return value;
    if (this.spec.geometry) {
      throw new Error(
        `column ${this.where} (${this.spec.mysqlType}): zongji decoded the geometry without its bytes; ` +
          "call keepGeometryBytes(event.tableMap[event.tableId]) in zongji's 'binlog' listener for every TableMap event",
      );
    }
    throw this.unexpected(value);
  }

  /** Set by text(): the value needs the promoted sqlType (unsigned above the signed range). */
  promoted = false;

  /** The column's Canal text of a value, or null for NULL; sets `promoted`. */
  text(value: unknown): string | null {
    const s = this.spec;
    this.promoted = false;
    // ENUM's invalid value '' arrives as undefined: a value (index 0), not NULL
    if (value === null || (value === undefined && s.kind !== Kind.ENUM)) return null;
    let text: string;
    switch (s.kind) {
      case Kind.INT:
        if (typeof value !== 'number') throw this.unexpected(value);
        if (s.unsigned && value > s.signedMax) this.promoted = true;
        text = String(value);
        break;
      case Kind.BIGINT:
        if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'bigint') throw this.unexpected(value);
        text = String(value);
        if (s.unsigned && bigintAboveSigned(text)) this.promoted = true;
        break;
      case Kind.DECIMAL:
        // stored bytes after keepRawBytes, zongji's text otherwise
        if (typeof value === 'object' && this.decimalBytes > 0 && Buffer.isBuffer(value) && value.length === this.decimalBytes) {
          text = canalDecimal(decimalText(value, this.precision, s.scale), s.scale);
          break;
        }
        if (typeof value !== 'string' && typeof value !== 'number') throw this.unexpected(value);
        text = canalDecimal(String(value), s.scale);
        break;
      case Kind.FLOAT:
        if (typeof value !== 'number') throw this.unexpected(value);
        text = javaFloatToString(value);
        break;
      case Kind.DOUBLE:
        if (typeof value !== 'number') throw this.unexpected(value);
        text = javaDoubleToString(value);
        break;
      case Kind.BIT:
        text = bitValue(this.bytes(value));
        break;
      case Kind.TEMPORAL_TEXT:
        if (typeof value === 'object' && this.datetimeBytes > 0 && Buffer.isBuffer(value) && value.length === this.datetimeBytes) {
          text = datetime2Text(value, this.fsp);
          break;
        }
        if (typeof value !== 'string') throw this.unexpected(value);
        text = value;
        break;
      case Kind.TIMESTAMP:
        if (typeof value !== 'string') throw this.unexpected(value);
        text = this.timestamps!.render(value);
        break;
      case Kind.YEAR:
        if (typeof value !== 'number') throw this.unexpected(value);
        text = canalYear(value);
        break;
      case Kind.TEXT:
      case Kind.JSON:
        if (typeof value !== 'string') throw this.unexpected(value);
        text = wellFormed(value);
        break;
      case Kind.BYTES:
        text = latin1(this.bytes(value));
        break;
      case Kind.ENUM:
        text = this.enumIndex!.index(value);
        break;
      case Kind.SET:
        if (typeof value !== 'string') throw this.unexpected(value);
        text = this.setMask!.mask(value);
        break;
      case Kind.UUID:
        // without FULL metadata zongji already prints these as text
        text = typeof value === 'string' ? value : formatUuid(this.bytes(value));
        break;
      case Kind.INET4:
        text = typeof value === 'string' ? value : formatInet4(this.bytes(value));
        break;
      case Kind.INET6:
        text = typeof value === 'string' ? value : formatInet6(this.bytes(value));
        break;
    }
    return text;
  }
}

function isPresent(bitmap: Buffer | undefined, i: number): boolean {
  return bitmap === undefined || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
}

const BIT_COUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v !== 0; v >>= 1) n += v & 1;
  return n;
});

class RowsCodec implements TableCodec {
  readonly schema: string;
  readonly table: string;
  readonly tableId: number;
  readonly columns: readonly ColumnCodec[];
  private readonly templates: readonly ColumnTemplate[];
  private readonly names: readonly string[];
  /** what the cell readers are built from, once the first rows event is read from its bytes */
  private readonly sources: { column: ColumnInfo; schema: ColumnSchema }[];
  private readonly timestamps: TimestampRenderer;
  private readers: CellReader[] | undefined;

  constructor(input: TableMapInput, columns: ColumnCodec[], sources: { column: ColumnInfo; schema: ColumnSchema }[], timestamps: TimestampRenderer) {
    this.schema = input.schemaName;
    this.table = input.tableName;
    this.tableId = input.tableId;
    this.columns = columns;
    this.templates = columns.map((c) => new ColumnTemplate(c.spec));
    this.names = columns.map((c) => c.spec.name);
    this.sources = sources;
    this.timestamps = timestamps;
  }

  private cellReaders(): CellReader[] {
    this.readers ??= this.sources.map(({ column, schema }, i) =>
      cellReader(column, schema, this.columns[i]!.spec, { where: `${this.schema}.${this.table}.${this.columns[i]!.spec.name}`, timestamps: this.timestamps }),
    );
    return this.readers;
  }

  /**
   * Reads one row image at b[p] into the next `width` cells of `image` and returns the offset
   * after it. With `before` (the before image, one row ahead), each cell's updated flag says
   * whether it differs from the before image; otherwise every cell gets `updated`.
   */
  private readImage(b: Buffer, p: number, end: number, present: Buffer, presentBits: number, image: ImageBuilder, updated: boolean, before?: ImageBuilder): number {
    const readers = this.readers!;
    const width = readers.length;
    const nullBytes = (presentBits + 7) >> 3;
    if (p + nullBytes > end) throw new Error(`rows event of ${this.schema}.${this.table}: the row image ends inside a row's NULL bitmap`);
    const nullAt = p;
    p += nullBytes;
    let nullIndex = 0;
    for (let i = 0; i < width; i++) {
      if (((present[i >> 3] ?? 0) & (1 << (i & 7))) === 0) {
        image.end(Cell.ABSENT);
        continue;
      }
      const isNull = (b[nullAt + (nullIndex >> 3)]! & (1 << (nullIndex & 7))) !== 0;
      nullIndex++;
      let flag = Cell.NULL as number;
      if (!isNull) {
        cell.isNull = false;
        p = readers[i]!(b, p, end, image);
        if (cell.isNull) image.rewind();
        else flag = cell.promoted ? Cell.PROMOTED : Cell.VALUE;
      }
      if (before !== undefined) {
        if (changed(before, image, flag)) flag |= Cell.UPDATED;
      } else if (updated) {
        flag |= Cell.UPDATED;
      }
      image.end(flag);
    }
    return p;
  }

  decodeRows(kind: 'writerows' | 'updaterows' | 'deleterows', images: RowImages): RowData[] {
    this.cellReaders();
    const { buf: b, start, end, present } = images;
    const presentAfter = images.presentAfter ?? present;
    let bits = 0;
    for (let i = 0; i < present.length; i++) bits += BIT_COUNT[present[i]!]!;
    let bitsAfter = bits;
    if (presentAfter !== present) {
      bitsAfter = 0;
      for (let i = 0; i < presentAfter.length; i++) bitsAfter += BIT_COUNT[presentAfter[i]!]!;
    }
    // First guesses: a row's text about twice its stored bytes, one row of cells to start with.
    const size = end - start;
    const width = this.readers!.length;
    const builder = (share: number): ImageBuilder => new ImageBuilder(width * 4, size * share + 64);
    const before = kind === 'writerows' ? undefined : builder(kind === 'updaterows' ? 1 : 2);
    const after = kind === 'deleterows' ? undefined : builder(kind === 'updaterows' ? 1 : 2);
    let p = start;
    let r = 0;
    while (p < end) {
      const from = p;
      if (kind === 'writerows') p = this.readImage(b, p, end, present, bits, after!, true);
      else if (kind === 'deleterows') p = this.readImage(b, p, end, present, bits, before!, false);
      else {
        p = this.readImage(b, p, end, present, bits, before!, false);
        p = this.readImage(b, p, end, presentAfter, bitsAfter, after!, false, before);
      }
      if (p === from) throw new Error(`rows event of ${this.schema}.${this.table}: a row image of no bytes`);
      r++;
    }
    const batch = new RowBatch(this.templates, this.names, before?.finish(), after?.finish());
    const out: RowData[] = new Array(r);
    for (let i = 0; i < r; i++) out[i] = new BatchRow(batch, i);
    return out;
  }

  /**
   * Converts one row object into the next `width` cells of `image`. With `before`, each cell's
   * updated flag says whether it differs from the before image (a column the before image lacks
   * counts as updated); otherwise every cell gets `updated`.
   */
  private fill(row: unknown, present: Buffer | undefined, image: ImageBuilder, updated: boolean, before?: ImageBuilder): void {
    if (row === null || typeof row !== 'object') throw new Error(`rows event of ${this.schema}.${this.table}: a row is ${describe(row)}, not an object`);
    const values = row as Record<string, unknown>;
    const width = this.columns.length;
    for (let i = 0; i < width; i++) {
      if (!isPresent(present, i)) {
        image.end(Cell.ABSENT);
        continue;
      }
      const codec = this.columns[i]!;
      const text = codec.text(values[codec.spec.name]);
      let flag: number;
      if (text === null) {
        flag = Cell.NULL;
      } else {
        image.put(text);
        flag = codec.promoted ? Cell.PROMOTED : Cell.VALUE;
      }
      if (before !== undefined) {
        if (changed(before, image, flag)) flag |= Cell.UPDATED;
      } else if (updated) {
        flag |= Cell.UPDATED;
      }
      image.end(flag);
    }
  }

  toRowDatas(kind: 'writerows' | 'updaterows' | 'deleterows', rows: readonly unknown[], present?: Buffer, presentAfter?: Buffer): RowData[] {
    const count = rows.length;
    const cells = count * this.columns.length;
    const before = kind === 'writerows' ? undefined : new ImageBuilder(cells);
    const after = kind === 'deleterows' ? undefined : new ImageBuilder(cells);
    for (let r = 0; r < count; r++) {
      const row = rows[r];
      if (kind === 'writerows') {
        this.fill(row, present, after!, true);
      } else if (kind === 'deleterows') {
        this.fill(row, present, before!, false);
      } else {
        const pair = row as { before?: unknown; after?: unknown } | null;
        if (pair === null || typeof pair !== 'object' || !('before' in pair) || !('after' in pair)) {
          throw new Error(`update rows event of ${this.schema}.${this.table}: a row is ${describe(row)}, not {before, after}`);
        }
        this.fill(pair.before, present, before!, false);
        this.fill(pair.after, presentAfter ?? present, after!, false, before);
      }
    }
    const batch = new RowBatch(this.templates, this.names, before?.finish(), after?.finish());
    const out: RowData[] = new Array(count);
    for (let r = 0; r < count; r++) out[r] = new BatchRow(batch, r);
    return out;
  }
}

/**
 * Whether the after image's current cell (flag `flag` once ended) differs from the same cell of
 * the before image: a cell the before image lacks counts as changed, NULL differs from any value.
 */
function changed(before: ImageBuilder, after: ImageBuilder, flag: number): boolean {
  const at = after.cells;
  const bf = before.flag(at) & 3;
  if (bf === Cell.ABSENT || (bf === Cell.NULL) !== ((flag & 3) === Cell.NULL)) return true;
  return !after.sameAsCurrent(before, at);
}

const renderers = new Map<string, TimestampRenderer>();

function rendererFor(zone: string): TimestampRenderer {
  let r = renderers.get(zone);
  if (r === undefined) {
    r = new TimestampRenderer(zone);
    renderers.set(zone, r);
  }
  return r;
}

/**
 * Builds the codec of one table map. `input` is zongji's TableMapEvent (see TableMapInput);
 * `meta` is the table as INFORMATION_SCHEMA describes it now (undefined if unknown or dropped).
 * Also makes zongji keep GEOMETRY bytes for this table (keepGeometryBytes).
 */
export function buildTableCodec(input: TableMapInput, meta: TableMeta | undefined, opts: ColumnFormatOptions): TableCodec {
  const entry = input.tableMap[input.tableId];
  const where = `${input.schemaName}.${input.tableName}`;
  if (entry?.columns === undefined) throw new Error(`table map of ${where} (table id ${input.tableId}) has no decoded columns in zongji's cache`);
  keepGeometryBytes(entry);
  keepRawBytes(entry);
  const columns = entry.columns.map(originalColumn);

  // The key as the event was written (FULL metadata) beats the key the table has now.
  let keyOrdinals: Set<number>;
  if (input.columnNames !== undefined) {
    keyOrdinals = new Set(input.primaryKey ?? []);
  } else {
    const keyNames = new Set(meta?.primaryKey ?? []);
    keyOrdinals = new Set(columns.flatMap((c, i) => (keyNames.has(c.name) ? [i] : [])));
  }

  const timestamps = rendererFor(opts.timezone);
  const codecs = columns.map(
    (column, i) => new ColumnCodec(buildColumnSpec(i, column, entry.columnSchemas[i], keyOrdinals.has(i), meta), where, timestamps, column),
  );
  const sources = columns.map((column, i) => ({ column, schema: entry.columnSchemas[i]! }));
  return new RowsCodec(input, codecs, sources, timestamps);
}
