// MESSAGES frames for GET replies, as the pieces a gathered write (writev) sends in order. The
// bytes are those of rawMessagesFrame in src/protocol/packets.ts (Canal's raw fast path): stored
// entries go out as they are, never decoded. An entry of at least `gatherMinBytes` is not copied
// at all: the socket writes it from where the store keeps it (shared by every destination of a
// shared reader, or in the store's byte ring), so serving N consumers the same entries costs no
// N copies of them. Smaller entries, the frame header and every entry's field prefix are copied
// into one buffer a connection reuses from batch to batch: a fresh one per batch (about 1 MiB at
// Canal's default fetch size) would be held by the socket until the kernel takes it, long enough
// to reach V8's old generation, where dead Buffers pile up until a full GC.
import { rawMessagesLayout, writeRawMessagesFrame } from '../protocol/packets.ts';
import { varintSize, writeVarint } from '../protocol/varint.ts';
import { tags } from '../protocol/wire-fields.ts';

/** Frames up to this size reuse the connection's buffer; larger ones (huge ITEMSIZE batches) get their own. */
export const MAX_REUSED_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Entries this long or longer are written from the store's memory instead of copied. Below it a
 * copy costs less than a piece of its own in the write (Node's per-chunk stream bookkeeping).
 */
export const GATHER_MIN_BYTES = 2048;

const TAG_MESSAGES_ENTRY = tags.Messages.messages;

export interface BuiltFrame {
  /** the complete frame (length header included) in pieces, to be written in this order */
  chunks: Uint8Array[];
  /**
   * Some piece is an entry's bytes where the store keeps them: the socket must be done with the
   * frame before the batch can be acknowledged (and that memory reused).
   */
  gathered: boolean;
  /** the pieces lie in the reused buffer: call release() once the socket has written them */
  reused: boolean;
}

export class MessagesFrameWriter {
  private buffer: Buffer | undefined;
  private inFlight = false;

  constructor(
    private readonly maxReusedBytes = MAX_REUSED_FRAME_BYTES,
    private readonly gatherMinBytes = GATHER_MIN_BYTES,
  ) {}

  /** The frame of a non-empty batch. */
  build(batchId: number, entries: readonly Uint8Array[]): BuiltFrame {
    const layout = rawMessagesLayout(batchId, entries);
    let gatheredBytes = 0;
    let fieldsBytes = 0;
    for (const e of entries) {
      fieldsBytes += 1 + varintSize(e.length) + e.length;
      if (e.length >= this.gatherMinBytes) gatheredBytes += e.length;
    }
    const size = layout.frameBytes - gatheredBytes;
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
    if (gatheredBytes === 0) {
      writeRawMessagesFrame(out, layout, batchId, entries);
      return { chunks: [out], gathered: false, reused };
    }
    // The header alone (no entries), then each entry's field prefix and either its bytes or,
    // for a gathered entry, a cut: the piece so far, then the entry where it lies.
    writeRawMessagesFrame(out, layout, batchId, []);
    let at = layout.frameBytes - fieldsBytes;
    let pieceStart = 0;
    const chunks: Uint8Array[] = [];
    for (const e of entries) {
      out[at++] = TAG_MESSAGES_ENTRY;
      at = writeVarint(out, at, e.length);
      if (e.length >= this.gatherMinBytes) {
        chunks.push(out.subarray(pieceStart, at), e);
        pieceStart = at;
      } else {
        out.set(e, at);
        at += e.length;
      }
    }
    if (at > pieceStart) chunks.push(out.subarray(pieceStart, at));
    return { chunks, gathered: true, reused };
  }

  /** The socket no longer needs the reused buffer's last frame. */
  release(): void {
    this.inFlight = false;
  }
}
