// MariaDB compression envelopes: whole compressed events (log_bin_compress=ON) and COMPRESSED
// columns. Both are zlib; they differ in their header byte.
import type { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { BinlogFormatError } from './bytes.ts';

/**
 * The payload of a compressed QUERY or rows event: a header byte (bit 7 set, algorithm in bits
 * 4-6 where only 0 = zlib exists, bits 0-2 the width of the big-endian original length that
 * follows), then a zlib stream that must inflate to exactly that length.
 */
export function inflateEventPayload(payload: Buffer): Buffer {
  if (payload.length < 1) throw new BinlogFormatError('empty compressed binlog event payload');
  const header = payload[0]!;
  if ((header & 0x80) === 0 || (header & 0x70) !== 0) throw new BinlogFormatError(`unknown binlog event compression header 0x${header.toString(16)}`);
  const lengthBytes = header & 0x07;
  if (lengthBytes < 1 || lengthBytes > 4 || payload.length < 1 + lengthBytes) {
    throw new BinlogFormatError(`corrupt binlog event compression header 0x${header.toString(16)}`);
  }
  const expected = payload.readUIntBE(1, lengthBytes);
  const inflated = zlib.inflateSync(payload.subarray(1 + lengthBytes));
  if (inflated.length !== expected) throw new BinlogFormatError(`compressed binlog event inflated to ${inflated.length} bytes, expected ${expected}`);
  return inflated;
}

/**
 * A COMPRESSED column's value: empty stays empty; header method 0 = stored as is after the
 * header byte; method 8 = zlib, bits 0-2 the width of the original length that follows, bit 3
 * set for a raw deflate stream.
 */
export function inflateColumnValue(value: Buffer): Buffer {
  if (value.length === 0) return value;
  const header = value[0]!;
  const method = header >> 4;
  if (method === 0) return value.subarray(1);
  if (method === 8) {
    const body = value.subarray(1 + (header & 0x07));
    return (header & 0x08) !== 0 ? zlib.inflateRawSync(body) : zlib.inflateSync(body);
  }
  throw new BinlogFormatError(`unknown MariaDB column compression method ${method}`);
}
