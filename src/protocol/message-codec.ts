// One codec per Canal message, the writer and the reader side by side, built once from the
// message's .proto declaration (proto.ts): field numbers, value types and presence come from
// there and nowhere else. Bytes are what Canal's Java builders write and what protobufjs wrote
// for the same fields (test/protocol/message-codec.property.test.ts holds them to protobufjs both
// ways): fields in number order; a plain proto3 field only when it is not its default ('', empty
// bytes, 0, false), as proto3 writes it; a field of a `oneof x_present` (Canal's explicit
// presence) whenever it is set. Reading follows protobufjs too: a known field is read by its
// declared type whatever its tag's wire type says, unknown fields are skipped, the last of a
// repeated scalar field wins.
import protobuf from 'protobufjs';
import { ProtoWriter } from './proto-writer.ts';
import { asBuffer, WireReader } from './wire-reader.ts';
import { tagOf } from './wire-fields.ts';

/** What a message's fields may hold, as the packet functions (packets.ts) pass and get them. */
export type FieldValue = string | number | boolean | Uint8Array | Uint8Array[];

export interface MessageCodec<T extends object> {
  readonly name: string;
  /** The message's bytes; fields that are undefined are left out. */
  encode(msg: T): Uint8Array;
  /** The fields on the wire, by name (absent ones are absent). Throws on bytes that are not this message. */
  decode(bytes: Uint8Array): Partial<T>;
}

type Kind = 'string' | 'bytes' | 'int32' | 'int64' | 'bool' | 'repeatedBytes';

interface FieldPlan {
  name: string;
  id: number;
  tag: number;
  kind: Kind;
  /** a proto3 oneof member: written whenever set, default or not */
  explicit: boolean;
}

function kindOf(type: protobuf.Type, f: protobuf.Field): Kind {
  if (f.repeated) {
    if (f.type === 'bytes') return 'repeatedBytes';
  } else if (f.resolvedType instanceof protobuf.Enum) {
    return 'int32';
  } else if (f.type === 'string' || f.type === 'bytes' || f.type === 'int32' || f.type === 'int64' || f.type === 'bool') {
    return f.type;
  }
  throw new Error(`message-codec.ts: ${type.name}.${f.name} (${f.repeated ? 'repeated ' : ''}${f.type}) is not a field this codec writes; the Entry messages have their own writer (entry-writer.ts)`);
}

function isDefault(kind: Kind, v: FieldValue): boolean {
  switch (kind) {
    case 'string':
      return v === '';
    case 'bytes':
    case 'repeatedBytes':
      return (v as Uint8Array | Uint8Array[]).length === 0;
    case 'bool':
      return v === false;
    default:
      return v === 0;
  }
}

/** One writer for every control message: they are small, and encode() copies out of it. */
const writer = new ProtoWriter(256);
const KEEP_BYTES = 64 * 1024;

/** A codec for a message of scalar and bytes fields (every Canal packet message). */
export function messageCodec<T extends object>(type: protobuf.Type): MessageCodec<T> {
  const plan: FieldPlan[] = type.fieldsArray
    .map((f) => ({ name: f.name, id: f.id, tag: tagOf(type, f), kind: kindOf(type, f), explicit: f.partOf !== null && f.partOf !== undefined }))
    .sort((a, b) => a.id - b.id);
  const byId = new Map(plan.map((p) => [p.id, p]));

  function writeValue(w: ProtoWriter, p: FieldPlan, v: FieldValue): void {
    switch (p.kind) {
      case 'string':
        w.byte(p.tag);
        w.string(v as string);
        return;
      case 'bytes':
        w.byte(p.tag);
        w.bytes(v as Uint8Array);
        return;
      case 'repeatedBytes':
        for (const b of v as Uint8Array[]) {
          w.byte(p.tag);
          w.bytes(b);
        }
        return;
      case 'int32':
        w.byte(p.tag);
        w.int32(v as number);
        return;
      case 'int64':
        w.byte(p.tag);
        w.int64(v as number);
        return;
      case 'bool':
        w.byte(p.tag);
        w.bool(v);
        return;
    }
  }

  function readValue(r: WireReader, p: FieldPlan, out: Record<string, FieldValue>): void {
    switch (p.kind) {
      case 'string':
        out[p.name] = r.string();
        return;
      case 'bytes':
        out[p.name] = bytesAt(r);
        return;
      case 'repeatedBytes':
        ((out[p.name] as Uint8Array[] | undefined) ?? (out[p.name] = [])).push(bytesAt(r));
        return;
      case 'int32':
        out[p.name] = r.int32();
        return;
      case 'int64':
        out[p.name] = r.int64();
        return;
      case 'bool':
        out[p.name] = r.bool();
        return;
    }
  }

  return {
    name: type.name,
    encode(msg: T): Uint8Array {
      const w = writer;
      w.resetAndShrink(KEEP_BYTES);
      const m = msg as Record<string, FieldValue | undefined>;
      for (const p of plan) {
        const v = m[p.name];
        if (v === undefined || (!p.explicit && isDefault(p.kind, v))) continue;
        writeValue(w, p, v);
      }
      return w.finish();
    },
    decode(bytes: Uint8Array): Partial<T> {
      const buf = asBuffer(bytes);
      const r = new WireReader(buf, 0, buf.length);
      const out: Record<string, FieldValue> = {};
      while (r.pos < buf.length) {
        const tag = r.uint32();
        const p = byId.get(tag >>> 3);
        if (p === undefined) r.skip(tag & 7);
        else readValue(r, p, out);
      }
      return out as Partial<T>;
    },
  };
}

/** A bytes field's value: a view of the message's bytes (as protobufjs's reader gives it). */
function bytesAt(r: WireReader): Buffer {
  const end = r.endOfLength();
  const start = r.pos;
  r.pos = end;
  return r.buf.subarray(start, end);
}
