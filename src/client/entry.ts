// Entries as a consumer wants them: enum names instead of numbers, the header flattened, and
// each row as `before`/`after` maps of column name to the exact Column string (null for NULL).
// Decoding is lazy and reads the entry bytes directly: a consumer's CPU went mostly to
// protobufjs objects and the garbage of per-value Column objects it rarely looks at.
import type { DecodedEntry } from '../protocol/entry-codec.ts';
import { AFTER, BEFORE, ended, entryLayout, readHeader, readTransactionBody, type EntryLayout } from '../protocol/entry-reader.ts';
import { readColumns, readRowValues } from './entry-decoder.ts';
import { fields, tags } from '../protocol/wire-fields.ts';
import { PositionStrings } from './position-strings.ts';
import { asBuffer, WireReader } from '../protocol/wire-reader.ts';
import { EntryType, EntryTypeName as entryTypeNames, EventTypeName as eventTypeNames, type Column, type Header, type Pair } from '../protocol/entry-model.ts';

export type EntryTypeName = 'TRANSACTIONBEGIN' | 'ROWDATA' | 'TRANSACTIONEND' | 'HEARTBEAT' | 'GTIDLOG' | `UNKNOWN_${number}`;
export type EventTypeName =
  | 'INSERT' | 'UPDATE' | 'DELETE' | 'CREATE' | 'ALTER' | 'ERASE' | 'QUERY' | 'TRUNCATE' | 'RENAME'
  | 'CINDEX' | 'DINDEX' | 'GTID' | 'XACOMMIT' | 'XAROLLBACK' | 'MHEARTBEAT' | `UNKNOWN_${number}`;

export type RowValues = Record<string, string | null>;

export interface CanalRow {
  /** DELETE and UPDATE rows; {} for INSERT */
  before: RowValues;
  /** INSERT and UPDATE rows; {} for DELETE */
  after: RowValues;
  /** the Column messages as sent, for sqlType, mysqlType, isKey and updated */
  beforeColumns: Column[];
  afterColumns: Column[];
}

export interface CanalEntry {
  entryType: EntryTypeName;
  logfileName: string;
  /** start offset of the binlog event */
  logfileOffset: number;
  serverId: number;
  /** event time in ms (second precision) */
  executeTime: number;
  eventLength: number;
  schemaName: string;
  tableName: string;
  /** null on transaction begin and end, which carry no event type */
  eventType: EventTypeName | null;
  isDdl: boolean;
  /** the statement text of a DDL or query; '' otherwise */
  sql: string;
  gtid: string;
  /** from a transaction end (or begin) body; '' otherwise */
  transactionId: string;
  /** header props such as rowsCount, as a map */
  props: Record<string, string>;
  rows: CanalRow[];
  /** the header exactly as decoded */
  header: Header;
}

function enumName(names: Record<number, string>, n: number): string {
  return names[n] ?? `UNKNOWN_${n}`;
}

function values(cols: Column[]): RowValues {
  const out: RowValues = {};
  for (const c of cols) out[c.name ?? ''] = c.isNull ? null : (c.value ?? '');
  return out;
}

function propsMap(pairs: Pair[] | undefined): Record<string, string> {
  const props: Record<string, string> = {};
  for (const p of pairs ?? []) props[p.key ?? ''] = p.value ?? '';
  return props;
}

/** Decodes one serialized Canal Entry. Throws on bytes that are not one. */
export function toCanalEntry(bytes: Uint8Array): CanalEntry {
  const buf = asBuffer(bytes);
  return new LazyCanalEntry(buf, 0, buf.length);
}

/**
 * The consumer's view of an entry decoded by either decoder: the reference for toCanalEntry,
 * which must give the same values (test/client/entry.test.ts holds them equal).
 */
export function canalEntryOf(d: DecodedEntry): CanalEntry {
  const h = d.header;
  const rc = d.rowChange;
  const rows: CanalRow[] = (rc?.rowDatas ?? []).map((r) => ({
    before: values(r.beforeColumns),
    after: values(r.afterColumns),
    beforeColumns: r.beforeColumns,
    afterColumns: r.afterColumns,
  }));
  return {
    entryType: enumName(entryTypeNames, d.entryType) as EntryTypeName,
    logfileName: h.logfileName ?? '',
    logfileOffset: h.logfileOffset ?? 0,
    serverId: h.serverId ?? 0,
    executeTime: h.executeTime ?? 0,
    eventLength: h.eventLength ?? 0,
    schemaName: h.schemaName ?? '',
    tableName: h.tableName ?? '',
    // Canal leaves the header's event type unset on begin/end; Java would read UPDATE there,
    // which is meaningless, so absent stays null. ROWDATA takes the RowChange's own type.
    eventType: d.entryType === EntryType.ROWDATA ? (enumName(eventTypeNames, rc?.eventType ?? h.eventType ?? 2) as EventTypeName) : null,
    isDdl: rc?.isDdl ?? false,
    sql: rc?.sql ?? '',
    gtid: h.gtid ?? '',
    transactionId: d.end?.transactionId ?? d.begin?.transactionId ?? '',
    props: propsMap(h.props),
    rows,
    header: h,
  };
}

const HF = fields.Header;
const RCF = fields.RowChange;
const TAG_ROW_DATAS = tags.RowChange.rowDatas;

/** Scratch for the constructor: an entry keeps the layout's numbers, not the object. */
const layout: EntryLayout = { entryType: 0, headerStart: -1, headerEnd: -1, bodyStart: 0, bodyEnd: 0 };

/**
 * The reader of the constructor's header and RowChange fields (one after the other, never
 * nested). readRows has its own: it calls row decoding, which has another.
 */
const headerReader = new WireReader(Buffer.alloc(0), 0, 0);

/** File, schema and table names and GTIDs by header field number: they repeat from entry to entry. */
const headerStrings = new PositionStrings();

/**
 * One row, its value maps built when the entry's rows are first read; the Column messages are
 * read from the retained entry bytes only if asked for. JSON gives all four fields, as for a
 * plain CanalRow.
 */
class LazyCanalRow implements CanalRow {
  readonly #buf: Buffer;
  readonly #start: number;
  readonly #end: number;
  /** end of the row's entry */
  readonly #limit: number;
  #beforeColumns: Column[] | undefined;
  #afterColumns: Column[] | undefined;
  before!: RowValues;
  after!: RowValues;

  constructor(buf: Buffer, start: number, end: number, limit: number) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    this.#limit = limit;
    readRowValues(buf, start, end, this, limit);
  }

  get beforeColumns(): Column[] {
    return (this.#beforeColumns ??= readColumns(this.#buf, this.#start, this.#end, BEFORE, this.#limit));
  }

  set beforeColumns(cols: Column[]) {
    this.#beforeColumns = cols;
  }

  get afterColumns(): Column[] {
    return (this.#afterColumns ??= readColumns(this.#buf, this.#start, this.#end, AFTER, this.#limit));
  }

  set afterColumns(cols: Column[]) {
    this.#afterColumns = cols;
  }

  toJSON(): CanalRow {
    return { before: this.before, after: this.after, beforeColumns: this.beforeColumns, afterColumns: this.afterColumns };
  }
}

/**
 * An entry whose header fields are read at once (with a hand-written reader) and whose rows,
 * props, full header and transaction body are read from the retained bytes on first access.
 * A consumer that only routes on table names, or skips BEGIN/END, pays for nothing else.
 *
 * A batch keeps every entry it decoded for as long as it lives, and a consumer's young-space
 * collections copy (then promote) those of the batch in hand: each field here costs that for
 * every entry. So the entry keeps only where its bytes are (the layout is found again when a
 * lazy part is asked for), and the caches of parts that few read share one object.
 */
class LazyCanalEntry implements CanalEntry {
  readonly #buf: Buffer;
  readonly #start: number;
  /** end of the entry's bytes in #buf */
  readonly #end: number;
  #rows: CanalRow[] | undefined;
  #more: LazyParts | undefined;
  entryType: EntryTypeName;
  logfileName = '';
  logfileOffset = 0;
  serverId = 0;
  executeTime = 0;
  eventLength = 0;
  schemaName = '';
  tableName = '';
  eventType: EventTypeName | null = null;
  isDdl = false;
  sql = '';
  gtid = '';

  /** The entry at buf[start, end). */
  constructor(buf: Buffer, start: number, end: number) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    const l = entryLayout(buf, layout, start, end);
    this.entryType = enumName(entryTypeNames, l.entryType) as EntryTypeName;
    if (l.headerStart >= 0) this.readHeaderFields(l.headerStart, l.headerEnd);
    if (l.entryType === EntryType.ROWDATA) this.readRowChangeFields(l.bodyStart, l.bodyEnd);
    headerReader.release();
  }

  get rows(): CanalRow[] {
    return (this.#rows ??= this.readRows());
  }

  set rows(rows: CanalRow[]) {
    this.#rows = rows;
  }

  get props(): Record<string, string> {
    const more = this.more();
    return (more.props ??= propsMap(this.header.props));
  }

  set props(props: Record<string, string>) {
    this.more().props = props;
  }

  get header(): Header {
    const more = this.more();
    if (more.header === undefined) {
      const l = this.layout();
      more.header = l.headerStart < 0 ? {} : readHeader(this.#buf, l.headerStart, l.headerEnd, this.#end);
    }
    return more.header;
  }

  set header(h: Header) {
    this.more().header = h;
  }

  get transactionId(): string {
    const more = this.more();
    if (more.transactionId === undefined) {
      const l = this.layout();
      const type = l.entryType;
      const body = type === EntryType.TRANSACTIONBEGIN || type === EntryType.TRANSACTIONEND ? readTransactionBody(this.#buf, l.bodyStart, l.bodyEnd, this.#end) : undefined;
      more.transactionId = body?.transactionId ?? '';
    }
    return more.transactionId;
  }

  set transactionId(id: string) {
    this.more().transactionId = id;
  }

  toJSON(): CanalEntry {
    return {
      entryType: this.entryType,
      logfileName: this.logfileName,
      logfileOffset: this.logfileOffset,
      serverId: this.serverId,
      executeTime: this.executeTime,
      eventLength: this.eventLength,
      schemaName: this.schemaName,
      tableName: this.tableName,
      eventType: this.eventType,
      isDdl: this.isDdl,
      sql: this.sql,
      gtid: this.gtid,
      transactionId: this.transactionId,
      props: this.props,
      rows: this.rows,
      header: this.header,
    };
  }

  private more(): LazyParts {
    return (this.#more ??= { props: undefined, header: undefined, transactionId: undefined });
  }

  /** The entry's layout again (the constructor read the same bytes, so this does not throw). */
  private layout(): EntryLayout {
    return entryLayout(this.#buf, layout, this.#start, this.#end);
  }

  /** Only the header fields the flat view carries; props and the rest wait for `header`. */
  private readHeaderFields(start: number, end: number): void {
    const r = headerReader.reset(this.#buf, start, this.#end);
    while (r.pos < end) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case HF.logfileName: this.logfileName = headerStrings.read(r, HF.logfileName); break;
        case HF.logfileOffset: this.logfileOffset = r.int64(); break;
        case HF.serverId: this.serverId = r.int64(); break;
        case HF.executeTime: this.executeTime = r.int64(); break;
        case HF.schemaName: this.schemaName = headerStrings.read(r, HF.schemaName); break;
        case HF.tableName: this.tableName = headerStrings.read(r, HF.tableName); break;
        case HF.eventLength: this.eventLength = r.int64(); break;
        // the same for every entry of a transaction
        case HF.gtid: this.gtid = headerStrings.read(r, HF.gtid); break;
        default: r.skip(tag & 7);
      }
    }
    ended(r, end, 'Header');
  }

  /** RowChange's scalar fields; the rows are only skipped over here. */
  private readRowChangeFields(start: number, end: number): void {
    const r = headerReader.reset(this.#buf, start, this.#end);
    let eventType = 2;
    while (r.pos < end) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case RCF.eventType: eventType = r.int32(); break;
        case RCF.isDdl: this.isDdl = r.bool(); break;
        case RCF.sql: this.sql = r.string(); break;
        default: r.skip(tag & 7);
      }
    }
    ended(r, end, 'RowChange');
    this.eventType = enumName(eventTypeNames, eventType) as EventTypeName;
  }

  private readRows(): CanalRow[] {
    const l = this.layout();
    if (l.entryType !== EntryType.ROWDATA) return [];
    const buf = this.#buf;
    const end = l.bodyEnd;
    const r = new WireReader(buf, l.bodyStart, this.#end);
    const found = rowScratch;
    let n = 0;
    try {
      while (r.pos < end) {
        const tag = r.uint32();
        if (tag === TAG_ROW_DATAS) {
          const rowEnd = r.endOfLength();
          found[n++] = new LazyCanalRow(buf, r.pos, rowEnd, this.#end);
          r.pos = rowEnd;
        } else {
          r.skip(tag & 7);
        }
      }
      ended(r, end, 'RowChange');
      // An array of exactly the rows: one grown by push keeps room for 16 more, for as long as the entry lives.
      return found.slice(0, n) as CanalRow[];
    } finally {
      found.fill(undefined, 0, n);
    }
  }
}

/** Parts of an entry few consumers read, cached together once one is. */
interface LazyParts {
  props: Record<string, string> | undefined;
  header: Header | undefined;
  transactionId: string | undefined;
}

/** readRows collects an entry's rows here before copying them out (rows are never read re-entrantly). */
const rowScratch: (CanalRow | undefined)[] = [];

/** Reads the batch of a MESSAGES body from its entries' spans; set by CanalBatch. */
let spanBatch: (id: number, body: Buffer, starts: readonly number[], ends: readonly number[]) => CanalBatch;

/**
 * A batch whose entry i is body[starts[i], ends[i]), read in place: no Buffer is made for an
 * entry unless `raw` is asked for. For the client, which reads MESSAGES bodies itself.
 */
export function batchOfSpans(id: number, body: Buffer, starts: readonly number[], ends: readonly number[]): CanalBatch {
  return spanBatch(id, body, starts, ends);
}

const NO_ENTRIES: readonly Uint8Array[] = [];

/**
 * One GET result. Entries are decoded on first access and cached; `raw[i]` are the bytes as
 * received, for consumers that forward them or decode only some.
 */
export class CanalBatch implements Iterable<CanalEntry> {
  /** the entries' bytes as separate arrays: given, or made from the spans on first use */
  #raw: readonly Uint8Array[] | undefined;
  /** with spans: entry i is #body[#starts[i], #ends[i]) */
  #body: Buffer | undefined;
  #starts: readonly number[] = [];
  #ends: readonly number[] = [];
  #decoded: (CanalEntry | undefined)[];

  constructor(
    /** -1 for an empty result */
    readonly id: number,
    raw: readonly Uint8Array[],
  ) {
    this.#raw = raw;
    this.#decoded = new Array<CanalEntry | undefined>(raw.length);
  }

  static {
    spanBatch = (id, body, starts, ends) => {
      const b = new CanalBatch(id, NO_ENTRIES);
      b.#raw = undefined;
      b.#body = body;
      b.#starts = starts;
      b.#ends = ends;
      b.#decoded = new Array<CanalEntry | undefined>(starts.length);
      return b;
    };
  }

  get raw(): readonly Uint8Array[] {
    if (this.#raw === undefined) {
      const body = this.#body!;
      const ends = this.#ends;
      this.#raw = this.#starts.map((s, i) => body.subarray(s, ends[i]));
    }
    return this.#raw;
  }

  get size(): number {
    return this.#decoded.length;
  }

  get isEmpty(): boolean {
    return this.#decoded.length === 0;
  }

  /** The i-th entry, decoded now if it was not yet. */
  entry(i: number): CanalEntry {
    let e = this.#decoded[i];
    if (e !== undefined) return e;
    if (!(i >= 0 && i < this.#decoded.length && Number.isInteger(i))) throw new RangeError(`batch ${this.id} has ${this.#decoded.length} entries; there is no entry ${i}`);
    const body = this.#body;
    e = body === undefined ? toCanalEntry(this.#raw![i]!) : new LazyCanalEntry(body, this.#starts[i]!, this.#ends[i]!);
    this.#decoded[i] = e;
    return e;
  }

  /** Every entry, decoded. */
  get entries(): CanalEntry[] {
    const out: CanalEntry[] = [];
    for (let i = 0; i < this.#decoded.length; i++) out.push(this.entry(i));
    return out;
  }

  /** Rows across all entries. */
  get rowCount(): number {
    let n = 0;
    for (const e of this) n += e.rows.length;
    return n;
  }

  *[Symbol.iterator](): Iterator<CanalEntry> {
    for (let i = 0; i < this.#decoded.length; i++) yield this.entry(i);
  }
}
