// MESSAGES frames for GET replies, built in one buffer a connection reuses from batch to batch.
// A fresh frame per batch (about 1 MiB at Canal's default fetch size) is held by the socket until
// the kernel takes it, long enough to reach V8's old generation, where dead Buffers pile up until
// a full GC. Reusing one buffer keeps a connection's output at a fixed size. The bytes are those
// of rawMessagesFrame in src/protocol/packets.ts (Canal's raw fast path): stored entries are
// copied in as they are, never decoded.
import { rawMessagesLayout, writeRawMessagesFrame } from '../protocol/packets.ts';

/** Frames up to this size reuse the connection's buffer; larger ones (huge ITEMSIZE batches) get their own. */
export const MAX_REUSED_FRAME_BYTES = 4 * 1024 * 1024;

export interface BuiltFrame {
  frame: Buffer;
  /** the frame lives in the reused buffer: call release() once the socket has written it */
  reused: boolean;
}

export class MessagesFrameWriter {
  private buffer: Buffer | undefined;
  private inFlight = false;

  constructor(private readonly maxReusedBytes = MAX_REUSED_FRAME_BYTES) {}

  /** The complete frame (length header included) of a non-empty batch. */
  build(batchId: number, entries: readonly Uint8Array[]): BuiltFrame {
    const layout = rawMessagesLayout(batchId, entries);
    const size = layout.frameBytes;
    let out: Buffer;
    let reused = false;
    if (!this.inFlight && size <= this.maxReusedBytes) {
      if (this.buffer === undefined || this.buffer.length < size) {
        // Grown with headroom, so batches of slightly varying size do not reallocate each time.
        this.buffer = Buffer.allocUnsafeSlow(Math.min(this.maxReusedBytes, Math.max(size + (size >> 2), 64 * 1024)));
      }
      out = this.buffer.subarray(0, size);
      this.inFlight = true;
      reused = true;
    } else {
      out = Buffer.allocUnsafe(size);
    }
    writeRawMessagesFrame(out, layout, batchId, entries);
    return { frame: out, reused };
  }

  /** The socket no longer needs the reused buffer's last frame. */
  release(): void {
    this.inFlight = false;
  }
}
