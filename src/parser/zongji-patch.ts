// Runtime patches of @vlasky/zongji 0.9.0 internals (pinned by package-lock) that cut decode CPU
// without changing what zongji hands over:
//  - TABLE_MAP reuse: on single-row loads every transaction repeats the same table map, and
//    zongji re-parses its column and optional metadata and rebuilds its column schemas each time.
//    A table map whose bytes (table id to end, checksum excluded) equal the last one zongji fully
//    decoded for that table id with FULL metadata gets that decode's objects instead; on the lean
//    packet path such an event is built from that decode without running zongji's constructor.
//  - Parser.parseUnsignedNumber for 1-4 bytes reads the bytes directly instead of going through
//    Buffer.readUIntLE's generic dispatch (~4% of a single-row load's CPU).
//  - The per-packet path (lib/sequence/binlog.js binlogData with lib/packet/binlog.js, and
//    index.js's binlogHandler for all but table maps): the same steps without a Parser, a
//    BinlogPacket, a generator, an options object, a lower-cased class name and two
//    getTypeName() calls per packet (patchBinlogStream, per zongji instance at 'ready').
//  - Row images (lib/rows_event.js readRow): the null bitmap read in place instead of sliced, and
//    integers, utf8 text and BIT bytes read directly instead of through readMysqlValue's generic
//    path (a Buffer view per text value, apply(arguments) per integer); every other value, and
//    any read that would run past the buffer, still goes to readMysqlValue.
// Each checks the shape of what they patch first and leave zongji as it is when it differs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';

/** zongji's binlog reader (lib/reader.js Parser), as far as the patches touch it. */
interface ZjParser {
  packet: { offset: number; end: number } | null;
  _buffer: Buffer;
  _offset: number;
  _packetEnd: number;
  parseUnsignedNumber(bytes: number): number;
}

interface ZongjiLike {
  tableMap: Record<number, TableMapCacheEntry>;
  useChecksum: boolean;
}

interface TableMapCacheEntry {
  columnSchemas?: unknown;
  columns?: unknown;
}

/** The fields of a TableMap event that the metadata parse fills (all own data properties). */
const DECODED_FIELDS = [
  'columnsMetadata',
  'columnNames',
  'signedness',
  'primaryKey',
  'columnVisibility',
  'geometryTypes',
  '_columnCharsetIds',
  '_enumSetValues',
] as const;

/** One fully decoded table map, reusable by a later table map with the same bytes. */
interface Decoded {
  bytes: Buffer;
  /** where the parse left the reader, counted back from the packet end */
  endDelta: number;
  columnTypes: unknown;
  /** DECODED_FIELDS[i] was an own property of the parsed event when bit i is set; its value is values[i] */
  present: number;
  values: unknown[];
  columnSchemas: unknown;
  columns: unknown;
  /** the header fields of the decoded event, when its own keys began as HEAD_KEYS (quickTableMap may build it) */
  head?: { flags: unknown; schemaName: string; tableName: string; columnCount: unknown };
}

/** The first own keys of a TableMap event, in the order its constructor sets them. */
const HEAD_KEYS = ['timestamp', 'nextPosition', 'size', 'tableMap', 'tableId', 'flags', 'schemaName', 'tableName', 'columnCount', 'columnTypes'];

/**
 * Set by patchTableMap: the event a TABLE_MAP packet decodes to when its body equals the last
 * full decode for its table id, built from that decode without running zongji's constructor
 * (the same fields, in the order its reuse path sets them), or undefined.
 */
let quickTableMap: ((zongji: StreamZongji, packet: MysqlPacket, options: PacketOptions) => object | undefined) | undefined;

interface TableMapEvent {
  tableId: number;
  tableMap: Record<number, TableMapCacheEntry>;
  columnTypes: unknown;
  [HIT]?: Decoded;
  [PENDING]?: Decoded;
  [field: string]: unknown;
}

const HIT = Symbol('sluice.tableMapReused');
const PENDING = Symbol('sluice.tableMapDecoded');

/** Gives a table map event the fields of an equal earlier decode, in the order zongji's decode sets them. */
function adoptDecoded(ev: TableMapEvent, d: Decoded): void {
  ev.columnTypes = d.columnTypes;
  // named stores: one hidden-class path for every reused event
  const v = d.values;
  const has = d.present;
  if (has & 1) ev.columnsMetadata = v[0];
  if (has & 2) ev.columnNames = v[1];
  if (has & 4) ev.signedness = v[2];
  if (has & 8) ev.primaryKey = v[3];
  if (has & 16) ev.columnVisibility = v[4];
  if (has & 32) ev.geometryTypes = v[5];
  if (has & 64) ev._columnCharsetIds = v[6];
  if (has & 128) ev._enumSetValues = v[7];
  ev[HIT] = d;
  patchStats.tableMapReuses++;
}

/** Decoded table maps remembered per stream; a busy single-row load uses one per table it touches. */
export const MAX_REMEMBERED_TABLE_MAPS = 4096;

/**
 * Keeps `value` as the newest entry of `map`, dropping the entry refreshed longest ago beyond `max`.
 * Table ids are not reused: a source whose table cache churns (many tables, ALTERs, FLUSH TABLES)
 * hands out new ones for as long as it runs, and a map that only grew would grow without end.
 */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, max = MAX_REMEMBERED_TABLE_MAPS): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

/** Per zongji instance (keyed by its tableMap object, which every TableMap event carries). */
interface ZongjiState {
  zongji: ZongjiLike;
  byId: Map<number, Decoded>;
}

export interface PatchResult {
  tableMapReuse: boolean;
  fastUnsigned: boolean;
  packetPath: boolean;
  fastRows: boolean;
  /** why a patch was not applied */
  problems: string[];
}

let installed: Promise<PatchResult> | undefined;
/** Off: every hook takes zongji's own path (tests compare both ways on the same binlog). */
let enabled = true;
/** Table maps that reused an earlier decode (of which built without zongji's constructor), streams given the lean packet path: tests check each ran. */
export const patchStats = { tableMapReuses: 0, packetPaths: 0, quickTableMaps: 0 };

export function setZongjiPatchesEnabled(on: boolean): void {
  enabled = on;
}

/** Applies the patches once per process; later calls return the first result. */
export function installZongjiPatches(): Promise<PatchResult> {
  installed ??= install();
  return installed;
}

async function install(): Promise<PatchResult> {
  const result: PatchResult = { tableMapReuse: false, fastUnsigned: false, packetPath: false, fastRows: false, problems: [] };
  let base: URL;
  try {
    base = new URL(import.meta.resolve('@vlasky/zongji'));
    const pkg = JSON.parse(readFileSync(new URL('./package.json', base), 'utf8')) as { version?: string };
    if (pkg.version !== '0.9.0') {
      result.problems.push(`@vlasky/zongji is ${pkg.version}, the patches know 0.9.0`);
      return result;
    }
  } catch (err) {
    result.problems.push(`cannot locate @vlasky/zongji: ${(err as Error).message}`);
    return result;
  }
  try {
    const reader = (await import(new URL('./lib/reader.js', base).href)) as { Parser?: { prototype: ZjParser } };
    result.fastUnsigned = patchParser(reader.Parser, result.problems);
  } catch (err) {
    result.problems.push(`reader: ${(err as Error).message}`);
  }
  try {
    const events = (await import(new URL('./lib/binlog_event.js', base).href)) as { TableMap?: unknown };
    const indexText = readFileSync(new URL('./index.js', base), 'utf8');
    result.tableMapReuse = patchTableMap(events.TableMap, indexText, result.problems);
  } catch (err) {
    result.problems.push(`table map: ${(err as Error).message}`);
  }
  try {
    result.fastRows = await patchRows(base, result.problems);
  } catch (err) {
    result.problems.push(`rows: ${(err as Error).message}`);
  }
  try {
    result.packetPath = await preparePacketPath(base, result.problems);
  } catch (err) {
    result.problems.push(`packet path: ${(err as Error).message}`);
  }
  return result;
}

function isFn(v: unknown): v is (...args: never[]) => unknown {
  return typeof v === 'function';
}

/** Same value as readUIntLE(offset, bytes) for 1-4 bytes within the buffer; the rest goes to the original. */
export function patchParser(Parser: { prototype: ZjParser } | undefined, problems: string[]): boolean {
  const proto = Parser?.prototype;
  const orig = proto?.parseUnsignedNumber;
  if (!proto || !isFn(orig) || !/readUIntLE\(offset, bytes\)/.test(String(orig))) {
    problems.push('Parser.parseUnsignedNumber is not the one the patch knows');
    return false;
  }
  if ((orig as { sluicePatched?: boolean }).sluicePatched) return true;
  const fast = function (this: ZjParser, bytes: number): number {
    const packet = this.packet;
    if (packet === null || bytes > 4 || bytes < 1 || !enabled) return orig.call(this, bytes);
    const b = this._buffer;
    const o = packet.offset;
    // out of range (or a non-integer offset): the original's error
    if (!(o >= 0 && o + bytes <= b.length) || o !== Math.floor(o)) return orig.call(this, bytes);
    packet.offset = o + bytes;
    switch (bytes) {
      case 1:
        return b[o]!;
      case 2:
        return b[o]! | (b[o + 1]! << 8);
      case 3:
        return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
      default:
        return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
    }
  };
  (fast as { sluicePatched?: boolean }).sluicePatched = true;
  (fast as { original?: unknown }).original = orig;
  proto.parseUnsignedNumber = fast;
  return true;
}

interface TableMapProto {
  _readTableId(this: TableMapEvent, parser: ZjParser): void;
  _readColumnMetadata(this: TableMapEvent, parser: ZjParser): void;
  _readOptionalMetadata(this: TableMapEvent, parser: ZjParser, zongji: ZongjiLike): void;
  buildColumnSchemas(this: TableMapEvent): unknown;
  updateColumnInfo(this: TableMapEvent): void;
}

/**
 * The hooks rely on: the constructor reading the table id first and the metadata last
 * (_readColumnMetadata, then _readOptionalMetadata), and zongji's 'binlog' handler building the
 * FULL-metadata entry as `{ columnSchemas: event.buildColumnSchemas(), ... }` followed by
 * `event.updateColumnInfo()`, the only step that fills `columns`.
 */
export function patchTableMap(TableMap: unknown, indexText: string, problems: string[]): boolean {
  if (!isFn(TableMap)) {
    problems.push('TableMap class not found');
    return false;
  }
  const proto = (TableMap as unknown as { prototype: TableMapProto }).prototype;
  const ctor = String(TableMap);
  const order = ['this._readTableId(parser)', 'this._readColumnMetadata(parser)', 'this._readOptionalMetadata(parser, zongji)'].map((s) => ctor.indexOf(s));
  const handlerOk =
    /this\.tableMap\[event\.tableId\] = \{\s*columnSchemas: event\.buildColumnSchemas\(\),\s*parentSchema: event\.schemaName,\s*tableName: event\.tableName,\s*\};\s*event\.updateColumnInfo\(\);/.test(
      indexText,
    );
  if (
    !isFn(proto._readTableId) ||
    !isFn(proto._readColumnMetadata) ||
    !isFn(proto._readOptionalMetadata) ||
    !isFn(proto.buildColumnSchemas) ||
    !isFn(proto.updateColumnInfo) ||
    order.some((i) => i < 0) ||
    !(order[0]! < order[1]! && order[1]! < order[2]!) ||
    !handlerOk
  ) {
    problems.push('TableMap decoding is not the one the patch knows');
    return false;
  }
  if (Object.prototype.hasOwnProperty.call(proto, PATCHED)) return true;

  const readTableId = proto._readTableId;
  const readColumnMetadata = proto._readColumnMetadata;
  const readOptionalMetadata = proto._readOptionalMetadata;
  const buildColumnSchemas = proto.buildColumnSchemas;
  const updateColumnInfo = proto.updateColumnInfo;
  const states = new WeakMap<object, ZongjiState>();
  // The constructor is synchronous: these describe the TableMap being constructed now.
  let current: TableMapEvent | undefined;
  let bodyStart = 0;

  proto._readTableId = function (parser) {
    current = enabled ? this : undefined;
    bodyStart = parser._offset;
    readTableId.call(this, parser);
  };

  proto._readColumnMetadata = function (parser) {
    const st = current === this ? states.get(this.tableMap) : undefined;
    if (st !== undefined) {
      const d = st.byId.get(this.tableId);
      if (d !== undefined) {
        const end = parser._packetEnd - (st.zongji.useChecksum ? 4 : 0);
        if (end - bodyStart === d.bytes.length && d.bytes.compare(parser._buffer, bodyStart, end) === 0) {
          adoptDecoded(this, d);
          parser._offset = parser._packetEnd - d.endDelta;
          return;
        }
        st.byId.delete(this.tableId);
      }
    }
    readColumnMetadata.call(this, parser);
  };

  proto._readOptionalMetadata = function (parser, zongji) {
    if (this[HIT] !== undefined) return;
    readOptionalMetadata.call(this, parser, zongji);
    if (current !== this || zongji == null || zongji.tableMap !== this.tableMap) return;
    let st = states.get(zongji.tableMap);
    if (st === undefined) {
      st = { zongji, byId: new Map() };
      states.set(zongji.tableMap, st);
    }
    const end = parser._packetEnd - (zongji.useChecksum ? 4 : 0);
    if (end < bodyStart) return;
    const bytes = Buffer.from(parser._buffer.subarray(bodyStart, end));
    this[PENDING] = { bytes, endDelta: parser._packetEnd - parser._offset, columnTypes: undefined, present: 0, values: [], columnSchemas: undefined, columns: undefined };
  };

  proto.buildColumnSchemas = function () {
    const hit = this[HIT];
    if (hit !== undefined) return hit.columnSchemas;
    const schemas = buildColumnSchemas.call(this);
    const p = this[PENDING];
    if (p !== undefined) p.columnSchemas = schemas;
    return schemas;
  };

  proto.updateColumnInfo = function () {
    const entry = this.tableMap[this.tableId];
    const hit = this[HIT];
    if (hit !== undefined && entry !== undefined && entry.columnSchemas === hit.columnSchemas) {
      entry.columns = hit.columns;
      return;
    }
    updateColumnInfo.call(this);
    const p = this[PENDING];
    if (p === undefined || p.columnSchemas === undefined || entry === undefined || entry.columnSchemas !== p.columnSchemas) return;
    const st = states.get(this.tableMap);
    if (st === undefined) return;
    // Reused from here on: these objects are read, never written, once the entry is complete.
    p.columns = entry.columns;
    p.columnTypes = this.columnTypes;
    for (let i = 0; i < DECODED_FIELDS.length; i++) {
      const k = DECODED_FIELDS[i]!;
      if (Object.prototype.hasOwnProperty.call(this, k)) p.present |= 1 << i;
      p.values.push(this[k]);
    }
    const keys = Object.keys(this);
    if (HEAD_KEYS.every((k, i) => keys[i] === k) && typeof this.schemaName === 'string' && typeof this.tableName === 'string') {
      p.head = { flags: this.flags, schemaName: this.schemaName, tableName: this.tableName, columnCount: this.columnCount };
    }
    this[PENDING] = undefined;
    remember(st.byId, this.tableId, p);
  };

  quickTableMap = (zongji, packet, options) => {
    const st = enabled ? states.get(zongji.tableMap) : undefined;
    if (st === undefined || st.zongji !== (zongji as unknown)) return undefined;
    const b = packet.buffer;
    const start = packet.offset;
    const end = packet.end - (zongji.useChecksum ? 4 : 0);
    if (!(start >= 0 && end - start >= 6 && end <= b.length)) return undefined;
    // zongji's parseUInt48
    const tableId = (b[start + 4]! | (b[start + 5]! << 8)) * 0x100000000 + u32(b, start);
    const d = st.byId.get(tableId);
    const head = d?.head;
    if (d === undefined || head === undefined || end - start !== d.bytes.length || d.bytes.compare(b, start, end) !== 0) return undefined;
    if (zongji._skipSchema(head.schemaName, head.tableName)) return undefined;
    const ev = Object.create(proto as object) as TableMapEvent;
    ev.timestamp = options.timestamp;
    ev.nextPosition = options.nextPosition;
    ev.size = options.size;
    ev.tableMap = zongji.tableMap;
    ev.tableId = tableId;
    ev.flags = head.flags;
    ev.schemaName = head.schemaName;
    ev.tableName = head.tableName;
    ev.columnCount = head.columnCount;
    adoptDecoded(ev, d);
    packet.offset = packet.end - d.endDelta;
    patchStats.quickTableMaps++;
    return ev;
  };

  Object.defineProperty(proto, PATCHED, { value: true });
  return true;
}

const PATCHED = Symbol('sluice.patched');

// ---- the per-packet path ----

/** sha256 of the zongji 0.9.0 files whose per-packet steps binlogData below repeats. */
const PACKET_FILES: Record<string, string> = {
  './lib/sequence/binlog.js': 'cf97f8c8d8f2248ab3144d7ba2e710a845e26fcd7b9d1de29d9fdf3d038bca2b',
  './lib/packet/binlog.js': 'dd2dafa603fd62f86420ae72f7b015604912b4d7247b162d107b7461719258d1',
  './lib/code_map.js': 'f5e6394984dd3ea5a192ad79861c0618ac58ef6674321d0b4eb870852aef3c49',
  './index.js': '3576dd1cde4521a9ccfd0c13d7e60316b77f291ff486828fbfdb2a5352ac8766',
};

/**
 * sha256 of the source of index.js's binlogHandler (the callback zongji gives its binlog command),
 * whose steps for every event but a table map binlogData below takes inline.
 */
const BINLOG_HANDLER = 'fabed7dde8ba7faf1c5e6ff39f6fa455fac4d56bfcf1877763078c317b069ca6';

type EventClass = (new (parser: ReusedParser, options: PacketOptions, zongji: unknown) => object) & { name: string; unsupportedReason?: string };

interface PacketOptions {
  timestamp: number;
  nextPosition: number;
  size: number;
  eventType: number;
  serverId: number;
}

/** What binlogData decides from the event type code alone, made once per code. */
interface TypeInfo {
  cls: EventClass;
  name: string;
  isGtidEvent: boolean;
  isRotate: boolean;
  isCommitCandidate: boolean;
  isGtidList: boolean;
  isTableMap: boolean;
  /** what event.getTypeName() gives for an event of the class */
  typeName: string;
}

/** The parts of a zongji instance that its binlogData reads and writes. */
interface StreamZongji {
  useChecksum: boolean;
  tableMap: Record<number, TableMapCacheEntry>;
  stopped: boolean;
  connection: unknown;
  options: { filename?: string; position?: number };
  BinlogClass?: { prototype: { binlogData?: unknown } };
  _positionFrozen: boolean;
  _currentGtid: unknown;
  _executedGtids: unknown;
  _seedGtidsFromStream: boolean;
  _warnUnsupportedEvent(cls: unknown): void;
  _trackGtidProgress(name: string, event: unknown): boolean;
  _skipEvent(name: string): boolean;
  _skipSchema(schema: string, table: string): boolean;
  emit(name: string, ...args: unknown[]): boolean;
}

interface MysqlPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
  isError(): boolean;
  asError(encoding: unknown): Error;
}

interface BinlogCommand {
  _callback?: (this: BinlogCommand, error: unknown, event?: unknown) => void;
  emit(name: string, ...args: unknown[]): boolean;
}

interface ReusedParser {
  setPacket(p: MysqlPacket): void;
  packet: unknown;
  _buffer: Buffer | null;
}

interface PacketPath {
  Parser: new () => ReusedParser;
  getEventClass: (code: number) => EventClass;
}

let packetPath: PacketPath | undefined;

async function preparePacketPath(base: URL, problems: string[]): Promise<boolean> {
  for (const [file, digest] of Object.entries(PACKET_FILES)) {
    const text = readFileSync(new URL(file, base));
    if (createHash('sha256').update(text).digest('hex') !== digest) {
      problems.push(`zongji ${file} is not the one the packet path knows`);
      return false;
    }
  }
  const reader = (await import(new URL('./lib/reader.js', base).href)) as { Parser?: unknown };
  const codes = (await import(new URL('./lib/code_map.js', base).href)) as { getEventClass?: unknown };
  if (!isFn(reader.Parser) || !isFn(codes.getEventClass) || !isFn((reader.Parser as { prototype: { setPacket?: unknown } }).prototype.setPacket)) {
    problems.push('zongji reader/code map exports are not the ones the packet path knows');
    return false;
  }
  packetPath = { Parser: reader.Parser as unknown as PacketPath['Parser'], getEventClass: codes.getEventClass as PacketPath['getEventClass'] };
  return true;
}

/**
 * Gives this zongji's binlog command class (made at 'ready', before the dump command is queued)
 * the lean binlogData. Call synchronously in a 'ready' listener; returns whether it applied.
 */
export function patchBinlogStream(zongji: unknown): boolean {
  const zj = zongji as StreamZongji;
  const path = packetPath;
  const proto = zj?.BinlogClass?.prototype;
  if (!enabled || path === undefined || proto === undefined) return false;
  const orig = proto.binlogData;
  if (!isFn(orig) || !String(orig).includes('binlogPacket.parse(parser)')) return false;
  const binlogData = makeBinlogData(zj, path, proto as { binlogData: unknown }, orig as (this: BinlogCommand, p: MysqlPacket, c: unknown) => unknown);
  (binlogData as { sluicePatched?: boolean }).sluicePatched = true;
  proto.binlogData = binlogData;
  patchStats.packetPaths++;
  return true;
}

/** Header bytes after the packet's status byte: marker(1) timestamp(4) type(1) server(4) length(4) next(4) flags(2). */
const HEADER_READ = 20;

function makeBinlogData(
  zongji: StreamZongji,
  path: PacketPath,
  proto: { binlogData: unknown },
  orig: (this: BinlogCommand, packet: MysqlPacket, connection: unknown) => unknown,
): (this: BinlogCommand, packet: MysqlPacket, connection: { clientEncoding?: unknown }) => unknown {
  // as lib/packet/binlog.js sets BinlogPacket.Length when the class is made (at 'ready')
  const headerLength = zongji.useChecksum ? 19 + 4 : 19;
  const types: (TypeInfo | undefined)[] = new Array(256);
  /** the last callback looked at, and whether it is zongji's binlogHandler */
  let seenCallback: unknown;
  let knownHandler = false;
  const parser = new path.Parser();
  // never kept by an event: every constructor copies what it needs
  const options: PacketOptions = { timestamp: 0, nextPosition: 0, size: 0, eventType: 0, serverId: 0 };

  const typeInfo = (code: number): TypeInfo => {
    let t = types[code];
    if (t === undefined) {
      const cls = path.getEventClass(code);
      const name = cls.name ? cls.name.toLowerCase() : 'unknown';
      t = {
        cls,
        name,
        isGtidEvent: name === 'gtid' || name === 'anonymousgtid' || name === 'mariadbgtid',
        isRotate: name === 'rotate',
        isCommitCandidate: name === 'xid' || name === 'query' || name === 'xaprepare',
        isGtidList: name === 'previousgtids' || name === 'mariadbgtidlist',
        isTableMap: name === 'tablemap',
        typeName: cls.name,
      };
      types[code] = t;
    }
    return t;
  };

  return function binlogData(this: BinlogCommand, packet, connection) {
    if (packet.isEOF()) {
      this.emit('eof');
      return null;
    }
    if (packet.isError()) {
      const err = packet.asError(connection.clientEncoding);
      if (this._callback) this._callback.call(this, err);
      else this.emit('error', err);
      return null;
    }
    const b = packet.buffer;
    const o = packet.offset;
    // a short header: zongji's own path, with its own error
    if (!enabled || !(o >= 0 && o + HEADER_READ <= b.length)) return orig.call(this, packet, connection);
    packet.offset = o + HEADER_READ;
    const eventType = b[o + 5]!;
    const nextPosition = u32(b, o + 14);
    const t = typeInfo(eventType);
    const cls = t.cls;
    if (cls.unsupportedReason) zongji._warnUnsupportedEvent(cls);
    const callback = this._callback;
    if (!callback) return proto.binlogData;
    options.timestamp = u32(b, o + 1) * 1000;
    options.nextPosition = nextPosition;
    options.size = u32(b, o + 10) - headerLength;
    options.eventType = eventType;
    options.serverId = u32(b, o + 6);

    const eventName = t.name;
    let event: unknown;
    let error: unknown;
    const isCurrent = !zongji.stopped && zongji.connection === connection;
    const isGtidEvent = t.isGtidEvent;
    const isRotate = t.isRotate;
    const isCommitCandidate = t.isCommitCandidate;
    const isTrackedEvent =
      isGtidEvent || isRotate || isCommitCandidate || ((zongji._executedGtids !== null || zongji._seedGtidsFromStream) && t.isGtidList);
    if (isCurrent && t.isTableMap) zongji._positionFrozen = true;

    let closesTransaction = false;
    if (isTrackedEvent) {
      try {
        event = construct(cls, packet, t);
        if (isCurrent) {
          if (isGtidEvent || isRotate) zongji._positionFrozen = false;
          if (isGtidEvent) zongji._currentGtid = eventName === 'anonymousgtid' ? undefined : (event as { gtid?: unknown }).gtid;
          if (isRotate) {
            zongji.options.filename = (event as { binlogName: string }).binlogName;
            zongji.options.position = (event as { position: number }).position;
          }
          closesTransaction = zongji._trackGtidProgress(eventName, event);
          if (closesTransaction) zongji._positionFrozen = false;
        }
      } catch (err) {
        if (isCurrent && (isGtidEvent || isCommitCandidate)) zongji._currentGtid = undefined;
        error = err;
      }
    }

    if (zongji._skipEvent(eventName) && !error) {
      if (isCurrent && !t.isTableMap && !isRotate && !zongji._positionFrozen && nextPosition > 0) {
        zongji.options.position = nextPosition;
      }
      if (closesTransaction) zongji._currentGtid = undefined;
      return proto.binlogData;
    }

    if (!isTrackedEvent && !error) {
      try {
        event = construct(cls, packet, t);
      } catch (err) {
        error = err;
      }
    }
    if (callback !== seenCallback) {
      seenCallback = callback;
      knownHandler = createHash('sha256').update(String(callback)).digest('hex') === BINLOG_HANDLER;
    }
    try {
      if (!knownHandler || t.isTableMap) callback.call(this, error, event);
      else if (error) zongji.emit('error', error);
      else if (zongji.stopped || !zongji.connection || event === undefined || (event as { _filtered?: unknown })._filtered === true) {
        // binlogHandler drops these
      } else {
        // binlogHandler's steps for an event that is not a table map (getTypeName() is the class name)
        const ev = event as { nextPosition: number; gtid?: unknown };
        if (t.typeName !== 'TableMap' && t.typeName !== 'Rotate' && !zongji._positionFrozen && ev.nextPosition > 0) {
          zongji.options.position = ev.nextPosition;
        }
        if (!('gtid' in ev)) ev.gtid = zongji._currentGtid;
        zongji.emit('binlog', ev);
      }
    } finally {
      if (closesTransaction) zongji._currentGtid = undefined;
    }
    return proto.binlogData;
  };

  function construct(cls: EventClass, packet: MysqlPacket, t: TypeInfo): object {
    if (t.isTableMap && quickTableMap !== undefined) {
      const ev = quickTableMap(zongji, packet, options);
      if (ev !== undefined) return ev;
    }
    parser.setPacket(packet);
    try {
      return new cls(parser, options, zongji);
    } finally {
      parser.packet = null;
      parser._buffer = null;
    }
  }
}

function u32(b: Buffer, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

// ---- row images ----

const ROWS_FILES: Record<string, string> = {
  './lib/rows_event.js': '703867c68a84220462e70a7e02af81e71e492fd5063a873f2c4950fac79a2870',
  './lib/common.js': 'acb2cf05b030a099279e59ea7bc7aec4c0f9b9e23de13bcba8130e3f88361e2c',
};

interface RowColumn {
  name: string;
  type: number;
  charset?: unknown;
  metadata?: { max_length?: unknown; length_size?: unknown; bits?: unknown };
}

interface RowSchema {
  UNSIGNED?: unknown;
  COLUMN_TYPE?: unknown;
}

interface RowTableMap {
  columns: RowColumn[];
  columnSchemas: RowSchema[];
}

type ReadValue = (parser: ReusedParser, column: RowColumn, schema: RowSchema, tablemap: RowTableMap, zongji: unknown) => unknown;

interface RowsEventLike {
  tableMap: Record<number, RowTableMap>;
  tableId: number;
  columns_present_bitmap: Buffer;
  columns_present_bitmap2?: Buffer;
  _zongji: unknown;
}

type FetchOneRow = (this: RowsEventLike, parser: ReusedParser) => unknown;

const BIT_COUNT = Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v !== 0; v >>= 1) n += v & 1;
  return n;
});

/** Text charsets zongji decodes with buffer.toString('utf8') (its decodeTextColumn). */
function utf8Charset(charset: unknown): boolean {
  return charset === 'utf8mb4' || charset === 'utf8mb3' || charset === 'utf8';
}

/** Length-prefixed CHAR/VARCHAR types that zongji does not decode as text (by COLUMN_TYPE). */
function specialVarchar(def: string): boolean {
  if (def === 'uuid' || def === 'inet4' || def === 'inet6') return true;
  const prefix = def.substr(0, 6);
  return prefix === 'vector' || prefix === 'binary' || prefix === 'varbin';
}

/** b.subarray(start, end).toString('utf8') without the view (start is within or at the end of b). */
function utf8Text(b: Buffer, start: number, end: number): string {
  const e = end > b.length ? b.length : end;
  return start >= e ? '' : (b as Buffer & { utf8Slice(s: number, e: number): string }).utf8Slice(start, e);
}

/** Little-endian unsigned of 1-4 bytes at `o` (the caller checked the bounds). */
function uintLE(b: Buffer, o: number, n: number): number {
  switch (n) {
    case 1:
      return b[o]!;
    case 2:
      return b[o]! | (b[o + 1]! << 8);
    case 3:
      return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
    default:
      return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
  }
}

/**
 * zongji's readMysqlValue for the common types, read in place; `undefined` as the marker for
 * "not handled here" is safe because none of these types decodes to undefined.
 */
function fastValue(packet: { offset: number }, b: Buffer, column: RowColumn, schema: RowSchema): unknown {
  const o = packet.offset;
  switch (column.type) {
    case 1: // TINY
    case 2: // SHORT
    case 9: // INT24
    case 3: {
      // LONG
      const size = column.type === 1 ? 1 : column.type === 2 ? 2 : column.type === 9 ? 3 : 4;
      if (o + size > b.length) return undefined;
      // zongji's parseAnyInt
      const unsigned = schema.UNSIGNED !== undefined ? schema.UNSIGNED : typeof schema.COLUMN_TYPE === 'string' ? schema.COLUMN_TYPE.indexOf('unsigned') !== -1 : undefined;
      if (unsigned === undefined) return undefined;
      let result = uintLE(b, o, size);
      packet.offset = o + size;
      const length = size * 8;
      if (!unsigned && result & (1 << (length - 1))) result = (result ^ (Math.pow(2, length) - 1)) * -1 - 1;
      return result;
    }
    case 8: {
      // LONGLONG: below 2^53 zongji's result is the same Number signed or not
      if (o + 8 > b.length) return undefined;
      // zongji works out the signedness (which may throw) whatever the value
      if (schema.UNSIGNED === undefined && typeof schema.COLUMN_TYPE !== 'string') return undefined;
      const high = uintLE(b, o + 4, 4);
      if (high >>> 21) return undefined;
      packet.offset = o + 8;
      return high * 0x100000000 + uintLE(b, o, 4);
    }
    case 15: // VARCHAR
    case 254: {
      // STRING
      const def = schema.COLUMN_TYPE;
      if (typeof def !== 'string' || column.metadata == null || specialVarchar(def) || !utf8Charset(column.charset)) return undefined;
      const prefix = (column.metadata.max_length as number) > 255 ? 2 : 1;
      if (o + prefix > b.length) return undefined;
      const start = o + prefix;
      const end = start + uintLE(b, o, prefix);
      packet.offset = end;
      return utf8Text(b, start, end);
    }
    case 249: // TINY_BLOB
    case 250: // MEDIUM_BLOB
    case 251: // LONG_BLOB
    case 252: {
      // BLOB
      const lengthSize = column.metadata?.length_size;
      if (!utf8Charset(column.charset) || typeof lengthSize !== 'number' || !(lengthSize >= 1 && lengthSize <= 4) || lengthSize !== Math.floor(lengthSize)) return undefined;
      if (o + lengthSize > b.length) return undefined;
      const start = o + lengthSize;
      const end = start + uintLE(b, o, lengthSize);
      packet.offset = end;
      return utf8Text(b, start, end);
    }
    case 16: {
      // BIT
      const bits = column.metadata?.bits;
      if (typeof bits !== 'number' || !Number.isInteger(bits)) return undefined;
      const size = Math.floor((bits + 7) / 8);
      packet.offset = o + size;
      return b.slice(o, o + size);
    }
    default:
      return undefined;
  }
}

function makeReadRow(readMysqlValue: ReadValue) {
  /** zongji's readRow, reading from the parser's packet in place. */
  return function readRow(parser: ReusedParser & { packet: { offset: number } }, tablemap: RowTableMap, bitmap: Buffer, zongji: unknown): Record<string, unknown> {
    let bits = 0;
    for (let i = 0; i < bitmap.length; i++) bits += BIT_COUNT[bitmap[i]!]!;
    const nullBitmapSize = Math.floor((bits + 7) / 8);
    const packet = parser.packet;
    const b = parser._buffer!;
    const nullAt = packet.offset;
    packet.offset = nullAt + nullBitmapSize;
    const row: Record<string, unknown> = {};
    const columns = tablemap.columns;
    for (let i = 0, nullBitIndex = 0; i < columns.length; i++) {
      const column = columns[i]!;
      if ((bitmap[i >> 3]! & (1 << (i & 7))) === 0) {
        row[column.name] = null;
        continue;
      }
      const k = nullBitIndex >> 3;
      // as zongji's view of the null bitmap: nothing past its size or the buffer
      const nullByte = k < nullBitmapSize ? b[nullAt + k] : undefined;
      if (((nullByte as number) & (1 << (nullBitIndex & 7))) !== 0) {
        row[column.name] = null;
      } else {
        const schema = tablemap.columnSchemas[i]!;
        let value = fastValue(packet, b, column, schema);
        if (value === undefined) value = readMysqlValue(parser, column, schema, tablemap, zongji);
        row[column.name] = value;
      }
      nullBitIndex += 1;
    }
    return row;
  };
}

async function patchRows(base: URL, problems: string[]): Promise<boolean> {
  for (const [file, digest] of Object.entries(ROWS_FILES)) {
    if (createHash('sha256').update(readFileSync(new URL(file, base))).digest('hex') !== digest) {
      problems.push(`zongji ${file} is not the one the row reader knows`);
      return false;
    }
  }
  const rows = (await import(new URL('./lib/rows_event.js', base).href)) as { WriteRows?: unknown; UpdateRows?: unknown };
  const common = (await import(new URL('./lib/common.js', base).href)) as { readMysqlValue?: unknown };
  if (!isFn(rows.WriteRows) || !isFn(rows.UpdateRows) || !isFn(common.readMysqlValue)) {
    problems.push('zongji rows/common exports are not the ones the row reader knows');
    return false;
  }
  const rowsProto = Object.getPrototypeOf((rows.WriteRows as { prototype: object }).prototype) as { _fetchOneRow?: FetchOneRow };
  const updateProto = (rows.UpdateRows as { prototype: { _fetchOneRow?: FetchOneRow } }).prototype;
  const origRow = rowsProto._fetchOneRow;
  const origUpdate = updateProto._fetchOneRow;
  if (!isFn(origRow) || !isFn(origUpdate) || !Object.prototype.hasOwnProperty.call(updateProto, '_fetchOneRow')) {
    problems.push('zongji RowsEvent._fetchOneRow is not the one the row reader knows');
    return false;
  }
  if ((origRow as { sluicePatched?: boolean }).sluicePatched) return true;
  const readRow = makeReadRow(common.readMysqlValue as ReadValue);
  const fetchRow: FetchOneRow = function (parser) {
    if (!enabled || parser.packet == null) return origRow.call(this, parser);
    return readRow(parser as ReusedParser & { packet: { offset: number } }, this.tableMap[this.tableId]!, this.columns_present_bitmap, this._zongji);
  };
  const fetchUpdate: FetchOneRow = function (parser) {
    if (!enabled || parser.packet == null) return origUpdate.call(this, parser);
    const p = parser as ReusedParser & { packet: { offset: number } };
    const tablemap = this.tableMap[this.tableId]!;
    return {
      before: readRow(p, tablemap, this.columns_present_bitmap, this._zongji),
      after: readRow(p, tablemap, this.columns_present_bitmap2!, this._zongji),
    };
  };
  for (const [fn, orig] of [
    [fetchRow, origRow],
    [fetchUpdate, origUpdate],
  ] as const) {
    (fn as { sluicePatched?: boolean }).sluicePatched = true;
    (fn as { original?: unknown }).original = orig;
  }
  rowsProto._fetchOneRow = fetchRow;
  updateProto._fetchOneRow = fetchUpdate;
  return true;
}
