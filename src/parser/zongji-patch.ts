// Runtime patches of @vlasky/zongji 0.9.0 internals (pinned by package-lock) that cut decode CPU
// without changing what zongji hands over:
//  - TABLE_MAP reuse: on single-row loads every transaction repeats the same table map, and
//    zongji re-parses its column and optional metadata and rebuilds its column schemas each time.
//    A table map whose bytes (table id to end, checksum excluded) equal the last one zongji fully
//    decoded for that table id with FULL metadata gets that decode's objects instead.
//  - Parser.parseUnsignedNumber for 1-4 bytes reads the bytes directly instead of going through
//    Buffer.readUIntLE's generic dispatch (~4% of a single-row load's CPU).
// Both check the shape of what they patch first and leave zongji as it is when it differs.
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
}

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

/** Per zongji instance (keyed by its tableMap object, which every TableMap event carries). */
interface ZongjiState {
  zongji: ZongjiLike;
  byId: Map<number, Decoded>;
}

export interface PatchResult {
  tableMapReuse: boolean;
  fastUnsigned: boolean;
  /** why a patch was not applied */
  problems: string[];
}

let installed: Promise<PatchResult> | undefined;
/** Off: every hook takes zongji's own path (tests compare both ways on the same binlog). */
let enabled = true;
/** Table maps that reused an earlier decode (tests check the reuse path ran). */
export const patchStats = { tableMapReuses: 0 };

export function setZongjiPatchesEnabled(on: boolean): void {
  enabled = on;
}

/** Applies the patches once per process; later calls return the first result. */
export function installZongjiPatches(): Promise<PatchResult> {
  installed ??= install();
  return installed;
}

async function install(): Promise<PatchResult> {
  const result: PatchResult = { tableMapReuse: false, fastUnsigned: false, problems: [] };
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
          this.columnTypes = d.columnTypes;
          // named stores: one hidden-class path for every reused event
          const v = d.values;
          const has = d.present;
          if (has & 1) this.columnsMetadata = v[0];
          if (has & 2) this.columnNames = v[1];
          if (has & 4) this.signedness = v[2];
          if (has & 8) this.primaryKey = v[3];
          if (has & 16) this.columnVisibility = v[4];
          if (has & 32) this.geometryTypes = v[5];
          if (has & 64) this._columnCharsetIds = v[6];
          if (has & 128) this._enumSetValues = v[7];
          parser._offset = parser._packetEnd - d.endDelta;
          this[HIT] = d;
          patchStats.tableMapReuses++;
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
    this[PENDING] = undefined;
    st.byId.set(this.tableId, p);
  };

  Object.defineProperty(proto, PATCHED, { value: true });
  return true;
}

const PATCHED = Symbol('sluice.patched');
