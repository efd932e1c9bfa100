// One client connection: handshake, authentication, then SUB / UNSUB / GET / CLIENTACK /
// CLIENTROLLBACK with exactly Canal's replies (docs/protocol.md: Session, Replies, GET/ACK/ROLLBACK). Requests of a connection
// are handled strictly one after another, because clients pipeline ACK then GET without waiting.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkPassword } from '../protocol/auth.ts';
import { checkBatchId } from '../protocol/batch-ids.ts';
import { FrameDecoder, FrameTooLargeError, encodeFrame } from '../protocol/frame.ts';
import {
  PacketType,
  PacketDecodeError,
  decodeClientAck,
  decodeClientAuth,
  decodeClientRollback,
  decodeGet,
  decodePacket,
  decodeSub,
  decodeUnsub,
  emptyMessagesPacket,
  errorAckPacket,
  handshakePacket,
  messagesPacket,
  packetTypeName,
  successAckPacket,
  type ClientAuth,
  type DecodedPacket,
} from '../protocol/packets.ts';
import { DestinationError, type Destination, type DestinationBatch, type DestinationRegistry, type Subscriber } from '../instance/destination.ts';
import { effectiveFetchSize, getWaitMs } from './get-wait.ts';
import type { ServerLogger } from '../observe/server-logger.ts';
import { MessagesFrameWriter, type BuiltFrame } from './messages-frame.ts';

export interface SessionConfig {
  /** '' accepts any username */
  user: string;
  /** hex SHA1(SHA1(password)); '' turns authentication off */
  passwordHash: string;
  maxFrameBytes: number;
  /** a connection that has not authenticated within this long is closed (Canal has no limit) */
  authTimeoutMs: number;
  /** idle time before the first TCP keepalive probe; probes then go every second, 10 of them */
  keepAliveDelayMs: number;
  registry: DestinationRegistry;
  logger: ServerLogger;
}

/** Canal's idle timeout when the client sends none, or a value <= 0. */
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/** Frames read ahead of the one being handled; beyond this many, or READ_AHEAD_BYTES, the socket stops reading. */
const MAX_QUEUED_FRAMES = 64;
const READ_AHEAD_BYTES = 64 * 1024;

export interface SessionStats {
  authenticated: boolean;
  /** frames received and waiting behind the request being handled */
  queuedFrames: number;
  queuedBytes: number;
  /** reading stopped because the queue is full */
  readPaused: boolean;
  /** bytes written but not yet taken by the kernel */
  pendingWriteBytes: number;
}

type State = 'auth' | 'ready' | 'closed';

/** Canal parses client_id as a Java short. */
function isJavaShort(text: string): boolean {
  if (!/^[+-]?\d{1,6}$/.test(text)) return false;
  const n = Number(text);
  return n >= -32768 && n <= 32767;
}

function describe(kind: string, fields: object): string {
  return `${kind}{${Object.entries(fields)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

export class Session {
  readonly peer: string;
  private state: State = 'auth';
  private readonly seed = randomBytes(8);
  private readonly decoder: FrameDecoder;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private paused = false;
  private readonly abort = new AbortController();
  private readonly framer = new MessagesFrameWriter();
  private readonly releaseFrame = (): void => this.framer.release();
  /** every destination this connection named, with the identity it used: released on close */
  private readonly touched = new Map<Destination, Subscriber>();
  private authTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private cleanedUp = false;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly cfg: SessionConfig,
    private readonly onClose: (s: Session) => void,
  ) {
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = new FrameDecoder(cfg.maxFrameBytes);
  }

  /** Whether this connection has named the destination (it holds or asked for it). */
  usesDestination(name: string): boolean {
    for (const d of this.touched.keys()) if (d.name === name) return true;
    return false;
  }

  get authenticated(): boolean {
    return this.state === 'ready';
  }

  stats(): SessionStats {
    return {
      authenticated: this.state === 'ready',
      queuedFrames: this.queue.length,
      queuedBytes: this.queuedBytes,
      readPaused: this.paused,
      pendingWriteBytes: this.socket.writableLength,
    };
  }

  start(): void {
    const s = this.socket;
    s.setNoDelay(true);
    // Node sets TCP_KEEPINTVL=1s and TCP_KEEPCNT=10 alongside: a vanished peer is noticed
    // about keepAliveDelayMs + 10 s after the line went quiet.
    s.setKeepAlive(true, this.cfg.keepAliveDelayMs);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.cfg.logger.debug({ session: this.id, peer: this.peer, code: err.code, err: err.message }, 'client socket error');
      this.close('socket error');
    });
    s.on('close', () => this.cleanup());
    this.authTimer = setTimeout(() => {
      this.cfg.logger.warn({ session: this.id, peer: this.peer, authTimeoutMs: this.cfg.authTimeoutMs }, 'client did not authenticate in time; closing');
      this.close('authentication timeout');
    }, this.cfg.authTimeoutMs);
    this.authTimer.unref();
    this.cfg.logger.info({ session: this.id, peer: this.peer }, 'client connected');
    this.write(encodeFrame(handshakePacket(this.seed)));
  }

  /** Closes the connection; cleanup (abort of a blocked GET, release of holds) follows at once. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cfg.logger.debug({ session: this.id, peer: this.peer, reason }, 'closing client connection');
    this.socket.destroy();
    this.cleanup();
  }

  /** Sends a last frame, then closes: the client learns why, and a peer that never reads is cut off soon after. */
  private closeAfter(frame: Buffer, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cfg.logger.debug({ session: this.id, peer: this.peer, reason }, 'closing client connection');
    this.socket.end(frame);
    setTimeout(() => this.socket.destroy(), 2_000).unref();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.state = 'closed';
    this.queue.length = 0;
    this.queuedBytes = 0;
    for (const t of [this.authTimer, this.readTimer, this.writeTimer]) if (t !== undefined) clearTimeout(t);
    this.abort.abort(new Error(`connection ${this.peer} closed`));
    for (const [dest, sub] of this.touched) {
      try {
        dest.release(sub);
      } catch (err) {
        this.cfg.logger.error({ session: this.id, peer: this.peer, destination: dest.name, err: String(err) }, 'releasing a destination failed');
      }
    }
    this.touched.clear();
    this.cfg.logger.info({ session: this.id, peer: this.peer }, 'client disconnected');
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.readTimer?.refresh();
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof FrameTooLargeError) {
        this.cfg.logger.warn({ session: this.id, peer: this.peer, frameLength: err.length, maxFrameBytes: err.maxFrameBytes }, 'inbound frame larger than the limit; closing the connection');
      } else {
        // Never let it escape the socket's event handler: that would take the whole process down.
        this.cfg.logger.error({ session: this.id, peer: this.peer, err: err instanceof Error ? err.stack : String(err) }, 'frame decoding failed; closing');
      }
      this.close('undecodable input');
      return;
    }
    for (const f of frames) {
      this.queue.push(f);
      this.queuedBytes += f.length;
    }
    // One chunk can overshoot the bounds by at most itself; then nothing more is read.
    if ((this.queue.length >= MAX_QUEUED_FRAMES || this.queuedBytes >= READ_AHEAD_BYTES) && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.state !== 'closed') {
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        if (this.paused && this.queue.length < MAX_QUEUED_FRAMES / 2 && this.queuedBytes < READ_AHEAD_BYTES / 2) {
          this.paused = false;
          this.socket.resume();
        }
        if (this.state === 'auth') await this.handleAuth(frame);
        else await this.handleRequest(frame);
      }
    } catch (err) {
      this.cfg.logger.error({ session: this.id, peer: this.peer, err: err instanceof Error ? err.stack : String(err) }, 'unexpected error handling a client request; closing');
      this.close('internal error');
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Writes one frame; resolves once the socket can take more, so a client that stops reading stops
   * being served. `onWritten` runs once the socket no longer holds the frame.
   */
  private async send(frame: Uint8Array, onWritten?: () => void): Promise<void> {
    if (this.state === 'closed') {
      onWritten?.();
      return;
    }
    if (this.write(frame, onWritten)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private write(frame: Uint8Array, onWritten?: () => void): boolean {
    this.writeTimer?.refresh();
    return onWritten === undefined ? this.socket.write(frame) : this.socket.write(frame, onWritten);
  }

  // ------------------------------------------------------------------ authentication

  private async handleAuth(frame: Buffer): Promise<void> {
    // As in Canal, whatever arrives first is read as ClientAuth, whatever its packet type says.
    let auth: ClientAuth;
    try {
      auth = decodeClientAuth(decodePacket(frame).body);
    } catch (err) {
      this.cfg.logger.warn({ session: this.id, peer: this.peer, err: err instanceof Error ? err.message : String(err) }, 'malformed authentication packet; closing');
      this.close('malformed authentication packet');
      return;
    }
    const check = checkPassword(this.cfg.user, this.cfg.passwordHash, auth.username, auth.password, this.seed);
    if (!check.ok) {
      if (check.reason === 'malformed') {
        // Canal closes here too; it is what a plaintext password (canal-python) looks like.
        this.cfg.logger.warn({ session: this.id, peer: this.peer, user: auth.username }, 'authentication token is not a hex scramble (a plaintext password?); closing');
        this.close('malformed authentication token');
        return;
      }
      this.cfg.logger.warn({ session: this.id, peer: this.peer, user: auth.username, reason: check.reason }, 'authentication failed');
      await this.send(encodeFrame(errorAckPacket(400, `auth failed for user:${auth.username}`)));
      return;
    }
    if (auth.destination !== '' && auth.clientId !== '') {
      // Canal subscribes during auth when both are given (no official client does).
      try {
        const { dest, sub } = this.identify(auth.destination, auth.clientId, () => describe('ClientAuth', { destination: auth.destination, clientId: auth.clientId }));
        dest.subscribe(sub, auth.filter);
      } catch (err) {
        await this.replyError(err, 'CLIENTAUTHENTICATION');
        return;
      }
    }
    this.state = 'ready';
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.armIdleTimers(auth);
    this.cfg.logger.info({ session: this.id, peer: this.peer, user: auth.username }, 'client authenticated');
    await this.send(encodeFrame(successAckPacket()));
  }

  private armIdleTimers(auth: ClientAuth): void {
    const readMs = auth.netReadTimeout !== undefined && auth.netReadTimeout > 0 ? auth.netReadTimeout : DEFAULT_IDLE_TIMEOUT_MS;
    const writeMs = auth.netWriteTimeout !== undefined && auth.netWriteTimeout > 0 ? auth.netWriteTimeout : DEFAULT_IDLE_TIMEOUT_MS;
    const idle = (direction: 'read' | 'write', ms: number) => (): void => {
      this.cfg.logger.info({ session: this.id, peer: this.peer, direction, idleMs: ms }, `nothing ${direction === 'read' ? 'read from' : 'written to'} the client within its idle timeout; closing`);
      this.close(`${direction} idle timeout`);
    };
    this.readTimer = setTimeout(idle('read', readMs), readMs).unref();
    this.writeTimer = setTimeout(idle('write', writeMs), writeMs).unref();
  }

  // ------------------------------------------------------------------ requests

  private async handleRequest(frame: Buffer): Promise<void> {
    let packet: DecodedPacket;
    try {
      packet = decodePacket(frame);
    } catch (err) {
      // Canal closes on an unparseable Packet; the error ACK first tells the client why.
      const message = err instanceof Error ? err.message : String(err);
      this.cfg.logger.warn({ session: this.id, peer: this.peer, err: message }, 'malformed packet; closing');
      this.closeAfter(encodeFrame(errorAckPacket(400, message)), 'malformed packet');
      return;
    }
    const name = packetTypeName(packet.type);
    try {
      switch (packet.type) {
        case PacketType.SUBSCRIPTION:
          return await this.onSubscribe(packet.body);
        case PacketType.UNSUBSCRIPTION:
          return await this.onUnsubscribe(packet.body);
        case PacketType.GET:
          return await this.onGet(packet.body);
        case PacketType.CLIENTACK:
          return this.onClientAck(packet.body);
        case PacketType.CLIENTROLLBACK:
          return this.onClientRollback(packet.body);
        default:
          throw new DestinationError(`packet type: ${name} is NOT supported!`, 400);
      }
    } catch (err) {
      if (this.state === 'closed') return;
      await this.replyError(err, name);
    }
  }

  private async replyError(err: unknown, request: string): Promise<void> {
    let code = 400;
    let message: string;
    if (err instanceof DestinationError) {
      code = err.code;
      message = err.message;
    } else if (err instanceof PacketDecodeError) {
      message = err.message;
    } else {
      message = `something goes wrong with channel: ${this.peer}, exception: ${err instanceof Error ? err.message : String(err)}`;
      this.cfg.logger.error({ session: this.id, peer: this.peer, request, err: err instanceof Error ? err.stack : String(err) }, 'request failed unexpectedly');
    }
    this.cfg.logger.debug({ session: this.id, peer: this.peer, request, code, message }, 'error reply');
    await this.send(encodeFrame(errorAckPacket(code, message)));
  }

  /** Checks the fields every request carries and finds the destination (Canal's order: 401, then 400). */
  private identify(destination: string, clientId: string, what: () => string): { dest: Destination; sub: Subscriber } {
    if (destination === '' || clientId === '') throw new DestinationError(`destination or clientId is null. ${what()}`, 401);
    if (!isJavaShort(clientId)) throw new DestinationError(`clientId:${JSON.stringify(clientId)} is not a number in -32768..32767 (Canal reads it as a Java short)`);
    const dest = this.cfg.registry.get(destination);
    if (dest === undefined) {
      const known = this.cfg.registry.names();
      throw new DestinationError(`destination:${destination} is not defined on this server (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
    const sub: Subscriber = { clientId, peer: this.peer, sessionId: this.id };
    this.touched.set(dest, sub);
    return { dest, sub };
  }

  private async onSubscribe(body: Uint8Array): Promise<void> {
    const req = decodeSub(body);
    const { dest, sub } = this.identify(req.destination, req.clientId, () => describe('Sub', req));
    dest.subscribe(sub, req.filter);
    await this.send(encodeFrame(successAckPacket()));
  }

  private async onUnsubscribe(body: Uint8Array): Promise<void> {
    const req = decodeUnsub(body);
    const { dest, sub } = this.identify(req.destination, req.clientId, () => describe('Unsub', req));
    dest.unsubscribe(sub);
    await this.send(encodeFrame(successAckPacket()));
  }

  private async onGet(body: Uint8Array): Promise<void> {
    const req = decodeGet(body);
    const { dest, sub } = this.identify(req.destination, req.clientId, () => describe('Get', { destination: req.destination, clientId: req.clientId }));
    // The batch is not kept in a variable here: it would stay reachable while the reply is being
    // written, long enough for its thousands of entry views to reach the old generation.
    // ACK has no reply: this GET's reply is what tells the client its earlier acks held, so they
    // are made durable first (before anything is handed out, so a failure hands out nothing).
    if (dest.durable !== undefined) {
      try {
        await dest.durable();
      } catch (err) {
        throw new DestinationError(`destination:${dest.name}: the cursor of an earlier ack could not be kept (${err instanceof Error ? err.message : String(err)}); retry the GET`);
      }
    }
    const reply = this.messagesReply(await dest.get(sub, effectiveFetchSize(req.fetchSize), getWaitMs(req.timeout, req.unit), this.abort.signal));
    if (reply === undefined) return;
    const onWritten = reply.reused ? this.releaseFrame : undefined;
    if (reply.chunks.length === 1) await this.send(reply.chunks[0]!, onWritten);
    else await this.sendPieces(reply.chunks, onWritten);
  }

  private messagesReply(batch: DestinationBatch): BuiltFrame | undefined {
    if (this.state === 'closed') return undefined;
    if (batch.batchId === -1) return { chunks: [encodeFrame(emptyMessagesPacket())], gathered: false, reused: false };
    if (batch.entries.length === 0) return { chunks: [encodeFrame(messagesPacket(batch.batchId))], gathered: false, reused: false };
    return this.framer.build(batch.batchId, batch.entries);
  }

  /**
   * Writes a frame in pieces as one gathered write, and resolves only once the socket is done with
   * every piece: some are entries where the store keeps them, valid until the batch is
   * acknowledged, and the next request handled may be that acknowledgement.
   */
  private async sendPieces(pieces: Uint8Array[], onWritten: (() => void) | undefined): Promise<void> {
    if (this.state === 'closed') {
      onWritten?.();
      return;
    }
    this.writeTimer?.refresh();
    const s = this.socket;
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        s.off('close', done);
        onWritten?.();
        resolve();
      };
      s.on('close', done);
      s.cork();
      const last = pieces.length - 1;
      for (let i = 0; i < last; i++) s.write(pieces[i]!);
      s.write(pieces[last]!, done);
      s.uncork();
    });
  }

  /** No reply on success: a stray ACK would be read as the reply to the client's next request. */
  private onClientAck(body: Uint8Array): void {
    const req = decodeClientAck(body);
    const what = (): string => describe('Ack', req);
    if (req.destination === '' || req.clientId === '') throw new DestinationError(`destination or clientId is null. ${what()}`, 401);
    // Canal's order: 402 for batch id 0 before the destination is looked up; −1 is then ignored.
    const rule = checkBatchId(req.batchId);
    if (rule !== undefined && rule !== 'ignore') throw new DestinationError(`batchId should assign value. ${what()}`, 402);
    const { dest, sub } = this.identify(req.destination, req.clientId, what);
    if (rule === 'ignore') return;
    dest.ack(sub, req.batchId);
  }

  /** No reply on success, and none when the client is not subscribed (the rollback(0) every client sends on connect). */
  private onClientRollback(body: Uint8Array): void {
    const req = decodeClientRollback(body);
    const { dest, sub } = this.identify(req.destination, req.clientId, () => describe('ClientRollback', req));
    dest.rollback(sub, req.batchId);
  }
}
