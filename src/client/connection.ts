// One socket to a Canal server: framing, the handshake, and matching replies to requests.
//
// Requests are pipelined; the server answers them strictly in order. AUTH, SUB, UNSUB and GET
// get exactly one reply each. ACK and ROLLBACK get none on success and an error ACK on failure,
// so when an error ACK arrives while acks/rollbacks are the oldest unsettled requests it may
// belong to one of them or to the next request. It is given to them when no other request
// follows or when its text or code is about a batch id (as every ack and rollback error of Canal
// and sluice is), and among them to the one whose batch id the message names (Canal's
// "batchId:N ..."), else the oldest; the ones before that one succeeded, as replies come in
// order. Otherwise they all succeeded and the error belongs to the next request.
// A refusal by a standby server ("... is not active on this server") closes the connection and
// fails every request waiting on it with CanalNotActiveError, whichever request it answered.
// An ack/rollback failure is never dropped: it is carried to the next request still waiting
// (which then fails with it), or kept for the next call on the connection.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { CanalConnectionError, CanalProtocolError, CanalServerError, CanalTimeoutError, notActiveError } from './errors.ts';
import { encodeFrame, FrameDecoder, FrameTooLargeError } from '../protocol/frame.ts';
import { decodeAck, decodePacket, packetTypeName, PacketType, type Ack, type DecodedPacket as Packet } from '../protocol/packets.ts';

export type { Packet };

/** An ACK packet whose code says failure (clients test > 0, as Canal's do). */
export function ackError(p: Packet): Ack | undefined {
  if (p.type !== PacketType.ACK) return undefined;
  const a = decodeAck(p.body);
  return a.errorCode > 0 ? a : undefined;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  /** node:tls options; when set the connection is TLS */
  tls?: TlsOptions;
  connectTimeoutMs: number;
  /** how long a reply may take beyond the time the server was asked to wait */
  requestTimeoutMs: number;
  maxFrameBytes: number;
}

export interface Reply {
  packet: Packet;
  /** a failure of an earlier ack/rollback that surfaced while this request was waiting */
  carried?: CanalServerError;
}

interface Waiter {
  kind: 'reply';
  what: string;
  /** ms this reply may take once it is the oldest awaited; null: no limit (a GET that blocks) */
  deadlineMs: number | null;
  resolve(r: Reply): void;
  reject(e: Error): void;
  carried?: CanalServerError;
}

interface Unsettled {
  kind: 'no-reply';
  what: string;
  batchId: number;
}

/** Unsettled acks/rollbacks remembered at most; a client that only acks must not grow memory. */
const MAX_UNSETTLED = 1024;
const BATCH_ID_IN_TEXT = /batch ?id\s*[:=]?\s*(-?\d+)/gi;

const BATCH_ERROR_TEXT = /batch ?id|\back\b|rollback/i;

export class CanalConnection {
  private readonly socket: Socket;
  private readonly reader: FrameDecoder;
  private readonly queue: (Waiter | Unsettled)[] = [];
  /** One timer serves every request's deadline; it is moved only when a deadline comes sooner. */
  private timer: NodeJS.Timeout | undefined;
  /** when the timer fires, in performance.now() ms */
  private timerAt = Infinity;
  /** the request whose deadline runs, and when it expires (performance.now() ms) */
  private timed: Waiter | undefined;
  private timedUntil = Infinity;
  private deferred: CanalServerError | undefined;
  private handshakeSeen = false;
  private closeError: Error | undefined;
  private readonly closeListeners: ((err: Error) => void)[] = [];
  readonly peer: string;

  private constructor(
    socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.socket = socket;
    this.peer = `${opts.host}:${opts.port}`;
    this.reader = new FrameDecoder(opts.maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new CanalConnectionError(`connection to ${this.peer} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(new CanalConnectionError(`connection to ${this.peer} closed by the server`)));
  }

  /**
   * Opens the socket and reads the server's HANDSHAKE packet, which it returns.
   * Rejects with CanalProtocolError when the peer does not speak Canal.
   */
  static async open(opts: ConnectionOptions): Promise<{ conn: CanalConnection; handshake: Packet }> {
    const peer = `${opts.host}:${opts.port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const secure = opts.tls !== undefined;
      const s: Socket = secure
        ? tlsConnect({ host: opts.host, port: opts.port, ...(isIP(opts.host) === 0 ? { servername: opts.host } : {}), ...opts.tls })
        : netConnect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new CanalTimeoutError(`could not connect to ${peer} within ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new CanalConnectionError(`could not connect to ${peer}: ${err.message}`, { cause: err }));
      };
      s.once('error', onError);
      s.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        resolve(s);
      });
    });
    const conn = new CanalConnection(socket, opts);
    // The server speaks first; the handshake is the reply to the connect itself.
    const reply = await conn.wait('the handshake', opts.connectTimeoutMs);
    const hs = reply.packet;
    if (hs.type !== PacketType.HANDSHAKE) {
      const err = new CanalProtocolError(`${peer} is not a Canal server: it sent ${packetTypeName(hs.type)} where a HANDSHAKE was expected`);
      conn.destroy(err);
      throw err;
    }
    if (hs.version !== 1) {
      const err = new CanalProtocolError(`${peer} speaks Canal protocol version ${hs.version ?? '(none)'}; this client supports version 1`);
      conn.destroy(err);
      throw err;
    }
    return { conn, handshake: hs };
  }

  get closed(): boolean {
    return this.closeError !== undefined;
  }

  /** This end of the socket, "ip:port" (Canal's clients name themselves by it in ZooKeeper). */
  get localAddress(): string {
    const ip = this.socket.localAddress ?? '127.0.0.1';
    return `${ip.includes(':') ? `[${ip}]` : ip}:${this.socket.localPort ?? 0}`;
  }

  /** Registers a listener for the end of the connection (called once, with the reason). */
  onClose(listener: (err: Error) => void): void {
    if (this.closeError !== undefined) listener(this.closeError);
    else this.closeListeners.push(listener);
  }

  /** The failure the next call will report, if one is waiting (not cleared by looking). */
  peekDeferredError(): CanalServerError | undefined {
    return this.deferred;
  }

  /** The failure of an ack/rollback that no request has reported yet; cleared by reading it. */
  takeDeferredError(): CanalServerError | undefined {
    const e = this.deferred;
    this.deferred = undefined;
    return e;
  }

  /** Keeps a failure for the next call to report (when the current call already reports another). */
  defer(err: CanalServerError): void {
    this.deferred ??= err;
  }

  /**
   * Sends a request that gets exactly one reply. `serverWaitMs` is how long the server may
   * legitimately hold it (a GET's timeout), null when it may block without limit.
   */
  request(packet: Uint8Array, what: string, serverWaitMs: number | null = 0): Promise<Reply> {
    if (this.closeError !== undefined) return Promise.reject(this.closeError);
    const p = this.wait(what, serverWaitMs === null ? null : this.opts.requestTimeoutMs + Math.max(0, serverWaitMs));
    this.socket.write(encodeFrame(packet));
    return p;
  }

  /** Sends an ack or rollback of `batchId`, which has no reply on success. Resolves once written. */
  sendNoReply(packet: Uint8Array, what: string, batchId: number): Promise<void> {
    if (this.closeError !== undefined) return Promise.reject(this.closeError);
    if (this.queue.length >= MAX_UNSETTLED && this.queue.every((q) => q.kind === 'no-reply')) this.queue.shift();
    this.queue.push({ kind: 'no-reply', what, batchId });
    return new Promise((resolve, reject) => {
      this.socket.write(encodeFrame(packet), (err) => (err ? reject(this.closeError ?? new CanalConnectionError(`writing ${what} to ${this.peer} failed: ${err.message}`)) : resolve()));
    });
  }

  /** Closes gracefully: waits for the server to see the end of the stream. */
  async close(): Promise<void> {
    if (this.closeError !== undefined) return;
    const done = new Promise<void>((resolve) => this.onClose(() => resolve()));
    this.fail(new CanalConnectionError(`connection to ${this.peer} was closed by this client`), false);
    this.socket.end();
    const force = setTimeout(() => this.socket.destroy(), 2_000);
    await new Promise<void>((resolve) => (this.socket.destroyed ? resolve() : this.socket.once('close', () => resolve())));
    clearTimeout(force);
    await done;
  }

  destroy(err: Error): void {
    this.fail(err);
  }

  private wait(what: string, deadlineMs: number | null): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const w: Waiter = { kind: 'reply', what, deadlineMs, resolve, reject };
      this.queue.push(w);
      if (this.headWaiter() === w) this.armTimer();
    });
  }

  private headWaiter(): Waiter | undefined {
    for (const q of this.queue) if (q.kind === 'reply') return q;
    return undefined;
  }

  /**
   * The deadline runs for the oldest waiting request only: later ones wait behind it by design.
   * Starting a deadline does not touch the timer unless it is due sooner than the timer fires:
   * a GET answered every few ms would otherwise cost a clear and a setTimeout each. A timer
   * that fires before the running deadline re-arms itself for the rest.
   */
  private armTimer(): void {
    const head = this.headWaiter();
    if (head === undefined || head.deadlineMs === null) {
      this.timed = undefined;
      this.timedUntil = Infinity;
      return;
    }
    const now = performance.now();
    this.timed = head;
    this.timedUntil = now + head.deadlineMs;
    if (this.timer === undefined || this.timerAt > this.timedUntil) this.schedule(head.deadlineMs, now);
  }

  private schedule(ms: number, now: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = now + ms;
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const head = this.timed;
    if (head === undefined || this.closeError !== undefined) return;
    const now = performance.now();
    if (now < this.timedUntil) {
      this.schedule(Math.max(1, Math.ceil(this.timedUntil - now)), now);
      return;
    }
    const hint = this.handshakeSeen ? '' : ` (is ${this.peer} a Canal server?)`;
    this.fail(new CanalTimeoutError(`no reply from ${this.peer} to ${head.what} within ${head.deadlineMs} ms${hint}`));
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      if (e instanceof FrameTooLargeError && !this.handshakeSeen) {
        this.fail(new CanalProtocolError(`${this.peer} is not a Canal server: its first bytes announce a frame of ${e.length} bytes`));
      } else {
        this.fail(new CanalProtocolError(`${this.peer} sent a bad frame: ${(e as Error).message}`));
      }
      return;
    }
    for (const f of frames) {
      if (this.closeError !== undefined) return;
      let packet: Packet;
      try {
        packet = decodePacket(f);
      } catch (e) {
        const who = this.handshakeSeen ? `${this.peer} sent a frame that is not a Canal packet` : `${this.peer} is not a Canal server: its first frame is not a Canal packet`;
        this.fail(new CanalProtocolError(`${who}: ${(e as Error).message}`));
        return;
      }
      if (packet.compression !== undefined && packet.compression !== 0 && packet.compression !== 1) {
        this.fail(new CanalProtocolError(`${this.peer} sent a ${packetTypeName(packet.type)} packet with compression ${packet.compression}, which is not supported`));
        return;
      }
      this.handshakeSeen = true;
      this.dispatch(packet);
    }
  }

  private dispatch(packet: Packet): void {
    const refusal = ackError(packet);
    if (refusal !== undefined) {
      // A standby's refusal is about the whole destination, not one request: nothing more can be
      // done on this connection, and every waiting request fails with it (the client looks again).
      const notActive = notActiveError(this.queue[0]?.what ?? `a request to ${this.peer}`, refusal.errorCode, refusal.errorMessage);
      if (notActive !== undefined) {
        this.fail(notActive);
        return;
      }
    }
    for (;;) {
      const head = this.queue[0];
      if (head === undefined) {
        const err = ackError(packet);
        if (err !== undefined) {
          // An error for a request already settled (nothing else is unsettled): keep it for the next call.
          this.deferred ??= new CanalServerError(`an earlier request to ${this.peer}`, err.errorCode, err.errorMessage);
          return;
        }
        this.fail(new CanalProtocolError(`${this.peer} sent an unexpected ${packetTypeName(packet.type)} packet while no request was waiting`));
        return;
      }
      if (head.kind === 'no-reply') {
        const err = ackError(packet);
        const run = this.queue.findIndex((q) => q.kind === 'reply');
        const unsettled = (run < 0 ? this.queue : this.queue.slice(0, run)) as Unsettled[];
        if (err !== undefined && (run < 0 || err.errorCode === 402 || BATCH_ERROR_TEXT.test(err.errorMessage))) {
          const named = new Set([...err.errorMessage.matchAll(BATCH_ID_IN_TEXT)].map((m) => Number(m[1])));
          const i = Math.max(0, unsettled.findIndex((u) => named.has(u.batchId)));
          const failed = unsettled[i]!;
          this.queue.splice(0, i + 1);
          this.carry(new CanalServerError(failed.what, err.errorCode, err.errorMessage));
          return;
        }
        // Anything else belongs to a later request, so these acks/rollbacks succeeded.
        this.queue.splice(0, unsettled.length);
        continue;
      }
      this.queue.shift();
      this.armTimer();
      head.resolve(head.carried ? { packet, carried: head.carried } : { packet });
      return;
    }
  }

  private carry(err: CanalServerError): void {
    const next = this.headWaiter();
    if (next !== undefined && next.carried === undefined) next.carried = err;
    else if (this.deferred === undefined) this.deferred = err;
  }

  private fail(err: Error, destroySocket = true): void {
    if (this.closeError !== undefined) return;
    this.closeError = err;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const waiting = this.queue.splice(0);
    for (const q of waiting) if (q.kind === 'reply') q.reject(err);
    if (destroySocket) this.socket.destroy();
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}
