// Hand-written Canal Entry serialization (proto/canal_entry.proto), byte for byte what protobufjs's
// reflection encoder produced: fields in field-number order, each written when its value is not
// null/undefined (proto3 defaults included), repeated fields only when non-empty. Row data that
// knows how to write itself (ROW_WRITER, the parser's row batches) skips the Column objects.
import type { Buffer } from 'node:buffer';
import { EntryType, type Column, type Header, type Pair, type ParsedEntry, type RowChange, type RowData } from './entry-model.ts';
import { ProtoWriter } from './proto-writer.ts';
import { varintSize } from './varint.ts';
import { tags } from './wire-fields.ts';

/** Method of a RowData that writes its own message body (beforeColumns, afterColumns, props). */
export const ROW_WRITER = Symbol('sluice.rowWriter');

export interface SelfWritingRowData extends RowData {
  [ROW_WRITER](w: ProtoWriter): void;
}

// Wire tags, from the .proto files (wire-fields.ts).
const E = tags.Entry;
const H = tags.Header;
const C = tags.Column;
const R = tags.RowData;
const RC = tags.RowChange;
const TX = tags.TransactionBegin;
// TransactionEnd is TransactionBegin without threadId: one writer serves both (writeBeginOrEnd).
for (const f of ['executeTime', 'transactionId', 'props'] as const) {
  if (tags.TransactionEnd[f] !== TX[f]) throw new Error(`entry-writer.ts: TransactionEnd.${f} is not TransactionBegin.${f}; writeBeginOrEnd needs a writer per message`);
}
const P = tags.Pair;

function writePairs(w: ProtoWriter, tag: number, pairs: Pair[] | undefined): void {
  if (pairs == null || pairs.length === 0) return;
  for (const p of pairs) {
    w.byte(tag);
    const m = w.fork(1);
    if (p.key != null) {
      w.byte(P.key);
      w.string(p.key);
    }
    if (p.value != null) {
      w.byte(P.value);
      w.string(p.value);
    }
    w.ldelim(m, 1);
  }
}

/**
 * The encoded bytes of a run of consecutive header fields whose values repeat entry after entry
 * (file name, server id and encoding, source type and names), kept as little-endian words so a
 * run is laid down 4 bytes per store; the padding past its end is overwritten by what follows
 * (or lies past pos).
 */
interface Run {
  n: number;
  words: Uint32Array;
}

const runScratch = new ProtoWriter(1024);

function makeRun(write: (w: ProtoWriter) => void): Run {
  const s = runScratch;
  s.reset();
  write(s);
  const n = s.pos;
  const padded = new Uint8Array((n + 3) & ~3);
  padded.set(s.buf.subarray(0, n));
  const dv = new DataView(padded.buffer);
  const words = new Uint32Array(padded.length >> 2);
  for (let i = 0; i < words.length; i++) words[i] = dv.getUint32(i * 4, true);
  return { n, words };
}

function putRun(w: ProtoWriter, run: Run): void {
  const words = run.words;
  const room = words.length * 4;
  if (w.pos + room > w.buf.length) w.ensure(room);
  const v = w.view;
  for (let i = 0, q = w.pos; i < words.length; i++, q += 4) v.setUint32(q, words[i]!, true);
  w.pos += run.n;
}

/** Fields 1-2 (version, logfileName), by their values; one slot: the file changes at rotates only. */
let fileKeyVersion = NaN;
let fileKeyName: string | undefined;
let fileRun: Run | undefined;
/** Fields 4-5 (serverId, serverenCode). */
let serverKeyId = NaN;
let serverKeyCode: string | undefined;
let serverRun: Run | undefined;
/** Fields 7-9 (sourceType, schemaName, tableName): a few slots, transactions' BEGIN/END and their tables alternate. */
const NAME_SLOTS = 8;
const nameKeyType: number[] = new Array<number>(NAME_SLOTS).fill(NaN);
const nameKeySchema: (string | undefined)[] = new Array<string | undefined>(NAME_SLOTS).fill(undefined);
const nameKeyTable: (string | undefined)[] = new Array<string | undefined>(NAME_SLOTS).fill(undefined);
const nameRuns: (Run | undefined)[] = new Array<Run | undefined>(NAME_SLOTS).fill(undefined);
let nameNext = 0;
/** Field 12 when it holds one pair (rowsCount of a rows event). */
let pairKeyKey: string | undefined;
let pairKeyValue: string | undefined;
let pairRun: Run | undefined;

function nameRun(sourceType: number, schema: string, table: string): Run {
  for (let i = 0; i < NAME_SLOTS; i++) {
    if (nameKeyTable[i] === table && nameKeySchema[i] === schema && nameKeyType[i] === sourceType) return nameRuns[i]!;
  }
  const run = makeRun((s) => {
    s.byte(H.sourceType);
    s.int32(sourceType);
    s.byte(H.schemaName);
    s.string(schema);
    s.byte(H.tableName);
    s.string(table);
  });
  const i = nameNext;
  nameNext = (nameNext + 1) % NAME_SLOTS;
  nameKeyType[i] = sourceType;
  nameKeySchema[i] = schema;
  nameKeyTable[i] = table;
  nameRuns[i] = run;
  return run;
}

function writeHeader(w: ProtoWriter, h: Header): void {
  if (h.version != null && h.logfileName != null) {
    if (h.logfileName !== fileKeyName || h.version !== fileKeyVersion) {
      const version = h.version;
      const name = h.logfileName;
      fileRun = makeRun((s) => {
        s.byte(H.version);
        s.int32(version);
        s.byte(H.logfileName);
        s.string(name);
      });
      fileKeyVersion = version;
      fileKeyName = name;
    }
    putRun(w, fileRun!);
  } else {
    if (h.version != null) {
      w.byte(H.version);
      w.int32(h.version);
    }
    if (h.logfileName != null) {
      w.byte(H.logfileName);
      w.string(h.logfileName);
    }
  }
  if (h.logfileOffset != null) {
    w.byte(H.logfileOffset);
    w.int64(h.logfileOffset);
  }
  if (h.serverId != null && h.serverenCode != null) {
    if (h.serverId !== serverKeyId || h.serverenCode !== serverKeyCode) {
      const id = h.serverId;
      const code = h.serverenCode;
      serverRun = makeRun((s) => {
        s.byte(H.serverId);
        s.int64(id);
        s.byte(H.serverenCode);
        s.string(code);
      });
      serverKeyId = id;
      serverKeyCode = code;
    }
    putRun(w, serverRun!);
  } else {
    if (h.serverId != null) {
      w.byte(H.serverId);
      w.int64(h.serverId);
    }
    if (h.serverenCode != null) {
      w.byte(H.serverenCode);
      w.string(h.serverenCode);
    }
  }
  if (h.executeTime != null) {
    w.byte(H.executeTime);
    w.int64(h.executeTime);
  }
  if (h.sourceType != null && h.schemaName != null && h.tableName != null) {
    putRun(w, nameRun(h.sourceType, h.schemaName, h.tableName));
  } else {
    if (h.sourceType != null) {
      w.byte(H.sourceType);
      w.int32(h.sourceType);
    }
    if (h.schemaName != null) {
      w.byte(H.schemaName);
      w.string(h.schemaName);
    }
    if (h.tableName != null) {
      w.byte(H.tableName);
      w.string(h.tableName);
    }
  }
  if (h.eventLength != null) {
    w.byte(H.eventLength);
    w.int64(h.eventLength);
  }
  if (h.eventType != null) {
    w.byte(H.eventType);
    w.int32(h.eventType);
  }
  const props = h.props;
  if (props != null && props.length === 1 && props[0]!.key != null && props[0]!.value != null) {
    const p = props[0]!;
    if (p.key !== pairKeyKey || p.value !== pairKeyValue) {
      const one = [p];
      pairRun = makeRun((s) => writePairs(s, H.props, one));
      pairKeyKey = p.key;
      pairKeyValue = p.value;
    }
    putRun(w, pairRun!);
  } else {
    writePairs(w, H.props, props);
  }
  if (h.gtid != null) {
    w.byte(H.gtid);
    w.string(h.gtid);
  }
}

/** One Column message body. */
export function writeColumn(w: ProtoWriter, c: Column): void {
  if (c.index != null) {
    w.byte(C.index);
    w.int32(c.index);
  }
  if (c.sqlType != null) {
    w.byte(C.sqlType);
    w.int32(c.sqlType);
  }
  if (c.name != null) {
    w.byte(C.name);
    w.string(c.name);
  }
  if (c.isKey != null) {
    w.byte(C.isKey);
    w.bool(c.isKey);
  }
  if (c.updated != null) {
    w.byte(C.updated);
    w.bool(c.updated);
  }
  if (c.isNull != null) {
    w.byte(C.isNull);
    w.bool(c.isNull);
  }
  writePairs(w, C.props, c.props);
  if (c.value != null) {
    w.byte(C.value);
    w.string(c.value);
  }
  if (c.length != null) {
    w.byte(C.length);
    w.int32(c.length);
  }
  if (c.mysqlType != null) {
    w.byte(C.mysqlType);
    w.string(c.mysqlType);
  }
}

function writeColumns(w: ProtoWriter, tag: number, cols: Column[] | undefined): void {
  if (cols == null || cols.length === 0) return;
  for (const c of cols) {
    w.byte(tag);
    const m = w.fork(1);
    writeColumn(w, c);
    w.ldelim(m, 1);
  }
}

/** A RowData message body from Column objects. */
export function writeRowDataObjects(w: ProtoWriter, rd: RowData): void {
  writeColumns(w, R.beforeColumns, rd.beforeColumns);
  writeColumns(w, R.afterColumns, rd.afterColumns);
  writePairs(w, R.props, rd.props);
}

function selfWriting(rd: RowData): rd is SelfWritingRowData {
  return (rd as Partial<SelfWritingRowData>)[ROW_WRITER] !== undefined;
}

/** Guess of a row's length prefix size, from the row before it: rows of one event look alike. */
let rowReserve = 2;

function writeRowChange(w: ProtoWriter, rc: RowChange): void {
  if (rc.tableId != null) {
    w.byte(RC.tableId);
    w.int64(rc.tableId);
  }
  if (rc.eventType != null) {
    w.byte(RC.eventType);
    w.int32(rc.eventType);
  }
  if (rc.isDdl != null) {
    w.byte(RC.isDdl);
    w.bool(rc.isDdl);
  }
  if (rc.sql != null) {
    w.byte(RC.sql);
    w.string(rc.sql);
  }
  const rows = rc.rowDatas;
  if (rows != null && rows.length > 0) {
    for (const rd of rows) {
      w.byte(RC.rowDatas);
      const reserve = rowReserve;
      const m = w.fork(reserve);
      if (selfWriting(rd)) rd[ROW_WRITER](w);
      else writeRowDataObjects(w, rd);
      rowReserve = varintSize(w.pos - m - reserve);
      w.ldelim(m, reserve);
    }
  }
  writePairs(w, RC.props, rc.props);
  if (rc.ddlSchemaName != null) {
    w.byte(RC.ddlSchemaName);
    w.string(rc.ddlSchemaName);
  }
}

interface BeginBody {
  executeTime?: number;
  transactionId?: string;
  props?: Pair[];
  threadId?: number;
}

function writeBeginOrEnd(w: ProtoWriter, b: BeginBody): void {
  if (b.executeTime != null) {
    w.byte(TX.executeTime);
    w.int64(b.executeTime);
  }
  if (b.transactionId != null) {
    w.byte(TX.transactionId);
    w.string(b.transactionId);
  }
  writePairs(w, TX.props, b.props);
  if (b.threadId != null) {
    w.byte(TX.threadId);
    w.int64(b.threadId);
  }
}

const EMPTY_ROW_CHANGE: RowChange = { eventType: 7, isDdl: false, rowDatas: [] };

const writer = new ProtoWriter();
/** Guess of a RowChange's length prefix size, from the last one. */
let rowChangeReserve = 1;
/** The writer grows to the largest entry seen; past this it is replaced after use, so one huge transaction does not pin its size. */
const KEEP_BYTES = 4 * 1024 * 1024;

/** Serializes one entry into Canal Entry bytes (a new Buffer of exactly its size). */
export function writeEntry(e: ParsedEntry): Buffer {
  return writeEntryScratch(e).finish();
}

/**
 * Serializes one entry into the shared writer and returns it: the bytes are `buf[0, pos)`, valid
 * until the next entry is written. For a caller that copies them anyway (the store into its byte
 * ring), this saves writeEntry's copy into a Buffer of its own.
 */
export function writeEntryScratch(e: ParsedEntry): ProtoWriter {
  const w = writer;
  // Shrinking here rather than after the write keeps the last entry's bytes valid for the caller.
  w.resetAndShrink(KEEP_BYTES);
  writeEntryBody(w, e);
  return w;
}

/** Writes into memory the caller lends (writeEntryAt); its buffer is replaced per call. */
const lentWriter = new ProtoWriter(64);
const lentNothing = lentWriter.buf;
const lentNothingView = lentWriter.view;

/** Forgets the memory last lent to writeEntryAt, so a closed store's block is not held through the writer. */
export function releaseLentMemory(): void {
  lentWriter.buf = lentNothing;
  lentWriter.view = lentNothingView;
  lentWriter.pos = 0;
}

/**
 * Serializes one entry straight into `target` (free bytes the caller owns, `view` a DataView of
 * the same bytes) from `start` on, and returns the writer: the bytes are `buf[start, pos)`. `buf`
 * is `target` unless the entry outgrew it; then it is a new buffer holding `target`'s bytes up to
 * `pos` at the same offsets, and `target` past `start` holds garbage. Saves the copy out of the
 * scratch writer for a caller that keeps the bytes in a block of its own (the store's ring).
 */
export function writeEntryAt(e: ParsedEntry, target: Buffer, view: DataView, start: number): ProtoWriter {
  const w = lentWriter;
  w.buf = target;
  w.view = view;
  w.pos = start;
  writeEntryBody(w, e);
  return w;
}

function writeEntryBody(w: ProtoWriter, e: ParsedEntry): void {
  if (e.header != null) {
    w.byte(E.header);
    const m = w.fork(1);
    writeHeader(w, e.header);
    w.ldelim(m, 1);
  }
  if (e.entryType != null) {
    w.byte(E.entryType);
    w.int32(e.entryType);
  }
  w.byte(E.storeValue);
  if (e.entryType === EntryType.ROWDATA) {
    const reserve = rowChangeReserve;
    const m = w.fork(reserve);
    writeRowChange(w, e.rowChange ?? EMPTY_ROW_CHANGE);
    rowChangeReserve = varintSize(w.pos - m - reserve);
    w.ldelim(m, reserve);
  } else {
    const m = w.fork(1);
    if (e.entryType === EntryType.TRANSACTIONBEGIN) writeBeginOrEnd(w, e.begin ?? {});
    else if (e.entryType === EntryType.TRANSACTIONEND) writeBeginOrEnd(w, e.end ?? {});
    w.ldelim(m, 1);
  }
}
