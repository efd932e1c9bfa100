// The reading half of the Canal Entry codec (entry-writer.ts is the writing half): Entry,
// Header, RowChange, RowData, Column, TransactionBegin/End and Pair messages read straight from
// their bytes, producing exactly what entry-codec.ts's decodeEntry (protobufjs) produces
// (property tests hold them equal) without protobufjs's reader, message and Long objects.
// Fields appear in a result only when they are on the wire. Field numbers come from the .proto
// files (wire-fields.ts). The client's lazy entry view (client/entry.ts) reads through these.
import type { DecodedEntry } from './entry-codec.ts';
import { EntryType, type Column, type Header, type Pair, type RowChange, type RowData, type TransactionBegin, type TransactionEnd } from './entry-model.ts';
import { fields, tags } from './wire-fields.ts';
import { asBuffer, WireReader } from './wire-reader.ts';

const EF = fields.Entry;
const HF = fields.Header;
const CF = fields.Column;
const RF = fields.RowData;
const RCF = fields.RowChange;
const TF = fields.TransactionBegin;
const PF = fields.Pair;
const TAG_HEADER = tags.Entry.header;
const TAG_ENTRY_TYPE = tags.Entry.entryType;
const TAG_STORE_VALUE = tags.Entry.storeValue;

/** Field numbers of RowData's two column lists. */
export const BEFORE = RF.beforeColumns as 1;
export const AFTER = RF.afterColumns as 2;

/**
 * A message's last field must end where the message does: one that runs past it (into the
 * fields of the message around it) is malformed, though protobufjs reads on.
 */
export function ended(r: WireReader, end: number, what: string): void {
  if (r.pos !== end) throw new RangeError(`${what} field runs past the end of its message (offset ${r.pos} of ${end})`);
}

function pair(r: WireReader, end: number): Pair {
  const p = {} as Pair;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case PF.key: p.key = r.string(); break;
      case PF.value: p.value = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  ended(r, end, 'Pair');
  return p;
}

/** A repeated Pair field's next element. */
function pushPair(list: Pair[] | undefined, r: WireReader): Pair[] {
  const out = list ?? [];
  out.push(pair(r, r.endOfLength()));
  return out;
}

/** A string field read through a cache keyed by position (client/position-strings.ts). */
export interface PositionedStrings {
  read(r: WireReader, position: number): string;
}

/** Strings that repeat at each column position of a table's rows (names, MySQL types). */
export interface ColumnStrings {
  names: PositionedStrings;
  mysqlTypes: PositionedStrings;
}

/**
 * The Header message at [start, end). `limit` (here and below): the end of the entry the
 * message is in, which no length inside it may run past.
 */
export function readHeader(buf: Buffer, start: number, end: number, limit = buf.length): Header {
  const r = new WireReader(buf, start, limit);
  const h: Header = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case HF.version: h.version = r.int32(); break;
      case HF.logfileName: h.logfileName = r.string(); break;
      case HF.logfileOffset: h.logfileOffset = r.int64(); break;
      case HF.serverId: h.serverId = r.int64(); break;
      case HF.serverenCode: h.serverenCode = r.string(); break;
      case HF.executeTime: h.executeTime = r.int64(); break;
      case HF.sourceType: h.sourceType = r.int32(); break;
      case HF.schemaName: h.schemaName = r.string(); break;
      case HF.tableName: h.tableName = r.string(); break;
      case HF.eventLength: h.eventLength = r.int64(); break;
      case HF.eventType: h.eventType = r.int32() as Header['eventType']; break;
      case HF.props: h.props = pushPair(h.props, r); break;
      case HF.gtid: h.gtid = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  ended(r, end, 'Header');
  return h;
}

/** One Column message ending at `end`; names and MySQL types through `strings` when given. */
export function readColumn(r: WireReader, end: number, strings?: ColumnStrings, position = 0): Column {
  const c = {} as Column;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case CF.index: c.index = r.int32(); break;
      case CF.sqlType: c.sqlType = r.int32(); break;
      case CF.name: c.name = strings === undefined ? r.string() : strings.names.read(r, position); break;
      case CF.isKey: c.isKey = r.bool(); break;
      case CF.updated: c.updated = r.bool(); break;
      case CF.isNull: c.isNull = r.bool(); break;
      case CF.props: c.props = pushPair(c.props, r); break;
      case CF.value: c.value = r.string(); break;
      case CF.length: c.length = r.int32(); break;
      case CF.mysqlType: c.mysqlType = strings === undefined ? r.string() : strings.mysqlTypes.read(r, position); break;
      default: r.skip(tag & 7);
    }
  }
  ended(r, end, 'Column');
  return c;
}

function rowData(r: WireReader, end: number): RowData {
  const d: RowData = { beforeColumns: [], afterColumns: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case BEFORE: d.beforeColumns.push(readColumn(r, r.endOfLength())); break;
      case AFTER: d.afterColumns.push(readColumn(r, r.endOfLength())); break;
      case RF.props: d.props = pushPair(d.props, r); break;
      default: r.skip(tag & 7);
    }
  }
  ended(r, end, 'RowData');
  return d;
}

function rowChange(r: WireReader, end: number): RowChange {
  const rc: Partial<RowChange> & { rowDatas: RowData[] } = { rowDatas: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case RCF.tableId: rc.tableId = r.int64(); break;
      case RCF.eventType: rc.eventType = r.int32() as RowChange['eventType']; break;
      case RCF.isDdl: rc.isDdl = r.bool(); break;
      case RCF.sql: rc.sql = r.string(); break;
      case RCF.rowDatas: rc.rowDatas.push(rowData(r, r.endOfLength())); break;
      case RCF.props: rc.props = pushPair(rc.props, r); break;
      case RCF.ddlSchemaName: rc.ddlSchemaName = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  // Canal's proto2 defaults, as decodeEntry applies them.
  ended(r, end, 'RowChange');
  return { ...rc, eventType: rc.eventType ?? 2, isDdl: rc.isDdl ?? false } as RowChange;
}

export type TransactionBody = TransactionBegin & TransactionEnd & { executeTime?: number };

// TransactionEnd is TransactionBegin without threadId: one reader serves both.
for (const f of ['executeTime', 'transactionId', 'props'] as const) {
  if (fields.TransactionEnd[f] !== TF[f]) throw new Error(`entry-reader.ts: TransactionEnd.${f} is not TransactionBegin.${f}; readTransactionBody needs a reader per message`);
}

/** The TransactionBegin or TransactionEnd message at [start, end). */
export function readTransactionBody(buf: Buffer, start: number, end: number, limit = buf.length): TransactionBody {
  const r = new WireReader(buf, start, limit);
  const t: TransactionBody = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case TF.executeTime: t.executeTime = r.int64(); break;
      case TF.transactionId: t.transactionId = r.string(); break;
      case TF.props: t.props = pushPair(t.props, r); break;
      case TF.threadId: t.threadId = r.int64(); break;
      default: r.skip(tag & 7);
    }
  }
  ended(r, end, 'TransactionBegin/End');
  return t;
}

/** Where an Entry's parts are: its type and the [start, end) of its header and storeValue. */
export interface EntryLayout {
  /** absent on the wire reads as ROWDATA (Canal's proto2 default) */
  entryType: number;
  /** -1 when the entry has no header */
  headerStart: number;
  headerEnd: number;
  /** an entry without storeValue has an empty one */
  bodyStart: number;
  bodyEnd: number;
}

/** One reader for entryLayout, which is called once per entry and never re-entered. */
const layoutReader = new WireReader(Buffer.alloc(0), 0, 0);

/**
 * Finds the parts of the Entry at buf[start, end) without decoding them, into `out` (a caller
 * decoding many entries reuses one). Throws on bytes that are not an Entry. An entry without
 * storeValue gets an empty one at `start`.
 */
export function entryLayout(buf: Buffer, out: EntryLayout, start = 0, end = buf.length): EntryLayout {
  const r = layoutReader.reset(buf, start, end);
  out.entryType = EntryType.ROWDATA;
  out.headerStart = out.headerEnd = -1;
  out.bodyStart = out.bodyEnd = start;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case TAG_HEADER: out.headerEnd = r.endOfLength(); out.headerStart = r.pos; r.pos = out.headerEnd; break;
      case TAG_ENTRY_TYPE: out.entryType = r.int32(); break;
      case TAG_STORE_VALUE: out.bodyEnd = r.endOfLength(); out.bodyStart = r.pos; r.pos = out.bodyEnd; break;
      default: {
        const field = tag >>> 3;
        if (field === EF.header || field === EF.entryType || field === EF.storeValue) throw new Error(`Entry field ${field} has wire type ${tag & 7} at offset ${r.pos}`);
        r.skip(tag & 7);
      }
    }
  }
  r.release();
  return out;
}

/** decodeEntry, faster. Throws on bytes that are not a protobuf message. */
export function readEntry(bytes: Uint8Array): DecodedEntry {
  const buf = asBuffer(bytes);
  const l = entryLayout(buf, { entryType: 0, headerStart: 0, headerEnd: 0, bodyStart: 0, bodyEnd: 0 });
  const type = l.entryType as EntryType;
  const out: DecodedEntry = { entryType: type, header: l.headerStart < 0 ? {} : readHeader(buf, l.headerStart, l.headerEnd) };
  if (type === EntryType.ROWDATA) out.rowChange = rowChange(new WireReader(buf, l.bodyStart, buf.length), l.bodyEnd);
  else if (type === EntryType.TRANSACTIONBEGIN) out.begin = readTransactionBody(buf, l.bodyStart, l.bodyEnd);
  else if (type === EntryType.TRANSACTIONEND) out.end = readTransactionBody(buf, l.bodyStart, l.bodyEnd);
  return out;
}
