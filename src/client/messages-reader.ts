// MESSAGES bodies read by hand: the batch id and where each entry's bytes are, without the
// Buffer per entry, message object and array copies of protobufjs's decode and toObject. Reads
// what packets.ts's decodeMessages reads, field by field as protobufjs does (a property test
// holds them equal, and both throw on truncated bodies).
import { PacketDecodeError } from '../protocol/packets.ts';
import { asBuffer, WireReader } from './wire-reader.ts';

export interface MessageSpans {
  batchId: number;
  body: Buffer;
  /** entry i is body[starts[i], ends[i]) */
  starts: number[];
  ends: number[];
}

/** Throws PacketDecodeError, as decodeMessages does, on a body that is not a Messages message. */
export function readMessages(bytes: Uint8Array): MessageSpans {
  const body = asBuffer(bytes);
  const r = new WireReader(body, 0, body.length);
  let batchId = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  try {
    while (r.pos < body.length) {
      const tag = r.uint32();
      // protobufjs reads a known field by its declared type whatever the tag's wire type says.
      switch (tag >>> 3) {
        case 1:
          batchId = r.int64();
          break;
        case 2: {
          const end = r.endOfLength();
          starts.push(r.pos);
          ends.push(end);
          r.pos = end;
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
  } catch (err) {
    throw new PacketDecodeError('Messages', err);
  }
  return { batchId, body, starts, ends };
}
