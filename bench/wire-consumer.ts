// The cheapest correct Canal consumer: handshake, auth, subscribe, then GET / ACK in a loop,
// decoding packets and the Messages envelope but not the entries (only each entry's header, to
// find the sentinel). It measures what the server and the wire deliver, without the cost of a
// full client decode, for the "wire" stage of the funnel.
import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../src/protocol/frame.ts';
import {
  PacketType,
  clientAckPacket,
  clientAuthPacket,
  decodeAck,
  decodeHandshake,
  decodeMessages,
  decodePacket,
  getPacket,
  subPacket,
  packetTypeName,
} from '../src/protocol/packets.ts';
import { scramblePassword } from '../src/protocol/auth.ts';
import { entryLayout, readHeader, type EntryLayout } from '../src/protocol/entry-reader.ts';
import { asBuffer } from '../src/protocol/wire-reader.ts';

export interface WireConsumerOptions {
  port: number;
  destination: string;
  user: string;
  password: string;
  clientId: string;
  batchSize: number;
  sentinelTable: string;
  /** how long a GET waits on the server for a full batch, ms */
  getTimeoutMs: number;
  deadlineMs: number;
  /** called once subscribed, before the first GET */
  onSubscribed?: () => void;
}

export interface WireConsumerResult {
  entries: number;
  batches: number;
  bytes: number;
  /** wall clock (performance.timeOrigin + now) when the sentinel arrived */
  sentinelWallMs: number;
  /** wall clock when the first non-empty batch arrived */
  firstDataWallMs: number;
}

/** A socket read as a queue of frames. */
class FrameReader {
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private waiter: ((f: Buffer) => void) | undefined;
  private failure: Error | undefined;
  private onFail: ((e: Error) => void) | undefined;
  bytes = 0;

  constructor(sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      for (const f of this.decoder.push(chunk)) {
        const w = this.waiter;
        if (w) {
          this.waiter = undefined;
          w(f);
        } else this.frames.push(f);
      }
    });
    const fail = (e: Error): void => {
      this.failure ??= e;
      this.onFail?.(this.failure);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('the server closed the connection')));
  }

  next(): Promise<Buffer> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.onFail = reject;
    });
  }
}

function expectAckOk(frame: Buffer, step: string): void {
  const p = decodePacket(frame);
  if (p.type !== PacketType.ACK) throw new Error(`${step}: expected an ACK, got ${packetTypeName(p.type)}`);
  const ack = decodeAck(p.body);
  if (ack.errorCode !== 0) throw new Error(`${step} refused by the server: ${ack.errorCode} ${ack.errorMessage}`);
}

const layout: EntryLayout = { entryType: 0, headerStart: -1, headerEnd: -1, bodyStart: 0, bodyEnd: 0 };

/** Reads only the entry's header, through the protocol codec's entry reader. */
function isSentinel(entry: Uint8Array, table: string): boolean {
  const buf = asBuffer(entry);
  const l = entryLayout(buf, layout);
  return l.headerStart >= 0 && readHeader(buf, l.headerStart, l.headerEnd).tableName === table;
}

export async function consumeRaw(o: WireConsumerOptions): Promise<WireConsumerResult> {
  const sock = connect({ host: '127.0.0.1', port: o.port });
  sock.setNoDelay(true);
  const reader = new FrameReader(sock);
  const deadline = setTimeout(() => sock.destroy(new Error(`wire consumer: no sentinel within ${o.deadlineMs} ms`)), o.deadlineMs);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const hs = decodePacket(await reader.next());
    if (hs.type !== PacketType.HANDSHAKE) throw new Error(`expected HANDSHAKE, got ${packetTypeName(hs.type)}`);
    const seed = decodeHandshake(hs.body).seeds;
    const scrambled = o.password === '' ? '' : scramblePassword(o.password, seed);
    sock.write(encodeFrame(clientAuthPacket({ username: o.user, password: scrambled, destination: o.destination, clientId: o.clientId })));
    expectAckOk(await reader.next(), 'authentication');
    sock.write(encodeFrame(subPacket({ destination: o.destination, clientId: o.clientId })));
    expectAckOk(await reader.next(), 'subscription');
    o.onSubscribed?.();

    const get = encodeFrame(getPacket({ destination: o.destination, clientId: o.clientId, fetchSize: o.batchSize, timeout: o.getTimeoutMs, unit: 2, autoAck: false }));
    const bytes0 = reader.bytes;
    let entries = 0;
    let batches = 0;
    let firstDataWallMs = 0;
    sock.write(get);
    for (;;) {
      const p = decodePacket(await reader.next());
      if (p.type === PacketType.ACK) {
        const ack = decodeAck(p.body);
        throw new Error(`get refused by the server: ${ack.errorCode} ${ack.errorMessage}`);
      }
      if (p.type !== PacketType.MESSAGES) throw new Error(`expected MESSAGES, got ${packetTypeName(p.type)}`);
      const m = decodeMessages(p.body);
      if (m.batchId <= 0) {
        sock.write(get);
        continue;
      }
      if (batches++ === 0) firstDataWallMs = performance.timeOrigin + performance.now();
      entries += m.entries.length;
      // The sentinel's transaction is the last of its workload, so its row entry is one of the
      // last entries of its batch (only its TRANSACTIONEND can follow): checking the tail keeps
      // this consumer from decoding every entry.
      let done = false;
      for (let i = m.entries.length - 1; i >= 0 && i >= m.entries.length - 3; i--) {
        if (isSentinel(m.entries[i]!, o.sentinelTable)) done = true;
      }
      const ack = encodeFrame(clientAckPacket({ destination: o.destination, clientId: o.clientId, batchId: m.batchId }));
      if (done) {
        const sentinelWallMs = performance.timeOrigin + performance.now();
        sock.write(ack);
        return { entries, batches, bytes: reader.bytes - bytes0, sentinelWallMs, firstDataWallMs };
      }
      sock.write(Buffer.concat([ack, get]));
    }
  } finally {
    clearTimeout(deadline);
    sock.destroy();
  }
}
