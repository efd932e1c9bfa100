// Binlog events decoded from their bytes: the common header, then per event type what the
// parser needs. One BinlogDecoder per dump: it knows whether events end in a CRC32 checksum and
// whether the source is MariaDB, keeps the table maps seen so far, and labels every event with
// the GTID of the transaction it belongs to.
import { Buffer } from 'node:buffer';
import { BinlogFormatError, ByteReader } from './bytes.ts';
import { inflateEventPayload } from './compression.ts';
import { EventCode, eventName, hasExtraData, isCompressedRows, type RowsKind } from './event-codes.ts';
import { decodeTableMap, type DecodedTableMap, type TableMapEntry } from './table-map.ts';

/** Common header: timestamp(4) type(1) server_id(4) event_length(4) next_position(4) flags(2). */
export const HEADER_LENGTH = 19;
const CHECKSUM_LENGTH = 4;

export class BinlogEvent {
  /** the parser's name of the event type ('query', 'writerows', ...) */
  eventName: string;
  code: number;
  /** event time in ms (whole seconds) */
  timestamp: number;
  /** end offset of the event in its binlog file (0 inside MariaDB transactions and for artificial events) */
  nextPosition: number;
  /** event length minus the header and checksum */
  size: number;
  /** header server_id */
  headerServerId: number;
  /** GTID of the transaction the event belongs to */
  gtid: string | undefined;

  constructor(name: string, code: number, timestamp: number, nextPosition: number, size: number, serverId: number) {
    this.eventName = name;
    this.code = code;
    this.timestamp = timestamp;
    this.nextPosition = nextPosition;
    this.size = size;
    this.headerServerId = serverId;
    this.gtid = undefined;
  }

  getEventName(): string {
    return this.eventName;
  }

  [field: string]: unknown;
}

export class TableMapEvent extends BinlogEvent {
  declare tableId: number;
  declare schemaName: string;
  declare tableName: string;
  declare columnTypes: number[];
  declare columnNames: string[] | undefined;
  declare primaryKey: number[] | undefined;
  /** the table map itself (shared by every event with the same bytes) */
  declare decoded: DecodedTableMap;
  /** `{ [tableId]: entry }` once the entry is known (the shape column conversion reads) */
  declare tableMap: Record<number, TableMapEntry>;
  declare mapEntry: TableMapEntry | undefined;
}

export class RowsEvent extends BinlogEvent {
  declare rowsKind: RowsKind;
  declare tableId: number;
  declare flags: number;
  declare numberOfColumns: number;
  /** columns present in the (before) image, one bit per column */
  declare present: Buffer;
  /** update rows: columns present in the after image */
  declare presentAfter: Buffer | undefined;
  /** the row images: rowsBuf[rowsStart, rowsEnd) */
  declare rowsBuf: Buffer;
  declare rowsStart: number;
  declare rowsEnd: number;
}

interface CachedMap {
  bytes: Buffer;
  decoded: DecodedTableMap;
  tableMap: Record<number, TableMapEntry>;
}

/** Table maps remembered per stream; table ids are never reused, so a churning cache would grow without end. */
const MAX_CACHED_MAPS = 4096;

export interface DecoderOptions {
  checksum: boolean;
  mariadb: boolean;
}

/** Statements whose QUERY event ends the transaction (after trim, case-insensitively). */
function endsTransaction(query: string): boolean {
  const q = query.trim();
  // an upper-cased character is never shorter, so prefixes decide on prefixes
  if (q.length <= 8) {
    const u = q.toUpperCase();
    if (u === 'COMMIT' || u === 'ROLLBACK') return true;
  }
  if (q.length < 9) return false;
  const head = q.slice(0, 11).toUpperCase();
  return head.startsWith('XA COMMIT') || head.startsWith('XA ROLLBACK');
}

export class BinlogDecoder {
  readonly checksum: boolean;
  readonly mariadb: boolean;
  private readonly trailer: number;
  private readonly maps = new Map<number, CachedMap>();
  /** the GTID labelling events until the transaction's end */
  private currentGtid: string | undefined;
  /** rows events dropped because no table map of their table id came before them on this stream */
  unmappedRows = 0;

  constructor(o: DecoderOptions) {
    this.checksum = o.checksum;
    this.mariadb = o.mariadb;
    this.trailer = o.checksum ? CHECKSUM_LENGTH : 0;
  }

  /** Bytes a checksummed event carries besides its body: header and trailer. */
  get overhead(): number {
    return HEADER_LENGTH + this.trailer;
  }

  /**
   * Decodes the event in buf[start, end) (from the header's first byte; the packet's leading OK
   * byte excluded). Returns undefined for a rows event of a table never mapped on this stream.
   */
  decode(buf: Buffer, start: number, end: number): BinlogEvent | undefined {
    if (end - start < HEADER_LENGTH) throw new BinlogFormatError(`binlog event of ${end - start} bytes is shorter than its header`);
    const b = buf;
    const p = start;
    const timestamp = ((b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000) * 1000;
    const code = b[p + 4]!;
    const serverId = (b[p + 5]! | (b[p + 6]! << 8) | (b[p + 7]! << 16)) + b[p + 8]! * 0x1000000;
    const length = (b[p + 9]! | (b[p + 10]! << 8) | (b[p + 11]! << 16)) + b[p + 12]! * 0x1000000;
    const nextPosition = (b[p + 13]! | (b[p + 14]! << 8) | (b[p + 15]! << 16)) + b[p + 16]! * 0x1000000;
    const bodyStart = p + HEADER_LENGTH;
    const bodyEnd = end - this.trailer;
    if (bodyEnd < bodyStart) throw new BinlogFormatError(`binlog event of ${end - start} bytes has no room for its checksum`);
    const size = length - HEADER_LENGTH - this.trailer;
    const name = eventName(code);
    const r = new ByteReader(b, bodyStart, bodyEnd, `${name} event`);
    let ev: BinlogEvent;
    switch (code) {
      case EventCode.TABLE_MAP:
        ev = this.tableMap(b, bodyStart, bodyEnd, timestamp, nextPosition, size, serverId);
        break;
      case EventCode.WRITE_ROWS_V1:
      case EventCode.WRITE_ROWS_V2:
      case EventCode.WRITE_ROWS_COMPRESSED_V1:
      case EventCode.WRITE_ROWS_COMPRESSED:
      case EventCode.UPDATE_ROWS_V1:
      case EventCode.UPDATE_ROWS_V2:
      case EventCode.UPDATE_ROWS_COMPRESSED_V1:
      case EventCode.UPDATE_ROWS_COMPRESSED:
      case EventCode.DELETE_ROWS_V1:
      case EventCode.DELETE_ROWS_V2:
      case EventCode.DELETE_ROWS_COMPRESSED_V1:
      case EventCode.DELETE_ROWS_COMPRESSED: {
        const rows = this.rows(r, name as RowsKind, code, timestamp, nextPosition, size, serverId);
        if (rows === undefined) return undefined;
        ev = rows;
        break;
      }
      default:
        ev = new BinlogEvent(name, code, timestamp, nextPosition, size, serverId);
        this.body(ev, r, code, serverId);
    }
    this.label(ev, code);
    return ev;
  }

  /** zongji's GTID labelling: an event group's GTID marks its events through the one that ends it. */
  private label(ev: BinlogEvent, code: number): void {
    switch (code) {
      case EventCode.MARIADB_GTID:
      case EventCode.GTID:
      case EventCode.GTID_TAGGED:
        this.currentGtid = ev.gtid;
        return;
      case EventCode.ANONYMOUS_GTID:
        this.currentGtid = undefined;
        return;
    }
    ev.gtid = this.currentGtid;
    if (code === EventCode.XID || code === EventCode.XA_PREPARE) this.currentGtid = undefined;
    else if ((code === EventCode.QUERY || code === EventCode.QUERY_COMPRESSED) && endsTransaction(ev.query as string)) this.currentGtid = undefined;
  }

  private body(ev: BinlogEvent, r: ByteReader, code: number, serverId: number): void {
    switch (code) {
      case EventCode.QUERY:
      case EventCode.QUERY_COMPRESSED: {
        ev.slaveProxyId = r.u32();
        ev.executionTime = r.u32();
        const schemaLength = r.u8();
        ev.errorCode = r.u16();
        const statusLength = r.u16();
        r.bytes(statusLength);
        ev.schema = r.utf8(schemaLength);
        r.u8();
        ev.query = code === EventCode.QUERY ? r.utf8(r.left()) : inflateEventPayload(r.bytes(r.left())).toString('utf8');
        return;
      }
      case EventCode.XID:
        ev.xid = r.u64();
        return;
      case EventCode.ROTATE:
        ev.position = r.u64();
        ev.binlogName = r.utf8(r.left());
        return;
      case EventCode.MARIADB_GTID: {
        const seqNo = r.u64();
        const domainId = r.u32();
        const flags2 = r.u8();
        ev.seqNo = seqNo;
        ev.domainId = domainId;
        ev.serverId = serverId;
        ev.flags2 = flags2;
        ev.standalone = (flags2 & 0x01) !== 0;
        ev.isDdl = (flags2 & 0x20) !== 0;
        ev.preparedXa = (flags2 & 0x40) !== 0;
        ev.completedXa = (flags2 & 0x80) !== 0;
        if ((flags2 & 0x02) !== 0) ev.commitId = r.u64();
        if ((flags2 & 0xc0) !== 0) {
          r.u32();
          const gtrid = r.u8();
          const bqual = r.u8();
          r.bytes(gtrid + bqual);
        }
        if (r.left() > 0) {
          const extra = r.u8();
          if ((extra & 0x01) !== 0) r.u8();
          if ((extra & 0x0c) !== 0) r.u64();
          if ((extra & 0x10) !== 0 && r.left() >= 4) ev.threadId = r.u32();
        }
        ev.gtid = `${domainId}-${serverId}-${seqNo}`;
        return;
      }
      case EventCode.GTID:
      case EventCode.ANONYMOUS_GTID: {
        r.u8();
        const sid = r.bytes(16).toString('hex');
        const gno = r.u64();
        ev.gtid = `${sid.slice(0, 8)}-${sid.slice(8, 12)}-${sid.slice(12, 16)}-${sid.slice(16, 20)}-${sid.slice(20)}:${gno}`;
        return;
      }
      case EventCode.GTID_TAGGED:
        throw new BinlogFormatError('tagged GTID events (MySQL 8.3+ GTIDs with a tag) are not decoded; run the source without tagged GTIDs');
      case EventCode.HEARTBEAT:
        if (this.mariadb && ev.nextPosition === 0 && r.left() >= 8) ev.position = r.u64();
        ev.binlogName = r.utf8(r.left());
        return;
      case EventCode.INTVAR:
        ev.type = r.u8();
        ev.value = r.u64();
        return;
      case EventCode.ANNOTATE_ROWS:
        ev.statement = r.utf8(r.left());
        return;
      case EventCode.BINLOG_CHECKPOINT:
        ev.binlogName = r.utf8(r.u32());
        return;
      case EventCode.MARIADB_GTID_LIST: {
        const count = r.u32() & 0x0fffffff;
        r.bytes(count * 16);
        return;
      }
    }
  }

  private tableMap(b: Buffer, start: number, end: number, timestamp: number, nextPosition: number, size: number, serverId: number): TableMapEvent {
    const r = new ByteReader(b, start, end, 'TABLE_MAP event');
    const tableId = r.u48();
    const ev = new TableMapEvent('tablemap', EventCode.TABLE_MAP, timestamp, nextPosition, size, serverId);
    // single-row transactions repeat their table's map every time: equal bytes, equal decode
    let cached = this.maps.get(tableId);
    if (cached === undefined || cached.bytes.length !== end - start || cached.bytes.compare(b, start, end) !== 0) {
      const decoded = decodeTableMap(b, start, end, this.mariadb);
      cached = { bytes: Buffer.from(b.subarray(start, end)), decoded, tableMap: {} };
      if (decoded.entry) cached.tableMap[tableId] = decoded.entry;
      if (this.maps.size >= MAX_CACHED_MAPS && !this.maps.has(tableId)) this.maps.delete(this.maps.keys().next().value!);
      this.maps.delete(tableId);
      this.maps.set(tableId, cached);
    }
    const d = cached.decoded;
    ev.tableId = tableId;
    ev.schemaName = d.schemaName;
    ev.tableName = d.tableName;
    ev.columnTypes = d.columnTypes;
    ev.columnNames = d.columnNames;
    ev.primaryKey = d.primaryKey;
    ev.decoded = d;
    ev.tableMap = cached.tableMap;
    ev.mapEntry = d.entry;
    return ev;
  }

  private rows(r: ByteReader, kind: RowsKind, code: number, timestamp: number, nextPosition: number, size: number, serverId: number): RowsEvent | undefined {
    const tableId = r.u48();
    const flags = r.u16();
    if (hasExtraData(code)) {
      const extra = r.u16();
      r.bytes(Math.max(0, extra - 2));
    }
    const columns = r.count();
    if (!this.maps.has(tableId)) {
      // zongji drops these silently; counted so a stream that starts inside a transaction shows it
      this.unmappedRows++;
      return undefined;
    }
    const ev = new RowsEvent(kind, code, timestamp, nextPosition, size, serverId);
    const bitmapBytes = (columns + 7) >> 3;
    ev.rowsKind = kind;
    ev.tableId = tableId;
    ev.flags = flags;
    ev.numberOfColumns = columns;
    ev.present = r.bytes(bitmapBytes);
    ev.presentAfter = kind === 'updaterows' ? r.bytes(bitmapBytes) : undefined;
    if (isCompressedRows(code)) {
      const inflated = inflateEventPayload(r.bytes(r.left()));
      ev.rowsBuf = inflated;
      ev.rowsStart = 0;
      ev.rowsEnd = inflated.length;
    } else {
      ev.rowsBuf = r.buf;
      ev.rowsStart = r.pos;
      ev.rowsEnd = r.end;
    }
    return ev;
  }
}
