// The Entry model as it flows through sluice before serialization: the same shape protobufjs
// uses for proto/canal_entry.proto (camelCase fields, int64 as JS numbers), plus each entry's
// binlog position, which never goes on the wire but makes cursors.

export const EntryType = {
  TRANSACTIONBEGIN: 1,
  ROWDATA: 2,
  TRANSACTIONEND: 3,
  HEARTBEAT: 4,
  GTIDLOG: 5,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export const EventType = {
  INSERT: 1,
  UPDATE: 2,
  DELETE: 3,
  CREATE: 4,
  ALTER: 5,
  ERASE: 6,
  QUERY: 7,
  TRUNCATE: 8,
  RENAME: 9,
  CINDEX: 10,
  DINDEX: 11,
  GTID: 12,
  XACOMMIT: 13,
  XAROLLBACK: 14,
  MHEARTBEAT: 15,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const EventTypeName: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));
export const EntryTypeName: Record<number, string> = Object.fromEntries(Object.entries(EntryType).map(([k, v]) => [v, k]));

/** java.sql.Types codes used by Canal's Column.sqlType. */
export const SqlType = {
  BIT: -7,
  TINYINT: -6,
  BIGINT: -5,
  LONGVARBINARY: -4,
  VARBINARY: -3,
  BINARY: -2,
  CHAR: 1,
  DECIMAL: 3,
  INTEGER: 4,
  SMALLINT: 5,
  REAL: 7,
  DOUBLE: 8,
  VARCHAR: 12,
  DATE: 91,
  TIME: 92,
  TIMESTAMP: 93,
  OTHER: 1111,
  BLOB: 2004,
  CLOB: 2005,
} as const;

export interface Pair {
  key: string;
  value: string;
}

export interface Header {
  version?: number;
  logfileName?: string;
  logfileOffset?: number;
  serverId?: number;
  serverenCode?: string;
  executeTime?: number;
  sourceType?: number;
  schemaName?: string;
  tableName?: string;
  eventLength?: number;
  /** Absent on TRANSACTIONBEGIN / TRANSACTIONEND, as Canal leaves it. */
  eventType?: EventType;
  props?: Pair[];
  gtid?: string;
}

export interface Column {
  index: number;
  sqlType: number;
  name: string;
  isKey?: boolean;
  updated?: boolean;
  isNull: boolean;
  value?: string;
  mysqlType?: string;
  props?: Pair[];
  length?: number;
}

export interface RowData {
  beforeColumns: Column[];
  afterColumns: Column[];
  props?: Pair[];
}

export interface RowChange {
  tableId?: number;
  eventType: EventType;
  isDdl: boolean;
  sql?: string;
  rowDatas: RowData[];
  props?: Pair[];
  ddlSchemaName?: string;
}

export interface TransactionBegin {
  threadId?: number;
  transactionId?: string;
  props?: Pair[];
}

export interface TransactionEnd {
  transactionId?: string;
  props?: Pair[];
}

/**
 * Where an entry came from in the binlog. `gtidSet` is the source's executed GTID position once
 * this entry's transaction is complete (so on a boundary entry it is the position to resume
 * after); '' where the source has no GTIDs.
 */
export interface EntryPosition {
  /** binlog file name, e.g. binlog.000003 */
  file: string;
  /** start offset of the event (Canal's logfileOffset) */
  offset: number;
  /** offset of the next event: where a restart after this entry begins */
  nextOffset: number;
  serverId: number;
  /** event time in ms, second precision */
  timestamp: number;
  /** GTID of this entry's own transaction, e.g. 0-1-94; '' if none */
  gtid: string;
  /** executed GTID position after this entry's transaction; '' if none */
  gtidSet: string;
  /**
   * Where a restart right after this entry begins (exact resume): read from resumeFile:
   * resumeOffset, or from the GTID position resumeGtidSet, and drop the first resumeSkip
   * entries the parser makes there. For a boundary (TRANSACTIONEND, DDL) that is the entry's own
   * file, nextOffset and gtidSet with nothing to skip; inside a transaction it is the boundary
   * before the transaction, with the entries up to and including this one to skip. Absent (as in
   * hand-made test positions): the entry is treated as a boundary.
   */
  resumeFile?: string;
  resumeOffset?: number;
  resumeGtidSet?: string;
  resumeSkip?: number;
}

/**
 * Builds positions through a constructor of their own rather than an object literal. Why: V8 gives
 * every `{ file, offset, nextOffset, ... }` literal in the process one shared map, and a literal
 * elsewhere that stores a double where the parser stores a small integer (the store rebuilds
 * positions from Float64Arrays) deprecates that map. Each new entry's position then had to be
 * migrated on its first read: about 0.3 s of CPU per 100k single-row transactions in the server,
 * 20 % of it. A constructor's map is its own and is generalized once, in place. Its prototype is
 * Object.prototype, so a position still equals (deepStrictEqual) a plain object of the same fields.
 */
function initPosition(
  this: EntryPosition,
  file: string,
  offset: number,
  nextOffset: number,
  serverId: number,
  timestamp: number,
  gtid: string,
  gtidSet: string,
  resumeFile: string,
  resumeOffset: number,
  resumeGtidSet: string,
  resumeSkip: number,
) {
  this.file = file;
  this.offset = offset;
  this.nextOffset = nextOffset;
  this.serverId = serverId;
  this.timestamp = timestamp;
  this.gtid = gtid;
  this.gtidSet = gtidSet;
  this.resumeFile = resumeFile;
  this.resumeOffset = resumeOffset;
  this.resumeGtidSet = resumeGtidSet;
  this.resumeSkip = resumeSkip;
}
const PositionRecord = initPosition as unknown as new (...args: Parameters<typeof initPosition>) => EntryPosition;
PositionRecord.prototype = Object.prototype;

/** A position; without a resume point the entry counts as a boundary (resume after it, skip nothing). */
export function entryPosition(
  file: string,
  offset: number,
  nextOffset: number,
  serverId: number,
  timestamp: number,
  gtid: string,
  gtidSet: string,
  resume?: { file: string; offset: number; gtidSet: string; skip: number },
): EntryPosition {
  return resume === undefined
    ? new PositionRecord(file, offset, nextOffset, serverId, timestamp, gtid, gtidSet, file, nextOffset, gtidSet, 0)
    : new PositionRecord(file, offset, nextOffset, serverId, timestamp, gtid, gtidSet, resume.file, resume.offset, resume.gtidSet, resume.skip);
}

/** What the parser hands on: one Canal Entry, not yet serialized, with its position. */
export interface ParsedEntry {
  entryType: EntryType;
  header: Header;
  /** ROWDATA body */
  rowChange?: RowChange;
  /** TRANSACTIONBEGIN body */
  begin?: TransactionBegin;
  /** TRANSACTIONEND body */
  end?: TransactionEnd;
  position: EntryPosition;
  /** For RENAME: the other table name that may make a filter pass ("schema.table"). */
  alsoNames?: string[];
  /** Rows of a table the source no longer has, so its metadata could not be read (set only then). */
  tableMissing?: true;
}

/** True for entries after which a restart can resume cleanly: a transaction end or a DDL. */
export function isBoundary(e: ParsedEntry): boolean {
  return e.entryType === EntryType.TRANSACTIONEND || (e.entryType === EntryType.ROWDATA && e.rowChange?.isDdl === true);
}

/**
 * A persisted cursor: how far the acknowledgements reached. After a boundary (transaction end
 * or DDL), `position` is the boundary event's start offset (what Canal writes in meta.dat) and
 * `nextPosition` is where the parser resumes. Inside a transaction, `position` and
 * `nextPosition` are where the transaction's reading starts (the end of the boundary before it),
 * `gtid` the GTID position before it, and `skip` the number of entries the parser makes from
 * there that were acknowledged: a restart drops exactly those. A cursor read from a Canal
 * meta.dat has no nextPosition: the parser then starts at `position` and drops the
 * already-acknowledged boundary event it finds there.
 */
export interface LogPosition {
  journalName: string;
  position: number;
  nextPosition?: number;
  serverId: number;
  timestamp: number;
  gtid: string;
  /** entries to drop after the resume point (exact resume inside a transaction); absent or 0: none */
  skip?: number;
  /**
   * A group destination's position in each of its sources (src/meta/group-cursor.ts). The fields
   * above then repeat the primary source's, so the cursor keeps Canal's shape.
   */
  sources?: SourceCursor[];
}

/** One source's part of a group destination's cursor: that source's last acknowledged boundary. */
export interface SourceCursor extends Omit<LogPosition, 'sources'> {
  source: string;
}

/** The cursor that resumes right after the entry at `p`. */
export function cursorFromEntry(p: EntryPosition): LogPosition {
  const skip = p.resumeSkip ?? 0;
  if (skip === 0) return { journalName: p.file, position: p.offset, nextPosition: p.nextOffset, serverId: p.serverId, timestamp: p.timestamp, gtid: p.gtidSet };
  const at = p.resumeOffset!;
  return { journalName: p.resumeFile!, position: at, nextPosition: at, serverId: p.serverId, timestamp: p.timestamp, gtid: p.resumeGtidSet!, skip };
}
