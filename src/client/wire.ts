// The client's requests and the server's replies as Canal packets: what goes inside each frame.
import { pb, pbEnums } from '../protocol/proto.ts';

export const PacketType = {
  HANDSHAKE: pbEnums.PacketType.HANDSHAKE!,
  CLIENTAUTHENTICATION: pbEnums.PacketType.CLIENTAUTHENTICATION!,
  ACK: pbEnums.PacketType.ACK!,
  SUBSCRIPTION: pbEnums.PacketType.SUBSCRIPTION!,
  UNSUBSCRIPTION: pbEnums.PacketType.UNSUBSCRIPTION!,
  GET: pbEnums.PacketType.GET!,
  MESSAGES: pbEnums.PacketType.MESSAGES!,
  CLIENTACK: pbEnums.PacketType.CLIENTACK!,
  CLIENTROLLBACK: pbEnums.PacketType.CLIENTROLLBACK!,
} as const;

const typeNames: Record<number, string> = Object.fromEntries(Object.entries(pbEnums.PacketType).map(([k, v]) => [v, k]));
export function packetTypeName(t: number): string {
  return typeNames[t] ?? `unknown packet type ${t}`;
}

/** java.util.concurrent.TimeUnit.MILLISECONDS, the unit the client always sends. */
const UNIT_MS = 2;

export interface Packet {
  type: number;
  version?: number;
  compression?: number;
  body: Uint8Array;
}

/**
 * Drops the zero, empty and false values of implicit-presence fields: protobufjs writes every
 * property it is given, while Canal (and the golden bytes) omit those. Oneof members, whose
 * zero is meaningful, are passed in `keep`.
 */
function implicit(fields: Record<string, unknown>, keep: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === 0 || v === '' || v === false || (v instanceof Uint8Array && v.length === 0)) continue;
    out[k] = v;
  }
  return { ...out, ...keep };
}

export function encodePacket(type: number, body: Uint8Array): Uint8Array {
  return pb.Packet.encode(implicit({ type, body })).finish();
}

/** Throws on bytes that are not a Packet; callers turn that into a protocol error. */
export function decodePacket(bytes: Uint8Array): Packet {
  const p = pb.Packet.decode(bytes) as unknown as { type?: number; version?: number; compression?: number; body?: Uint8Array };
  return { type: p.type ?? 0, version: p.version ?? undefined, compression: p.compression ?? undefined, body: p.body ?? new Uint8Array(0) };
}

export interface Handshake {
  seeds: Uint8Array;
}

export function decodeHandshake(body: Uint8Array): Handshake {
  const h = pb.Handshake.decode(body) as unknown as { seeds?: Uint8Array };
  return { seeds: h.seeds ?? new Uint8Array(0) };
}

export interface AuthRequest {
  username: string;
  /** the lowercase hex scramble, or '' to send no password */
  passwordHex: string;
  netReadTimeoutMs: number;
  netWriteTimeoutMs: number;
}

export function encodeAuth(a: AuthRequest): Uint8Array {
  const body = pb.ClientAuth.encode(
    implicit({ username: a.username, password: Buffer.from(a.passwordHex, 'ascii') }, { netReadTimeout: a.netReadTimeoutMs, netWriteTimeout: a.netWriteTimeoutMs }),
  ).finish();
  return encodePacket(PacketType.CLIENTAUTHENTICATION, body);
}

export function encodeSub(destination: string, clientId: string, filter: string): Uint8Array {
  return encodePacket(PacketType.SUBSCRIPTION, pb.Sub.encode(implicit({ destination, clientId, filter })).finish());
}

export function encodeUnsub(destination: string, clientId: string): Uint8Array {
  return encodePacket(PacketType.UNSUBSCRIPTION, pb.Unsub.encode(implicit({ destination, clientId })).finish());
}

export function encodeGet(destination: string, clientId: string, fetchSize: number, timeoutMs: number): Uint8Array {
  const body = pb.Get.encode(implicit({ destination, clientId, fetchSize }, { timeout: timeoutMs, unit: UNIT_MS, autoAck: false })).finish();
  return encodePacket(PacketType.GET, body);
}

export function encodeClientAck(destination: string, clientId: string, batchId: number): Uint8Array {
  return encodePacket(PacketType.CLIENTACK, pb.ClientAck.encode(implicit({ destination, clientId, batchId })).finish());
}

export function encodeRollback(destination: string, clientId: string, batchId: number): Uint8Array {
  return encodePacket(PacketType.CLIENTROLLBACK, pb.ClientRollback.encode(implicit({ destination, clientId, batchId })).finish());
}

export interface AckReply {
  errorCode: number;
  errorMessage: string;
}

export function decodeAck(body: Uint8Array): AckReply {
  const a = pb.Ack.decode(body) as unknown as { errorCode?: number; errorMessage?: string };
  return { errorCode: a.errorCode ?? 0, errorMessage: a.errorMessage ?? '' };
}

export interface MessagesReply {
  batchId: number;
  /** one serialized Entry per element, views into the received frame */
  entries: Uint8Array[];
}

export function decodeMessages(body: Uint8Array): MessagesReply {
  const m = pb.Messages.decode(body) as unknown as { batchId?: number | { toNumber(): number }; messages?: Uint8Array[] };
  const id = m.batchId ?? 0;
  return { batchId: typeof id === 'number' ? id : id.toNumber(), entries: m.messages ?? [] };
}

/** An ACK packet whose code says failure (clients test > 0, as Canal's do). */
export function ackError(p: Packet): AckReply | undefined {
  if (p.type !== PacketType.ACK) return undefined;
  const a = decodeAck(p.body);
  return a.errorCode > 0 ? a : undefined;
}
