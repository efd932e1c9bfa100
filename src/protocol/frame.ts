// Canal's framing: a 4-byte big-endian length, then that many bytes of one serialized Packet.
// The length counts only the body. Inbound frames are capped, and the cap is checked as soon as
// the 4 header bytes are in, before a byte of the body is buffered or allocated: a client must
// not be able to make the server reserve memory by announcing a huge frame.

export const FRAME_HEADER_BYTES = 4;

/** Largest body any peer may send or accept: Java reads the length as a signed int. */
export const MAX_WIRE_FRAME_BYTES = 0x7fffffff;

export class FrameTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly maxFrameBytes: number,
  ) {
    super(`frame length ${length} exceeds the limit of ${maxFrameBytes} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

/** Frames one packet body: the 4-byte big-endian length, then the body. */
export function encodeFrame(body: Uint8Array): Buffer {
  if (body.length > MAX_WIRE_FRAME_BYTES) throw new FrameTooLargeError(body.length, MAX_WIRE_FRAME_BYTES);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Incremental decoder for one connection's byte stream. `push` takes whatever the socket
 * delivered and returns the complete frame bodies it finished, in order; a partial frame stays
 * buffered until the rest arrives. Memory held is at most one header plus one capped body.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** body length of the frame being read, or -1 while its header is incomplete */
  private expected = -1;
  private failed = false;

  constructor(readonly maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > MAX_WIRE_FRAME_BYTES) {
      throw new RangeError(`maxFrameBytes must be an integer in 0..${MAX_WIRE_FRAME_BYTES}, got ${maxFrameBytes}`);
    }
  }

  /** Bytes received and not yet returned as part of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Throws FrameTooLargeError when a header announces more than the cap; the decoder is then unusable. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.failed) throw new Error('frame decoder already failed on an oversized frame');
    if (chunk.length > 0) {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          this.failed = true;
          this.chunks = [];
          this.buffered = 0;
          throw new FrameTooLargeError(length, this.maxFrameBytes);
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  /** Removes exactly n buffered bytes (n <= buffered) and returns them as one buffer of its own. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    // Copy rather than slice: a slice would keep the whole socket chunk alive for as long as
    // the frame waits in the session's queue.
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let head = first;
    while (filled < n && head !== undefined) {
      const want = n - filled;
      if (head.length <= want) {
        head.copy(out, filled);
        filled += head.length;
        this.chunks.shift();
      } else {
        head.copy(out, filled, 0, want);
        filled += want;
        this.chunks[0] = head.subarray(want);
      }
      head = this.chunks[0];
    }
    this.buffered -= n;
    return out;
  }
}
