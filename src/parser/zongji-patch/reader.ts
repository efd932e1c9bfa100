// zongji's reader: 1-4-byte unsigned reads without Buffer.readUIntLE's generic dispatch.
import { enabled, isFn, isPatched, markPatched, uintLE, type ZjParser } from './shared.ts';

/** Same value as readUIntLE(offset, bytes) for 1-4 bytes within the buffer; the rest goes to the original. */
export function patchParser(Parser: { prototype: ZjParser } | undefined, problems: string[]): boolean {
  const proto = Parser?.prototype;
  const orig = proto?.parseUnsignedNumber;
  if (!proto || !isFn(orig) || !/readUIntLE\(offset, bytes\)/.test(String(orig))) {
    problems.push('Parser.parseUnsignedNumber is not the one the patch knows');
    return false;
  }
  if (isPatched(orig)) return true;
  const fast = function (this: ZjParser, bytes: number): number {
    const packet = this.packet;
    if (packet === null || bytes > 4 || bytes < 1 || !enabled) return orig.call(this, bytes);
    const b = this._buffer;
    const o = packet.offset;
    // out of range (or a non-integer offset): the original's error
    if (!(o >= 0 && o + bytes <= b.length) || o !== Math.floor(o)) return orig.call(this, bytes);
    packet.offset = o + bytes;
    return uintLE(b, o, bytes);
  };
  markPatched(fast, orig);
  proto.parseUnsignedNumber = fast;
  return true;
}

