// MESSAGES frames for GET replies, built in one buffer a connection reuses from batch to batch.
// A fresh frame per batch (about 1 MiB at Canal's default fetch size) is held by the socket until
// the kernel takes it, long enough to reach V8's old generation, where dead Buffers pile up until
// a full GC. Reusing one buffer keeps a connection's output at a fixed size. The bytes are those
// of rawMessagesFrame in src/protocol/packets.ts (Canal's raw fast path): stored entries are
// copied in as they are, never decoded.
import { FRAME_HEADER_BYTES, FrameTooLargeError, MAX_WIRE_FRAME_BYTES } from '../protocol/frame.ts';
import { PacketType } from '../protocol/packets.ts';
import { varintSize, writeVarint } from '../protocol/varint.ts';

const TAG_PACKET_TYPE = 0x18; // Packet field 3, varint
const TAG_PACKET_BODY = 0x2a; // Packet field 5, length-delimited
const TAG_MESSAGES_BATCH_ID = 0x08; // Messages field 1, varint
const TAG_MESSAGES_ENTRY = 0x12; // Messages field 2, length-delimited

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
    if (!Number.isSafeInteger(batchId) || batchId < 1) throw new RangeError(`raw MESSAGES needs a batch id >= 1, got ${batchId}`);
    let bodyLen = 1 + varintSize(batchId);
    for (const e of entries) bodyLen += 1 + varintSize(e.length) + e.length;
    const packetLen = 3 + varintSize(bodyLen) + bodyLen;
    if (packetLen > MAX_WIRE_FRAME_BYTES) throw new FrameTooLargeError(packetLen, MAX_WIRE_FRAME_BYTES);
    const size = FRAME_HEADER_BYTES + packetLen;
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
    out.writeUInt32BE(packetLen, 0);
    let at = FRAME_HEADER_BYTES;
    out[at++] = TAG_PACKET_TYPE;
    out[at++] = PacketType.MESSAGES;
    out[at++] = TAG_PACKET_BODY;
    at = writeVarint(out, at, bodyLen);
    out[at++] = TAG_MESSAGES_BATCH_ID;
    at = writeVarint(out, at, batchId);
    for (const e of entries) {
      out[at++] = TAG_MESSAGES_ENTRY;
      at = writeVarint(out, at, e.length);
      out.set(e, at);
      at += e.length;
    }
    return { frame: out, reused };
  }

  /** The socket no longer needs the reused buffer's last frame. */
  release(): void {
    this.inFlight = false;
  }
}
