// A minimal protobuf wire-format reader over a Buffer: the reading half of the Canal codec
// (packets in message-codec.ts, MESSAGES bodies, the client's entry readers), beside the
// writing half in proto-writer.ts. It reads values the way protobufjs does (so results are
// identical) but builds no reader or Long objects: one cursor per message, varints read
// inline, strings sliced straight from the buffer. Every read is bounds-checked against
// `limit` and throws a RangeError naming the offset, also where protobufjs's Buffer reader
// would cut a string short.

const TWO_32 = 4294967296;
const EMPTY = Buffer.alloc(0);

/** Buffer's own UTF-8 decoder, which toString('utf8', ...) calls after argument checks. */
interface Utf8SliceBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
}

/** The UTF-8 text of buf[start, end), invalid sequences replaced by U+FFFD as Buffer does. */
export function utf8(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : (buf as Utf8SliceBuffer).utf8Slice(start, end);
}

export class WireReader {
  pos: number;

  constructor(
    public buf: Buffer,
    start: number,
    /** offset just past the last byte this reader may read */
    public limit: number,
  ) {
    this.pos = start;
  }

  /**
   * Points this reader at other bytes: for a caller that reads many messages one after the
   * other with one reader, instead of allocating one per message.
   */
  reset(buf: Buffer, start: number, limit: number): this {
    this.buf = buf;
    this.pos = start;
    this.limit = limit;
    return this;
  }

  /** Drops the bytes after a reset() reader's use, so that it does not keep them alive. */
  release(): void {
    this.buf = EMPTY;
  }

  /** The low 32 bits of a varint of up to 10 bytes, unsigned (as protobufjs's uint32). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.limit) throw this.truncated();
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b < 0x80) {
      this.pos = pos;
      return v;
    }
    for (let shift = 7; shift < 32; shift += 7) {
      if (pos >= this.limit) throw this.truncated();
      b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return v >>> 0;
      }
    }
    // Bits above 32 are dropped. The rest of the varint is taken as five bytes, unread, as
    // protobufjs (which the server used to read packets with) takes it: for the 10-byte form of
    // a negative int32, the only longer varint an encoder writes, that is exact, and a
    // non-canonical varint of 6 to 9 bytes reads as it did before the codec.
    if (pos + 5 > this.limit) throw this.truncated();
    this.pos = pos + 5;
    return v >>> 0;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** An int64 varint as a JS number, rounded the way protobufjs's LongBits.toNumber rounds it. */
  int64(): number {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 4; i++) {
      if (pos >= this.limit) throw this.truncated();
      const b = buf[pos++]!;
      lo = (lo | ((b & 0x7f) << (i * 7))) >>> 0;
      if (b < 0x80) {
        this.pos = pos;
        return lo;
      }
    }
    // 5th byte: 4 bits to lo, 3 bits to hi.
    if (pos >= this.limit) throw this.truncated();
    let b = buf[pos++]!;
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      let done = false;
      for (let shift = 3; shift < 32; shift += 7) {
        if (pos >= this.limit) throw this.truncated();
        b = buf[pos++]!;
        hi = (hi | ((b & 0x7f) << shift)) >>> 0;
        if (b < 0x80) {
          done = true;
          break;
        }
      }
      if (!done) throw new RangeError(`invalid varint encoding at offset ${this.pos}`);
    }
    this.pos = pos;
    if (hi >>> 31) {
      // Negative: negate the two's complement, as LongBits.toNumber does.
      const nlo = (~lo + 1) >>> 0;
      let nhi = ~hi >>> 0;
      if (nlo === 0) nhi = (nhi + 1) >>> 0;
      return -(nlo + nhi * TWO_32);
    }
    return lo + hi * TWO_32;
  }

  /** Reads a length prefix and returns where the embedded message or bytes that follow end. */
  endOfLength(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.limit) throw new RangeError(`length ${len} at offset ${this.pos} runs past the end of its message (${this.limit})`);
    return end;
  }

  string(): string {
    const end = this.endOfLength();
    const start = this.pos;
    this.pos = end;
    return utf8(this.buf, start, end);
  }

  /** Skips one field's value of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case 0: {
        // to the varint's last byte, however long (as protobufjs skips one)
        const buf = this.buf;
        let pos = this.pos;
        do {
          if (pos >= this.limit) throw this.truncated();
        } while (buf[pos++]! >= 0x80);
        this.pos = pos;
        return;
      }
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.endOfLength();
        return;
      case 3:
        for (;;) {
          const tag = this.uint32();
          if ((tag & 7) === 4) return;
          this.skip(tag & 7);
        }
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.limit) throw this.truncated();
    this.pos += n;
  }

  private truncated(): RangeError {
    return new RangeError(`index out of range: message truncated at offset ${this.pos} of ${this.limit}`);
  }
}

/** The same bytes as a Buffer, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
