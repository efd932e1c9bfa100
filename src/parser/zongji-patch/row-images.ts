// Row images (lib/rows_event.js readRow): the null bitmap read in place instead of sliced, and
// integers, utf8 text and BIT bytes read directly instead of through readMysqlValue's generic path
// (a Buffer view per text value, apply(arguments) per integer); every other value, and any read
// that would run past the buffer, still goes to readMysqlValue. Only over the files it knows by hash.
import type { Buffer } from 'node:buffer';
import { enabled, filesMatch, isFn, isPatched, markPatched, uintLE, type ReusedParser } from './shared.ts';

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

export async function patchRows(base: URL, problems: string[]): Promise<boolean> {
  if (!filesMatch(base, ROWS_FILES, 'row reader', problems)) return false;
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
  if (isPatched(origRow)) return true;
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
  markPatched(fetchRow, origRow);
  markPatched(fetchUpdate, origUpdate);
  rowsProto._fetchOneRow = fetchRow;
  updateProto._fetchOneRow = fetchUpdate;
  return true;
}
