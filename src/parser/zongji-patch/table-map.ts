// TABLE_MAP reuse: on single-row loads every transaction repeats the same table map, and zongji
// re-parses its column and optional metadata and rebuilds its column schemas each time. A table map
// whose bytes (table id to end, checksum excluded) equal the last one zongji fully decoded for that
// table id with FULL metadata gets that decode's objects instead; on the lean packet path such an
// event is built from that decode without running zongji's constructor (quickTableMap).
import { Buffer } from 'node:buffer';
import { enabled, isFn, patchStats, u32, type MysqlPacket, type PacketOptions, type StreamZongji, type TableMapCacheEntry, type ZjParser, type ZongjiLike } from './shared.ts';

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
export let quickTableMap: ((zongji: StreamZongji, packet: MysqlPacket, options: PacketOptions) => object | undefined) | undefined;

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
