// Little-endian reads over a binlog event's bytes with an explicit end: a read that would pass
// the end throws a BinlogFormatError instead of returning garbage.
import type { Buffer } from 'node:buffer';

export class BinlogFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BinlogFormatError';
  }
}

/** A cursor over buf[pos, end). */
export class ByteReader {
  constructor(
    public buf: Buffer,
    public pos: number,
    public end: number,
    /** what is being read, for error messages */
    public what: string,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.end) {
      throw new BinlogFormatError(`truncated ${this.what}: ${n} bytes needed at byte ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return b[p]! | (b[p + 1]! << 8);
  }

  u24(): number {
    this.need(3);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 3;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  u48(): number {
    const low = this.u32();
    return this.u16() * 0x100000000 + low;
  }

  /** A u64 as a Number while below 2^53, else its exact decimal text (zongji's convention). */
  u64(): number | string {
    const low = this.u32();
    const high = this.u32();
    if (high < 0x200000) return high * 0x100000000 + low;
    return ((BigInt(high) << 32n) | BigInt(low)).toString();
  }

  /** Length-encoded integer; null for the NULL marker 0xfb. */
  lenenc(): number | null {
    const first = this.u8();
    if (first < 251) return first;
    if (first === 251) return null;
    if (first === 252) return this.u16();
    if (first === 253) return this.u24();
    if (first === 254) {
      const low = this.u32();
      return this.u32() * 0x100000000 + low;
    }
    throw new BinlogFormatError(`invalid length-encoded integer in ${this.what} at byte ${this.pos - 1}`);
  }

  /** A length-encoded integer that must be present (not NULL). */
  count(): number {
    const n = this.lenenc();
    if (n === null) throw new BinlogFormatError(`unexpected NULL length in ${this.what} at byte ${this.pos - 1}`);
    return n;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  utf8(n: number): string {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.toString('utf8', p, p + n);
  }

  left(): number {
    return this.end - this.pos;
  }
}
