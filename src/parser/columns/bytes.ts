// Byte-valued columns. Canal maps binary data one byte to one char (ISO-8859-1), so that the
// string is valid UTF-8 on the wire and clients recover the bytes with getBytes("ISO-8859-1").
import { Buffer } from 'node:buffer';

/** BINARY, VARBINARY, BLOB and GEOMETRY bytes as Canal's Latin-1 string. */
export function latin1(bytes: Buffer): string {
  return bytes.toString('latin1');
}

/** BIT(n): the big-endian bytes as an unsigned decimal, e.g. b'101' -> "5". */
export function bitValue(bytes: Buffer): string {
  if (bytes.length <= 6) return bytes.length === 0 ? '0' : String(bytes.readUIntBE(0, bytes.length));
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString();
}

interface StringWithWellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * Text as a string protobuf can write as UTF-8: a lone surrogate (which no valid column bytes
 * decode to, but a Go client would reject the whole batch over) becomes U+FFFD.
 */
export function wellFormed(text: string): string {
  const s = text as unknown as StringWithWellFormed;
  return s.isWellFormed() ? text : s.toWellFormed();
}
