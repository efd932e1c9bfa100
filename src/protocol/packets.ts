// Every Canal packet, as the bytes of one frame body (a serialized Packet), in both directions.
// The server's replies carry version=1 as Canal's builders set it; client requests carry no
// version, as the Java client sends them. Presence rules follow proto3 as Canal's Java builders
// write it (docs/protocol.md, Wire), and message-codec.ts applies them: a plain field at its
// default is not written, a oneof field (Canal's explicit presence) is written whenever set. The
// server and the client both read and write every packet through the codecs below.
import { messageCodec, type MessageCodec } from './message-codec.ts';
import { pb } from './proto.ts';
import { FRAME_HEADER_BYTES, MAX_WIRE_FRAME_BYTES, FrameTooLargeError } from './frame.ts';
import { varintSize, writeVarint } from './varint.ts';
import { tags } from './wire-fields.ts';

export const PacketType = {
  HANDSHAKE: 1,
  CLIENTAUTHENTICATION: 2,
  ACK: 3,
  SUBSCRIPTION: 4,
  UNSUBSCRIPTION: 5,
  GET: 6,
  MESSAGES: 7,
  CLIENTACK: 8,
  SHUTDOWN: 9,
  DUMP: 10,
  HEARTBEAT: 11,
  CLIENTROLLBACK: 12,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

const typeNames: Record<number, string> = { 0: 'PACKAGETYPECOMPATIBLEPROTO2', ...Object.fromEntries(Object.entries(PacketType).map(([k, v]) => [v, k])) };

/** The enum name Canal prints in "packet type: X is NOT supported!"; unknown numbers as Java's UNRECOGNIZED. */
export function packetTypeName(type: number): string {
  return typeNames[type] ?? `UNRECOGNIZED(${type})`;
}

/** Thrown when bytes do not parse as the expected message. */
export class PacketDecodeError extends Error {
  constructor(what: string, cause: unknown) {
    super(`malformed ${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'PacketDecodeError';
  }
}

interface PacketMessage {
  magicNumber?: number;
  version?: number;
  type: number;
  compression?: number;
  body?: Uint8Array;
}
interface HandshakeMessage {
  communicationEncoding?: string;
  seeds: Uint8Array;
  supportedCompressions?: number;
}
interface ClientAuthMessage {
  username: string;
  password?: Uint8Array;
  netReadTimeout?: number;
  netWriteTimeout?: number;
  destination?: string;
  clientId?: string;
  filter?: string;
  startTimestamp?: number;
}
interface AckMessage {
  errorCode?: number;
  errorMessage?: string;
}
interface MessagesMessage {
  batchId: number;
  messages: Uint8Array[];
}

/** The codec of each packet message (message-codec.ts), from proto/canal_packet.proto. */
export const codecs = {
  Packet: messageCodec<PacketMessage>(pb.Packet),
  Handshake: messageCodec<HandshakeMessage>(pb.Handshake),
  ClientAuth: messageCodec<ClientAuthMessage>(pb.ClientAuth),
  Ack: messageCodec<AckMessage>(pb.Ack),
  Sub: messageCodec<SubFields>(pb.Sub),
  Unsub: messageCodec<SubFields>(pb.Unsub),
  Get: messageCodec<GetFields>(pb.Get),
  Messages: messageCodec<MessagesMessage>(pb.Messages),
  ClientAck: messageCodec<BatchFields>(pb.ClientAck),
  ClientRollback: messageCodec<BatchFields>(pb.ClientRollback),
};

function packet(type: PacketType, body: Uint8Array | undefined, withVersion: boolean): Uint8Array {
  const msg: PacketMessage = { type };
  if (withVersion) msg.version = 1;
  if (body !== undefined) msg.body = body;
  return codecs.Packet.encode(msg);
}

// ---------------------------------------------------------------- server -> client

/** HANDSHAKE with the connection's 8 seed bytes. */
export function handshakePacket(seed: Uint8Array): Uint8Array {
  return packet(PacketType.HANDSHAKE, codecs.Handshake.encode({ seeds: seed }), true);
}

/** The success ACK: version 1, type ACK, no body (its body would be empty). */
export function successAckPacket(): Uint8Array {
  return packet(PacketType.ACK, undefined, true);
}

export function errorAckPacket(code: number, message: string): Uint8Array {
  return packet(PacketType.ACK, codecs.Ack.encode({ errorCode: code, errorMessage: message }), true);
}

/**
 * MESSAGES the way Canal's builder writes it: version 1, then the Messages body. Canal uses this
 * for the empty result (batch -1); sluice also uses it for a batch whose entries were all
 * narrowed away, which still carries its id so the client acknowledges it.
 */
export function messagesPacket(batchId: number, entries: readonly Uint8Array[] = []): Uint8Array {
  return packet(PacketType.MESSAGES, codecs.Messages.encode({ batchId, messages: [...entries] }), true);
}

export function emptyMessagesPacket(): Uint8Array {
  return messagesPacket(-1);
}

const TAG_PACKET_TYPE = tags.Packet.type;
const TAG_PACKET_BODY = tags.Packet.body;
const TAG_MESSAGES_BATCH_ID = tags.Messages.batchId;
const TAG_MESSAGES_ENTRY = tags.Messages.messages;

/**
 * Canal's raw fast path for a non-empty batch, as one complete frame (header included): the
 * stored Entry bytes are copied in as repeated field-2 values, never decoded or re-encoded.
 * Like Canal's, this packet has no version field.
 */
export function rawMessagesFrame(batchId: number, entries: readonly Uint8Array[]): Buffer {
  const layout = rawMessagesLayout(batchId, entries);
  return writeRawMessagesFrame(Buffer.allocUnsafe(layout.frameBytes), layout, batchId, entries);
}

/** Sizes of a raw MESSAGES frame: `frameBytes` includes the 4-byte length header. */
export interface RawMessagesLayout {
  bodyLen: number;
  packetLen: number;
  frameBytes: number;
}

export function rawMessagesLayout(batchId: number, entries: readonly Uint8Array[]): RawMessagesLayout {
  if (!Number.isSafeInteger(batchId) || batchId < 1) throw new RangeError(`raw MESSAGES needs a batch id >= 1, got ${batchId}`);
  let bodyLen = 1 + varintSize(batchId);
  for (const e of entries) bodyLen += 1 + varintSize(e.length) + e.length;
  const packetLen = 2 + 1 + varintSize(bodyLen) + bodyLen;
  if (packetLen > MAX_WIRE_FRAME_BYTES) throw new FrameTooLargeError(packetLen, MAX_WIRE_FRAME_BYTES);
  return { bodyLen, packetLen, frameBytes: FRAME_HEADER_BYTES + packetLen };
}

/** Lays the frame out in `out` (at least `layout.frameBytes` long) and returns `out`. */
export function writeRawMessagesFrame(out: Buffer, layout: RawMessagesLayout, batchId: number, entries: readonly Uint8Array[]): Buffer {
  out.writeUInt32BE(layout.packetLen, 0);
  let at = FRAME_HEADER_BYTES;
  out[at++] = TAG_PACKET_TYPE;
  out[at++] = PacketType.MESSAGES;
  out[at++] = TAG_PACKET_BODY;
  at = writeVarint(out, at, layout.bodyLen);
  out[at++] = TAG_MESSAGES_BATCH_ID;
  at = writeVarint(out, at, batchId);
  for (const e of entries) {
    out[at++] = TAG_MESSAGES_ENTRY;
    at = writeVarint(out, at, e.length);
    out.set(e, at);
    at += e.length;
  }
  return out;
}

// ---------------------------------------------------------------- client -> server

export interface ClientAuthFields {
  username: string;
  /** the lowercase hex scramble (auth.ts scramblePassword), or '' */
  password: string;
  netReadTimeoutMs?: number;
  netWriteTimeoutMs?: number;
  destination?: string;
  clientId?: string;
  filter?: string;
}

export interface SubFields {
  destination: string;
  clientId: string;
  filter?: string;
}

export interface GetFields {
  destination: string;
  clientId: string;
  fetchSize: number;
  timeout?: number;
  /** java.util.concurrent.TimeUnit ordinal: 0 ns, 1 µs, 2 ms, 3 s, 4 min, 5 h, 6 d */
  unit?: number;
  autoAck?: boolean;
}

export interface BatchFields {
  destination: string;
  clientId: string;
  batchId: number;
}

export function clientAuthPacket(f: ClientAuthFields): Uint8Array {
  const msg: ClientAuthMessage = { username: f.username, password: Buffer.from(f.password, 'utf8') };
  if (f.destination !== undefined) msg.destination = f.destination;
  if (f.clientId !== undefined) msg.clientId = f.clientId;
  if (f.filter !== undefined) msg.filter = f.filter;
  // oneof fields: written whenever set, as the Java client sets them
  if (f.netReadTimeoutMs !== undefined) msg.netReadTimeout = f.netReadTimeoutMs;
  if (f.netWriteTimeoutMs !== undefined) msg.netWriteTimeout = f.netWriteTimeoutMs;
  return packet(PacketType.CLIENTAUTHENTICATION, codecs.ClientAuth.encode(msg), false);
}

export function subPacket(f: SubFields): Uint8Array {
  return packet(PacketType.SUBSCRIPTION, codecs.Sub.encode(f), false);
}

export function unsubPacket(f: SubFields): Uint8Array {
  return packet(PacketType.UNSUBSCRIPTION, codecs.Unsub.encode(f), false);
}

export function getPacket(f: GetFields): Uint8Array {
  return packet(PacketType.GET, codecs.Get.encode(f), false);
}

export function clientAckPacket(f: BatchFields): Uint8Array {
  return packet(PacketType.CLIENTACK, codecs.ClientAck.encode(f), false);
}

export function clientRollbackPacket(f: BatchFields): Uint8Array {
  return packet(PacketType.CLIENTROLLBACK, codecs.ClientRollback.encode(f), false);
}

/** Any packet by type number with a raw body: for tests and for probing unsupported types. */
export function rawPacket(type: number, body?: Uint8Array): Uint8Array {
  return packet(type as PacketType, body, false);
}

// ---------------------------------------------------------------- decoding

export interface DecodedPacket {
  type: number;
  version?: number;
  compression?: number;
  body: Uint8Array;
}

function decodeWith<T extends object>(codec: MessageCodec<T>, bytes: Uint8Array): Partial<T> {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new PacketDecodeError(codec.name, err);
  }
}

export function decodePacket(bytes: Uint8Array): DecodedPacket {
  const p = decodeWith(codecs.Packet, bytes);
  const out: DecodedPacket = { type: p.type ?? 0, body: p.body ?? new Uint8Array(0) };
  if (p.version !== undefined) out.version = p.version;
  if (p.compression !== undefined) out.compression = p.compression;
  return out;
}

export interface Handshake {
  seeds: Uint8Array;
  communicationEncoding?: string;
  supportedCompressions?: number;
}

export function decodeHandshake(body: Uint8Array): Handshake {
  const h = decodeWith(codecs.Handshake, body);
  return { ...h, seeds: h.seeds ?? new Uint8Array(0) };
}

export interface ClientAuth {
  username: string;
  /** the password field as text (the hex scramble, or whatever a client put there) */
  password: string;
  netReadTimeout?: number;
  netWriteTimeout?: number;
  destination: string;
  clientId: string;
  filter: string;
}

export function decodeClientAuth(body: Uint8Array): ClientAuth {
  const a = decodeWith(codecs.ClientAuth, body);
  const out: ClientAuth = {
    username: a.username ?? '',
    password: a.password === undefined ? '' : Buffer.from(a.password).toString('utf8'),
    destination: a.destination ?? '',
    clientId: a.clientId ?? '',
    filter: a.filter ?? '',
  };
  if (a.netReadTimeout !== undefined) out.netReadTimeout = a.netReadTimeout;
  if (a.netWriteTimeout !== undefined) out.netWriteTimeout = a.netWriteTimeout;
  return out;
}

export interface Ack {
  errorCode: number;
  errorMessage: string;
}

export function decodeAck(body: Uint8Array): Ack {
  const a = decodeWith(codecs.Ack, body);
  return { errorCode: a.errorCode ?? 0, errorMessage: a.errorMessage ?? '' };
}

export function decodeSub(body: Uint8Array): Required<SubFields> {
  const s = decodeWith(codecs.Sub, body);
  return { destination: s.destination ?? '', clientId: s.clientId ?? '', filter: s.filter ?? '' };
}

export function decodeUnsub(body: Uint8Array): Required<SubFields> {
  const s = decodeWith(codecs.Unsub, body);
  return { destination: s.destination ?? '', clientId: s.clientId ?? '', filter: s.filter ?? '' };
}

export function decodeGet(body: Uint8Array): GetFields {
  const g = decodeWith(codecs.Get, body);
  const out: GetFields = { destination: g.destination ?? '', clientId: g.clientId ?? '', fetchSize: g.fetchSize ?? 0 };
  if (g.timeout !== undefined) out.timeout = g.timeout;
  if (g.unit !== undefined) out.unit = g.unit;
  if (g.autoAck !== undefined) out.autoAck = g.autoAck;
  return out;
}

export interface Messages {
  batchId: number;
  /** each element one serialized Entry */
  entries: Uint8Array[];
}

export function decodeMessages(body: Uint8Array): Messages {
  const m = decodeWith(codecs.Messages, body);
  return { batchId: m.batchId ?? 0, entries: m.messages ?? [] };
}

export function decodeClientAck(body: Uint8Array): BatchFields {
  const a = decodeWith(codecs.ClientAck, body);
  return { destination: a.destination ?? '', clientId: a.clientId ?? '', batchId: a.batchId ?? 0 };
}

export function decodeClientRollback(body: Uint8Array): BatchFields {
  const r = decodeWith(codecs.ClientRollback, body);
  return { destination: r.destination ?? '', clientId: r.clientId ?? '', batchId: r.batchId ?? 0 };
}
