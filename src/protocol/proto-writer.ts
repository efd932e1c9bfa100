// A protobuf writer over one growable buffer, reused across messages. Nested messages reserve
// room for their length and patch it in at the end, so nothing is sized twice and the only copy
// is the final one. Every primitive writes the same bytes as protobufjs's BufferWriter (which
// entry-codec.ts used before): the same varint forms for negative int32/int64, the same UTF-8
// for lone surrogates in short strings, and fields written whenever they are not null/undefined.
import { Buffer } from 'node:buffer';
import { varintSize } from './varint.ts';

/** Below this many UTF-16 units protobufjs encodes strings in JS (lone surrogates as 3 raw bytes). */
export const SHORT_STRING = 40;
const TWO_32 = 4294967296;


/**
 * The UTF-8 of a string shorter than SHORT_STRING units at `p` of `b`, room for 3 bytes per unit
 * checked by the caller; returns the end. Lone surrogates become 3 raw bytes, as in protobufjs.
 * Shared by string() and writers that lay out a whole field run themselves (row-batch cells).
 */
export function writeShortString(b: Buffer, v: DataView, p: number, s: string): number {
  const n = s.length;
  let i = 0;
  // ASCII four units to a store, the rest (and anything after the first non-ASCII unit) one by one
  for (; i + 4 <= n; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) break;
    v.setUint32(p, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), true);
    p += 4;
  }
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = (c >> 6) | 192;
      b[p++] = (c & 63) | 128;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      b[p++] = (c >> 18) | 240;
      b[p++] = ((c >> 12) & 63) | 128;
      b[p++] = ((c >> 6) & 63) | 128;
      b[p++] = (c & 63) | 128;
    } else {
      b[p++] = (c >> 12) | 224;
      b[p++] = ((c >> 6) & 63) | 128;
      b[p++] = (c & 63) | 128;
    }
  }
  return p;
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export class ProtoWriter {
  buf: Buffer;
  /** a view of `buf`, for writers that store 4 bytes at a time (row-batch cells) */
  view: DataView;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = viewOf(this.buf);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. The hot primitives test the room themselves and call this only to grow. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = viewOf(next);
  }

  /** An unsigned 32-bit varint (tags, lengths, non-negative int32). */
  uint32(value: number): void {
    let v = value >>> 0;
    if (this.pos + 5 > this.buf.length) this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 127) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** int32 and enums: negative values take the 10-byte sign-extended form, as in protobufjs. */
  int32(value: number): void {
    if (value < 0) this.int64(value);
    else this.uint32(value);
  }

  /** int64 from a JS number, with protobufjs's LongBits.fromNumber conversion. */
  int64(value: number): void {
    if (value >= 0 && value < 0x80000000 && value === (value | 0)) {
      this.uint32(value);
      return;
    }
    if (value === 0) {
      this.uint32(0);
      return;
    }
    const negative = value < 0;
    if (negative) value = -value;
    let lo = value >>> 0;
    let hi = ((value - lo) / TWO_32) >>> 0;
    if (negative) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
      if (++lo > 4294967295) {
        lo = 0;
        if (++hi > 4294967295) hi = 0;
      }
    }
    if (this.pos + 10 > this.buf.length) this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0) {
      b[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      b[p++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  bool(value: unknown): void {
    if (this.pos === this.buf.length) this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  byte(value: number): void {
    if (this.pos === this.buf.length) this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /** A length-delimited UTF-8 string. */
  string(s: string): void {
    const n = s.length;
    if (n < SHORT_STRING) {
      // at most 3 bytes per unit: the length fits one byte
      if (this.pos + 1 + n * 3 > this.buf.length) this.ensure(1 + n * 3);
      const b = this.buf;
      const start = this.pos;
      const p = writeShortString(b, this.view, start + 1, s);
      b[start] = p - start - 1;
      this.pos = p;
      return;
    }
    const len = Buffer.byteLength(s);
    this.uint32(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  /** Length-delimited bytes. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.raw(value);
  }

  /** Bytes already encoded (a pre-built field run), copied as they are. */
  raw(value: Uint8Array): void {
    const n = value.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n < 32) {
      for (let i = 0; i < n; i++) b[p++] = value[i]!;
    } else {
      b.set(value, p);
      p += n;
    }
    this.pos = p;
  }

  /**
   * Starts a length-delimited field's body, reserving `reserve` bytes for its length (a guess of
   * its varint size); returns the mark to hand to ldelim.
   */
  fork(reserve: number): number {
    this.ensure(reserve);
    const mark = this.pos;
    this.pos += reserve;
    return mark;
  }

  /** Ends the body begun at `mark`: writes its length, moving the body if the guess was wrong. */
  ldelim(mark: number, reserve: number): void {
    const bodyStart = mark + reserve;
    let len = this.pos - bodyStart;
    const size = varintSize(len);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(mark + size, bodyStart, this.pos);
      this.pos += size - reserve;
    }
    const b = this.buf;
    let p = mark;
    while (len > 127) {
      b[p++] = (len & 127) | 128;
      len >>>= 7;
    }
    b[p] = len;
  }

  /** Starts over, dropping a buffer grown past `maxBytes` (by one huge message) so it is not held forever. */
  resetAndShrink(maxBytes: number): void {
    this.pos = 0;
    if (this.buf.length > maxBytes) {
      this.buf = Buffer.allocUnsafe(64 * 1024);
      this.view = viewOf(this.buf);
    }
  }

  /** A copy of what was written since the last reset. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}
