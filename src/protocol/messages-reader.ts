// MESSAGES bodies read for the client's hot path: the batch id and where each entry's bytes
// are, without a view per entry. Reads what packets.ts's decodeMessages (the Messages codec)
// reads, field by field (a property test holds them equal, and both throw on truncated bodies).
import { PacketDecodeError } from './packets.ts';
import { asBuffer, WireReader } from './wire-reader.ts';
import { fields } from './wire-fields.ts';

const BATCH_ID = fields.Messages.batchId;
const ENTRY = fields.Messages.messages;

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
      // A known field is read by its declared type whatever the tag's wire type says (as protobufjs and the codec do).
      switch (tag >>> 3) {
        case BATCH_ID:
          batchId = r.int64();
          break;
        case ENTRY: {
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
