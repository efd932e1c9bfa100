// A deliberately small Canal client that speaks raw frames, so the tests see exactly which
// packets the server sends (and which it does not).
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, encodeFrame } from '../../../src/protocol/frame.ts';
import { scramblePassword } from '../../../src/protocol/auth.ts';
import {
  PacketType,
  clientAuthPacket,
  decodeAck,
  decodeHandshake,
  decodeMessages,
  decodePacket,
  getPacket,
  subPacket,
  clientAckPacket,
  clientRollbackPacket,
  type Ack,
  type ClientAuthFields,
  type DecodedPacket,
  type Messages,
} from '../../../src/protocol/packets.ts';

export class RawClient {
  readonly socket: net.Socket;
  seed: Uint8Array = new Uint8Array(0);
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private wake: (() => void) | undefined;
  private closedFlag = false;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.frames.push(f);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closedFlag = true;
        this.wake?.();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Connects and reads the handshake. */
  static async connect(port: number, opts: { tlsCa?: string } = {}): Promise<RawClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket =
        opts.tlsCa !== undefined
          ? tls.connect({ host: '127.0.0.1', port, ca: opts.tlsCa, servername: 'localhost' }, () => resolve(s))
          : net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const c = new RawClient(socket);
    const hs = await c.next();
    if (hs.type !== PacketType.HANDSHAKE) throw new Error(`expected HANDSHAKE, got type ${hs.type}`);
    if (hs.version !== 1) throw new Error(`handshake version ${hs.version}`);
    c.seed = decodeHandshake(hs.body).seeds;
    return c;
  }

  send(packet: Uint8Array): void {
    this.socket.write(encodeFrame(packet));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next packet from the server; rejects if the connection closes first or nothing comes within ms. */
  async next(ms = 20_000): Promise<DecodedPacket> {
    const deadline = Date.now() + ms;
    while (this.frames.length === 0) {
      if (this.closedFlag) throw new Error('connection closed while waiting for a packet');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet from the server within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return decodePacket(this.frames.shift()!);
  }

  async nextAck(): Promise<Ack> {
    const p = await this.next();
    if (p.type !== PacketType.ACK) throw new Error(`expected ACK, got packet type ${p.type}`);
    return decodeAck(p.body);
  }

  async nextMessages(): Promise<Messages> {
    const p = await this.next();
    if (p.type !== PacketType.MESSAGES) throw new Error(`expected MESSAGES, got packet type ${p.type}${p.type === PacketType.ACK ? ': ' + JSON.stringify(decodeAck(p.body)) : ''}`);
    return decodeMessages(p.body);
  }

  async auth(username: string, password: string | undefined, extra: Partial<ClientAuthFields> = {}): Promise<Ack> {
    this.send(clientAuthPacket({ username, password: password === undefined ? '' : scramblePassword(password, this.seed), ...extra }));
    return await this.nextAck();
  }

  async subscribe(destination: string, clientId = '1001', filter = ''): Promise<Ack> {
    this.send(subPacket({ destination, clientId, filter }));
    return await this.nextAck();
  }

  sendGet(destination: string, fetchSize: number, timeout = -1, clientId = '1001', unit = 2): void {
    this.send(getPacket({ destination, clientId, fetchSize, timeout, unit, autoAck: false }));
  }

  async get(destination: string, fetchSize: number, timeout = -1, clientId = '1001'): Promise<Messages> {
    this.sendGet(destination, fetchSize, timeout, clientId);
    return await this.nextMessages();
  }

  sendAck(destination: string, batchId: number, clientId = '1001'): void {
    this.send(clientAckPacket({ destination, clientId, batchId }));
  }

  sendRollback(destination: string, batchId: number, clientId = '1001'): void {
    this.send(clientRollbackPacket({ destination, clientId, batchId }));
  }

  close(): void {
    this.socket.destroy();
  }
}
