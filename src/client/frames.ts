// Canal framing on the client side: a 4-byte big-endian body length, then the body (one Packet).
// Bytes arrive in arbitrary chunks; the reader hands out whole bodies and checks each announced
// length against a cap before buffering toward it.

export class FrameTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`frame of ${length} bytes announced, more than the limit of ${limit} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

export function encodeFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** body length of the frame being assembled, or -1 while its header is incomplete */
  private need = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds received bytes; returns the bodies completed by them, in order. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const len = this.take(4).readUInt32BE(0);
        if (len > this.maxFrameBytes) throw new FrameTooLargeError(len, this.maxFrameBytes);
        this.need = len;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      // The common case: no copy, a view of the received chunk.
      const part = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return part;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const use = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, use);
      filled += use;
      if (use === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(use);
    }
    this.buffered -= n;
    return out;
  }
}
