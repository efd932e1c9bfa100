// Reuse of repeated short strings decoded from entry bytes.
import { utf8, type WireReader } from '../protocol/wire-reader.ts';

/**
 * The string last seen at each position (a column position of a row image, a header field),
 * with its bytes, so that values that repeat from row to row or entry to entry (column names,
 * MySQL types, file, schema and table names) are one string each. Sharing saves decoding and
 * memory, and lets V8 store map keys it has already hashed. A lookup compares bytes, so a
 * position that changes value only costs a fresh decode.
 */
export class PositionStrings {
  private static readonly MAX_POSITIONS = 256;
  /** longer strings (statements, long values) are rarely repeated: not worth keeping */
  private static readonly MAX_BYTES = 64;
  /** each position's last bytes, in a buffer of MAX_BYTES kept for it (a miss copies, never allocates) */
  private readonly bytes: (Buffer | undefined)[] = [];
  private readonly lengths: number[] = [];
  private readonly names: string[] = [];

  get(buf: Buffer, start: number, end: number, position: number): string {
    const len = end - start;
    // '' needs no decoding, and must not evict the string usually seen here (a begin or end
    // entry's empty table name between row entries' names).
    if (len === 0) return '';
    if (position >= PositionStrings.MAX_POSITIONS || len > PositionStrings.MAX_BYTES) return utf8(buf, start, end);
    let known = this.bytes[position];
    if (known !== undefined && this.lengths[position] === len) {
      let i = 0;
      while (i < len && known[i] === buf[start + i]) i++;
      if (i === len) return this.names[position]!;
    }
    const name = utf8(buf, start, end);
    if (known === undefined) known = this.bytes[position] = Buffer.allocUnsafe(PositionStrings.MAX_BYTES);
    for (let i = 0; i < len; i++) known[i] = buf[start + i]!;
    this.lengths[position] = len;
    this.names[position] = name;
    return name;
  }

  /** Reads a length-delimited string field at `r` through the cache. */
  read(r: WireReader, position: number): string {
    const end = r.endOfLength();
    const start = r.pos;
    r.pos = end;
    return this.get(r.buf, start, end, position);
  }
}
