// The TypeScript Canal client: connect, subscribe, get/ack/rollback, and a batch stream that
// acknowledges each batch after the caller's loop body has finished with it.
//
// Delivery through `stream()` is at-least-once: a batch is acknowledged only when the caller
// asks for the next one, and after a lost connection the client reconnects, subscribes again
// and rolls back, so every batch that was not acknowledged is delivered again.
//
// The server is one host:port, a fixed list tried in turn, or the active server of a cluster
// found through ZooKeeper; a lost connection or a standby's refusal makes the client look again
// (server-locator.ts). A batch id belongs to the connection that handed it out: after a
// failover, an ack of a batch from the old connection fails here instead of reaching the new one.
import { EventEmitter } from 'node:events';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { scramblePassword } from '../protocol/auth.ts';
import { ackError, CanalConnection, type Reply } from './connection.ts';
import { batchOfSpans, type CanalBatch } from './entry.ts';
import { readMessages } from '../protocol/messages-reader.ts';
import { CanalAuthError, CanalConnectionError, CanalError, CanalNotActiveError, CanalProtocolError, CanalReconnectError, CanalServerError, isRetryable } from './errors.ts';
import { FixedServers, formatAddress, parseAddressList, type ServerAddress, type ServerLocator } from './server-locator.ts';
import { ConsumerLock, ConsumerStandby } from './consumer-lock.ts';
import { ZkLink, type ZooKeeperClientOptions } from './zk-link.ts';
import { RunningNodeLocator } from './zk-locator.ts';
import {
  clientAckPacket,
  clientAuthPacket,
  clientRollbackPacket,
  decodeAck,
  decodeHandshake,
  getPacket,
  packetTypeName,
  PacketType,
  subPacket,
  unsubPacket,
} from '../protocol/packets.ts';

/** Ids of lost connections remembered at most (for the error that names them). */
const MAX_LOST_IDS = 4096;

/** java.util.concurrent.TimeUnit.MILLISECONDS: the unit every GET of this client uses. */
const UNIT_MS = 2;

export interface ReconnectPolicy {
  /** attempts per outage before giving up (default: no limit) */
  maxAttempts?: number;
  /** delay before the first attempt (default 200 ms) */
  initialDelayMs?: number;
  /** cap on the delay (default 10 s) */
  maxDelayMs?: number;
  /** growth of the delay per attempt (default 2) */
  factor?: number;
  /** how long one outage may last before calls fail with CanalReconnectError, ms (default: no limit) */
  deadlineMs?: number;
}

export interface CanalClientOptions {
  /** one server: host and port (the plain form); or give `servers` */
  host?: string;
  port?: number;
  /**
   * Servers tried in turn ("h1:11111,h2:11111" or a list): the one that worked last first, and
   * after a standby's refusal the server it names. Instead of host/port.
   */
  servers?: string | readonly (string | ServerAddress)[];
  /**
   * ZooKeeper of a sluice or Canal cluster (a connect string, or options): the client connects to
   * the server that .../destinations/{destination}/running names, and looks again whenever it
   * loses it. Instead of host/port or servers.
   */
  zk?: string | ZooKeeperClientOptions;
  /**
   * With zk: several processes with this destination and client id stand by for each other
   * through .../{destination}/{clientId}/running; only the holder consumes. connect() (and every
   * reconnect) waits while another process holds it.
   */
  exclusive?: boolean;
  destination: string;
  /** default '1001', as the Java client */
  clientId?: string;
  user?: string;
  /** plaintext; only its scramble with the server's seed goes on the wire */
  password?: string;
  /** the server closes the connection after this long without traffic (sent in ms; default 1 h) */
  idleTimeoutMs?: number;
  /** TCP (and TLS) connect plus handshake (default 10 s) */
  connectTimeoutMs?: number;
  /** how long a reply may take beyond a GET's own wait before the connection is dropped (default 60 s) */
  requestTimeoutMs?: number;
  /** largest frame accepted from the server (default 512 MiB) */
  maxFrameBytes?: number;
  /** node:tls options; set to connect over TLS */
  tls?: TlsOptions;
  /** false: calls after a lost connection fail instead of reconnecting */
  reconnect?: ReconnectPolicy | false;
  /** send ROLLBACK(0) right after connecting, as the Java client does (default true) */
  rollbackOnConnect?: boolean;
}

export interface StreamOptions {
  /** entries (or KiB, depending on the server's batch mode) per GET (default 1000); a function is asked before each GET */
  batchSize?: number | (() => number);
  /** how long each GET waits for a full batch, ms; 0 blocks until one is full (default 1000) */
  timeoutMs?: number;
  /** narrowing filter, used when the client is not subscribed yet */
  filter?: string;
  /** also yield empty results (id -1), so the caller can notice that nothing arrives */
  yieldEmpty?: boolean;
}

export interface ReconnectInfo {
  attempt: number;
  delayMs: number;
  error: Error;
}

export type CanalClientEvents = {
  /** with the server's "host:port" */
  connected: [server: string];
  disconnected: [error: Error];
  reconnecting: [info: ReconnectInfo];
  /** exclusive: another process (named by its address) consumes; this one waits */
  standby: [holder: string];
};

export class CanalClient extends EventEmitter<CanalClientEvents> {
  readonly destination: string;
  readonly clientId: string;
  private readonly opts: CanalClientOptions;
  private readonly policy: Required<ReconnectPolicy> | undefined;
  private readonly locator: ServerLocator;
  private readonly zk: ZkLink | undefined;
  private readonly lock: ConsumerLock | undefined;
  /** servers or ZooKeeper: connect() also retries, across the servers, under the reconnect policy */
  private readonly cluster: boolean;
  /** the connection that handed out each batch, so that an ack names the right one */
  private readonly delivered = new WeakMap<CanalBatch, CanalConnection>();
  private conn: CanalConnection | undefined;
  private opening: Promise<CanalConnection> | undefined;
  /** connect() was called and disconnect() was not */
  private wanted = false;
  private subscribed = false;
  private filter = '';
  /** batch ids handed out and not yet acknowledged, oldest first */
  private outstandingIds: number[] = [];
  /** batches fetched by a GET that failed with an earlier ack's error; handed out next */
  private stash: CanalBatch[] = [];
  private failures = 0;
  /** ids handed out on lost connections and not yet reported lost: acking them on a new one would be wrong */
  private readonly lostIds = new Set<number>();
  /** why the last connection ended, reported with the first reconnect attempt */
  private lastLoss: Error | undefined;
  /** when the current outage began (performance.now()): the reconnect deadline counts from it */
  private outageSince: number | undefined;

  constructor(opts: CanalClientOptions) {
    super();
    if (!opts.destination) throw new TypeError('CanalClient: destination is required');
    this.opts = opts;
    this.destination = opts.destination;
    this.clientId = opts.clientId ?? '1001';
    this.policy =
      opts.reconnect === false
        ? undefined
        : { maxAttempts: Infinity, initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, deadlineMs: Infinity, ...(opts.reconnect ?? {}) };
    const single = opts.host !== undefined || opts.port !== undefined;
    if ([single, opts.servers !== undefined, opts.zk !== undefined].filter(Boolean).length > 1) throw new TypeError('CanalClient: give one of host and port, servers, or zk');
    if (opts.exclusive === true && opts.zk === undefined) throw new TypeError('CanalClient: exclusive needs zk (the consumers stand by for each other through ZooKeeper)');
    if (opts.zk !== undefined) {
      this.zk = new ZkLink(typeof opts.zk === 'string' ? { connect: opts.zk } : opts.zk);
      this.locator = new RunningNodeLocator(this.zk, this.destination);
      this.locator.onMoved = (to) => {
        const conn = this.conn;
        // A connection to the new server (made while the news travelled) stays.
        if (conn === undefined || conn.peer === `${to.host}:${to.port}`) return;
        conn.destroy(new CanalConnectionError(`${this.destination} is now run by ${formatAddress(to)} (its running node changed); leaving ${conn.peer}`));
      };
      this.cluster = true;
      if (opts.exclusive === true) {
        const lock = new ConsumerLock(this.zk, this.destination, this.clientId);
        lock.on('lost', (reason) => {
          this.conn?.destroy(new CanalConnectionError(`${this.destination}/${this.clientId} stops consuming: ${reason}`));
        });
        this.lock = lock;
      }
    } else if (opts.servers !== undefined) {
      this.locator = new FixedServers(parseAddressList(opts.servers, 'CanalClient servers'));
      this.cluster = true;
    } else {
      if (opts.host === undefined || opts.port === undefined) throw new TypeError('CanalClient: host and port are required (or servers, or zk)');
      if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65_535) throw new TypeError(`CanalClient: port must be 1-65535, got ${opts.port}`);
      this.locator = new FixedServers([{ host: opts.host, port: opts.port }]);
      this.cluster = false;
    }
  }

  get connected(): boolean {
    return this.conn !== undefined && !this.conn.closed;
  }

  /** The server of the open connection ("host:port"), undefined while not connected. */
  get server(): string | undefined {
    return this.connected ? this.conn!.peer : undefined;
  }

  get isSubscribed(): boolean {
    return this.subscribed;
  }

  /**
   * A refused ack or rollback that has arrived and that the next call will throw; undefined
   * when none is waiting. Lets a caller learn of it without making a call.
   */
  get pendingFailure(): CanalServerError | undefined {
    return this.conn?.peekDeferredError();
  }

  /** Batch ids handed out and not acknowledged, oldest first. */
  outstanding(): readonly number[] {
    return this.outstandingIds;
  }

  /** Opens the connection: handshake, authentication, and the rollback Canal clients send on connect. */
  async connect(): Promise<void> {
    this.wanted = true;
    await this.session(false);
  }

  /** Subscribes (again) with a filter. A standby's refusal makes it find the active server and retry there. */
  async subscribe(filter = ''): Promise<void> {
    await this.followingStandbys(async () => {
      const pending = this.ready();
      const conn = pending instanceof CanalConnection ? pending : await pending;
      const r = await conn.request(subPacket({ destination: this.destination, clientId: this.clientId, filter }), this.what('subscription'));
      this.expectOk(conn, r, this.what('subscription'), () => {
        this.subscribed = true;
        this.filter = filter;
        this.outageSince = undefined;
      });
    });
  }

  async unsubscribe(): Promise<void> {
    await this.followingStandbys(async () => {
      const pending = this.ready();
      const conn = pending instanceof CanalConnection ? pending : await pending;
      const r = await conn.request(unsubPacket({ destination: this.destination, clientId: this.clientId }), this.what('unsubscription'));
      this.expectOk(conn, r, this.what('unsubscription'), () => {
        this.subscribed = false;
      });
    });
  }

  /**
   * Fetches the next batch without acknowledging it. timeoutMs: -1 returns at once with what
   * is there; 0 blocks until a full batch; > 0 waits up to that long. An empty result has id -1.
   */
  async getWithoutAck(batchSize = 1000, timeoutMs = -1): Promise<CanalBatch> {
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new RangeError(`getWithoutAck: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isFinite(timeoutMs)) throw new RangeError(`getWithoutAck: timeoutMs must be a number of ms, got ${timeoutMs}`);
    const stashed = this.stash.shift();
    if (stashed !== undefined) return stashed;
    const pending = this.ready();
    const conn = pending instanceof CanalConnection ? pending : await pending;
    const what = this.what('GET');
    const serverWait = timeoutMs === -1 ? 0 : timeoutMs > 0 ? timeoutMs : null;
    const r = await conn.request(getPacket({ destination: this.destination, clientId: this.clientId, fetchSize: batchSize, timeout: Math.trunc(timeoutMs), unit: UNIT_MS, autoAck: false }), what, serverWait);
    if (r.packet.type === PacketType.ACK) {
      // Canal clients treat any ACK in reply to GET as a failure, even one without a code.
      const a = decodeAck(r.packet.body);
      const own = new CanalServerError(what, a.errorCode, a.errorMessage || 'the server answered GET with an ACK instead of MESSAGES');
      if (r.carried) {
        conn.defer(own);
        throw r.carried;
      }
      throw own;
    }
    if (r.packet.type !== PacketType.MESSAGES) {
      const err = new CanalProtocolError(`${conn.peer} answered ${what} with ${packetTypeName(r.packet.type)}`);
      conn.destroy(err);
      throw err;
    }
    let batch: CanalBatch;
    try {
      const m = readMessages(r.packet.body);
      batch = batchOfSpans(m.batchId, m.body, m.starts, m.ends);
    } catch (e) {
      const err = new CanalProtocolError(`${conn.peer} sent a MESSAGES packet that does not decode: ${(e as Error).message}`);
      conn.destroy(err);
      throw err;
    }
    this.failures = 0;
    this.outageSince = undefined;
    if (batch.id > 0) {
      this.outstandingIds.push(batch.id);
      this.delivered.set(batch, conn);
    }
    if (r.carried) {
      // The caller hears about the failed ack now; the batch is not lost, the next get returns it.
      if (batch.id > 0) this.stash.push(batch);
      throw r.carried;
    }
    return batch;
  }

  /** getWithoutAck, then ack of the batch it returned. */
  async get(batchSize = 1000, timeoutMs = -1): Promise<CanalBatch> {
    const batch = await this.getWithoutAck(batchSize, timeoutMs);
    if (batch.id > 0) await this.ack(batch);
    return batch;
  }

  /**
   * Acknowledges a batch (it must be the oldest outstanding one), given as the batch itself or
   * its id. The server answers nothing on success; a refusal arrives later and fails the next
   * call on this client, with its message. A batch handed out by a connection that has since
   * been lost is refused here (CanalConnectionError): its entries are being delivered again.
   */
  async ack(batch: number | CanalBatch): Promise<void> {
    const batchId = typeof batch === 'number' ? batch : batch.id;
    if (!Number.isSafeInteger(batchId) || batchId === 0 || batchId < -1) throw new RangeError(`ack: batchId must be a batch id >= 1 (or -1, ignored), got ${batchId}`);
    if (batchId === -1) return;
    const pending = this.readyFor(batch, 'acknowledged');
    const conn = pending instanceof CanalConnection ? pending : await pending;
    await conn.sendNoReply(clientAckPacket({ destination: this.destination, clientId: this.clientId, batchId }), `ack of batch ${batchId} on ${this.destination}/${this.clientId}`, batchId);
    if (this.outstandingIds[0] === batchId) this.outstandingIds.shift();
  }

  /**
   * Rolls back: with no id (or 0) every outstanding batch, with an id that batch and every
   * newer one. Their entries are delivered again by the next gets. Refusals surface as for ack.
   */
  async rollback(batch: number | CanalBatch = 0): Promise<void> {
    const batchId = typeof batch === 'number' ? batch : batch.id;
    if (!Number.isSafeInteger(batchId) || batchId < 0) throw new RangeError(`rollback: batchId must be 0 (all) or a batch id, got ${batchId}`);
    if (batchId === 0) this.lostIds.clear();
    const pending = batchId === 0 ? this.ready() : this.readyFor(batch, 'rolled back');
    const conn = pending instanceof CanalConnection ? pending : await pending;
    const what = batchId === 0 ? `rollback of all batches on ${this.destination}/${this.clientId}` : `rollback of batch ${batchId} on ${this.destination}/${this.clientId}`;
    await conn.sendNoReply(clientRollbackPacket({ destination: this.destination, clientId: this.clientId, batchId }), what, batchId);
    this.forgetFrom(batchId);
  }

  /**
   * Waits until the server has handled every request sent so far, so that a refused ack or
   * rollback is reported here rather than lost with the connection. It renews the subscription
   * (same filter), the only request with a reply that changes nothing.
   */
  async sync(): Promise<void> {
    if (!this.subscribed) throw new CanalError(`sync() of ${this.destination}/${this.clientId} needs a subscription: call subscribe() first`);
    await this.subscribe(this.filter);
  }

  /** Closes the connection. Unacknowledged batches are returned to the server's store. */
  async disconnect(): Promise<void> {
    this.wanted = false;
    this.subscribed = false;
    this.outageSince = undefined;
    this.lostIds.clear();
    const conn = this.conn;
    this.conn = undefined;
    this.forgetFrom(0);
    if (conn !== undefined) await conn.close();
    await this.lock?.release();
    await this.locator.close();
    await this.zk?.close();
  }

  /**
   * Batches in order, each acknowledged when the loop asks for the next one, i.e. after the
   * loop body for it has finished. Leaving the loop (break, return or throw) leaves the current
   * batch unacknowledged, so it is delivered again later; ack it yourself before breaking if
   * it was handled. Lost connections are re-established (see ReconnectPolicy): delivery is
   * at-least-once.
   */
  async *stream(opts: StreamOptions = {}): AsyncGenerator<CanalBatch, void, undefined> {
    const size = opts.batchSize ?? 1000;
    const batchSize = typeof size === 'function' ? size : () => size;
    const timeoutMs = opts.timeoutMs ?? 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError(`stream: timeoutMs must be >= 0 (0 blocks until a batch is full), got ${timeoutMs}`);
    if (!this.wanted) await this.connect();
    if (!this.subscribed) await this.subscribe(opts.filter ?? '');
    // Batches handed out before this stream began would make its acks fail: give them back.
    if (this.outstandingIds.length > 0 || this.stash.length > 0) await this.rollback(0);
    let pending: CanalBatch | undefined;
    for (;;) {
      try {
        if (pending !== undefined && this.outstandingIds[0] === pending.id && this.delivered.get(pending) === this.conn) await this.ack(pending);
        pending = undefined;
        const batch = await this.getWithoutAck(batchSize(), timeoutMs);
        if (batch.id > 0) {
          pending = batch;
          yield batch;
        } else if (opts.yieldEmpty === true) {
          yield batch;
        }
      } catch (e) {
        if (!isRetryable(e) || this.policy === undefined || !this.wanted) throw e;
        // The next call reconnects, subscribes again and rolls back: the unacknowledged batch comes again.
        pending = undefined;
      }
    }
  }

  /** Same as stream(). */
  batches(opts: StreamOptions = {}): AsyncGenerator<CanalBatch, void, undefined> {
    return this.stream(opts);
  }

  // --- internals ---

  private lostBatch(batchId: number, verb: string): CanalConnectionError {
    return new CanalConnectionError(`batch ${batchId} cannot be ${verb}: the connection that delivered it was lost, and its entries will be delivered again`);
  }

  private what(request: string): string {
    return `${request} of ${this.destination}/${this.clientId}`;
  }

  /**
   * The open connection (re-established if it was lost), after reporting any deferred failure.
   * Returned synchronously when the connection is up, so that requests go on the wire in the
   * order the calls were made: an `await` here would let a later call overtake.
   */
  private ready(): CanalConnection | Promise<CanalConnection> {
    const c = this.conn;
    if (c !== undefined && !c.closed && this.opening === undefined) return this.reportDeferred(c);
    return this.session(true).then((conn) => this.reportDeferred(conn));
  }

  private reportDeferred(conn: CanalConnection): CanalConnection {
    const deferred = conn.takeDeferredError();
    if (deferred !== undefined) throw deferred;
    return conn;
  }

  /**
   * ready(), for an ack or rollback of a batch. A batch belongs to the connection that handed it
   * out: if that connection was lost, its id means nothing on the new one (its entries are being
   * delivered again), or worse, names another batch there, so the call fails instead of sending it.
   * Given as an id, a batch lost with a connection and an outstanding batch of the current one
   * with the same id (a new server counts from 1 again) cannot be told apart: that call fails
   * too and asks for the batch itself.
   */
  private readyFor(batch: number | CanalBatch, verb: string): CanalConnection | Promise<CanalConnection> {
    const batchId = typeof batch === 'number' ? batch : batch.id;
    let origin: CanalConnection | undefined;
    if (typeof batch !== 'number') {
      origin = this.delivered.get(batch);
      if (origin === undefined) throw new CanalError(`batch ${batchId} cannot be ${verb}: it was not handed out by this client`);
      if (origin !== this.conn || origin.closed) {
        this.lostIds.delete(batchId);
        throw this.lostBatch(batchId, verb);
      }
    } else if (this.lostIds.has(batchId)) {
      if (this.outstandingIds.includes(batchId)) {
        throw new CanalError(
          `batch ${batchId} cannot be ${verb} by id: a batch ${batchId} was handed out by a connection since lost and another by the current one; pass the batch itself (ack(batch), rollback(batch))`,
        );
      }
      this.lostIds.delete(batchId);
      throw this.lostBatch(batchId, verb);
    } else if (this.outstandingIds.includes(batchId)) {
      origin = this.conn;
    }
    const check = (conn: CanalConnection): CanalConnection => {
      if (origin !== undefined && conn !== origin) throw this.lostBatch(batchId, verb);
      return conn;
    };
    const r = this.ready();
    return r instanceof CanalConnection ? check(r) : r.then(check);
  }

  /**
   * Runs a request that has a reply; when a standby refuses it, finds the active server (the
   * reconnect policy bounds how long) and runs it there.
   */
  private async followingStandbys(request: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await request();
        return;
      } catch (e) {
        if (!(e instanceof CanalNotActiveError) || this.policy === undefined || !this.wanted) throw e;
      }
    }
  }

  private expectOk(conn: CanalConnection, r: Reply, what: string, onSuccess: () => void): void {
    if (r.packet.type !== PacketType.ACK) {
      // Replies are out of step with requests: nothing on this connection can be trusted.
      const bad = new CanalProtocolError(`${conn.peer} answered ${what} with ${packetTypeName(r.packet.type)}`);
      conn.destroy(bad);
      throw bad;
    }
    const err = ackError(r.packet);
    if (err === undefined) onSuccess();
    if (r.carried) {
      if (err !== undefined) conn.defer(new CanalServerError(what, err.errorCode, err.errorMessage));
      throw r.carried;
    }
    if (err !== undefined) throw new CanalServerError(what, err.errorCode, err.errorMessage);
  }

  private forgetFrom(batchId: number): void {
    this.stash = [];
    if (batchId === 0) this.outstandingIds = [];
    else {
      const i = this.outstandingIds.indexOf(batchId);
      if (i >= 0) this.outstandingIds.splice(i);
    }
  }

  private async session(reconnecting: boolean): Promise<CanalConnection> {
    if (this.conn !== undefined && !this.conn.closed) return this.conn;
    if (this.opening !== undefined) return await this.opening;
    if (reconnecting && !this.wanted) throw new CanalConnectionError(`not connected to ${this.peer()}: call connect() first`);
    // A cluster form retries its first connection as well: a client started during a failover waits for it.
    const retry = this.policy !== undefined && (reconnecting || this.cluster);
    this.opening = retry ? this.reconnectWithBackoff(this.policy!, reconnecting) : this.openAny();
    try {
      return await this.opening;
    } finally {
      this.opening = undefined;
    }
  }

  private peer(): string {
    return this.locator.description;
  }

  private async reconnectWithBackoff(p: Required<ReconnectPolicy>, afterLoss: boolean): Promise<CanalConnection> {
    let last: Error = this.lastLoss ?? new CanalConnectionError(`connection to ${this.peer()} was lost`);
    this.outageSince ??= performance.now();
    for (let attempt = 1; attempt <= p.maxAttempts; attempt++) {
      if (afterLoss || attempt > 1) {
        this.failures++;
        const delayMs = Math.min(p.maxDelayMs, p.initialDelayMs * p.factor ** Math.min(this.failures - 1, 30));
        this.emit('reconnecting', { attempt, delayMs, error: last });
        await this.locator.pause(Math.min(delayMs, Math.max(0, this.outageSince + p.deadlineMs - performance.now())));
        if (!this.wanted) throw new CanalConnectionError(`reconnecting to ${this.peer()} stopped: the client was disconnected`);
      }
      try {
        return await this.openAny();
      } catch (e) {
        // Wrong credentials or a peer that is not Canal will not get better by retrying.
        if (e instanceof CanalAuthError || e instanceof CanalProtocolError || !(e instanceof CanalError)) throw e;
        last = e;
      }
      const outage = performance.now() - this.outageSince;
      if (outage >= p.deadlineMs) {
        throw new CanalReconnectError(`gave up connecting to ${this.peer()} for ${this.destination} after ${Math.round(outage)} ms (reconnect.deadlineMs ${p.deadlineMs}): ${last.message}`, { cause: last });
      }
    }
    throw new CanalReconnectError(`gave up reconnecting to ${this.peer()} after ${p.maxAttempts} attempts: ${last.message}`, { cause: last });
  }

  /** openOnce(); with exclusive, standing by first while another process consumes. */
  private async openAny(): Promise<CanalConnection> {
    for (;;) {
      try {
        return await this.openOnce();
      } catch (e) {
        if (!(e instanceof ConsumerStandby) || !this.wanted) throw e;
        this.emit('standby', e.holder);
        await this.lock!.changed();
        if (!this.wanted) throw new CanalConnectionError(`standing by for ${this.lock!.path} stopped: the client was disconnected`);
        // Standing by is not an outage: the reconnect deadline counts from here.
        if (this.outageSince !== undefined) this.outageSince = performance.now();
      }
    }
  }

  /** One connection attempt at each server the locator names now, best first. */
  private async openOnce(): Promise<CanalConnection> {
    const candidates = await this.locator.candidates();
    if (candidates.length === 0) throw new CanalConnectionError(`no server is running ${this.destination} now (${this.peer()})`);
    let last: unknown;
    for (const addr of candidates) {
      try {
        const conn = await this.open(addr);
        this.locator.connected(addr);
        return conn;
      } catch (e) {
        if (e instanceof CanalNotActiveError) this.locator.refused(addr, e.activeAddress);
        if (e instanceof ConsumerStandby) throw e;
        if (e instanceof CanalAuthError || e instanceof CanalProtocolError || !(e instanceof CanalError)) throw e;
        last = e;
      }
      if (!this.wanted) break;
    }
    throw last;
  }

  private async open(addr: ServerAddress): Promise<CanalConnection> {
    const o = this.opts;
    const { conn, handshake } = await CanalConnection.open({
      host: addr.host,
      port: addr.port,
      tls: o.tls,
      connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: o.requestTimeoutMs ?? 60_000,
      maxFrameBytes: o.maxFrameBytes ?? 512 * 1024 * 1024,
    });
    try {
      const seeds = decodeHandshake(handshake.body).seeds;
      const user = o.user ?? '';
      const idle = o.idleTimeoutMs ?? 3_600_000;
      const authWhat = `authentication of user "${user}" at ${conn.peer}`;
      const r = await conn.request(
        clientAuthPacket({ username: user, password: o.password === undefined ? '' : scramblePassword(o.password, seeds), netReadTimeoutMs: idle, netWriteTimeoutMs: idle }),
        authWhat,
      );
      if (r.packet.type !== PacketType.ACK) throw new CanalProtocolError(`${conn.peer} answered ${authWhat} with ${packetTypeName(r.packet.type)}`);
      const err = ackError(r.packet);
      if (err !== undefined) throw new CanalAuthError(authWhat, err.errorCode, err.errorMessage);
      // Exclusive: consume only while holding {clientId}/running, named by this end of the connection.
      if (this.lock !== undefined) await this.lock.take(conn.localAddress);
      if (this.subscribed) {
        const s = await conn.request(subPacket({ destination: this.destination, clientId: this.clientId, filter: this.filter }), this.what('subscription'));
        const serr = ackError(s.packet);
        if (s.packet.type !== PacketType.ACK || serr !== undefined) {
          throw new CanalServerError(this.what('renewed subscription'), serr?.errorCode ?? 0, serr?.errorMessage ?? `answered with ${packetTypeName(s.packet.type)}`);
        }
      }
      this.forgetFrom(0);
      if (o.rollbackOnConnect ?? true) await conn.sendNoReply(clientRollbackPacket({ destination: this.destination, clientId: this.clientId, batchId: 0 }), `rollback on connect of ${this.destination}/${this.clientId}`, 0);
    } catch (e) {
      conn.destroy(e instanceof Error ? e : new Error(String(e)));
      if (e instanceof CanalConnectionError && e.message.includes('closed by the server')) {
        throw new CanalConnectionError(`${conn.peer} closed the connection during the handshake or authentication (a server with auth on closes it for a malformed password)`, { cause: e });
      }
      throw e;
    }
    this.conn = conn;
    conn.onClose((err) => {
      if (this.conn === conn) {
        this.conn = undefined;
        this.lastLoss = err;
        if (err instanceof CanalNotActiveError) this.locator.refused(addr, err.activeAddress);
        for (const id of this.outstandingIds) this.lostIds.add(id);
        // Remembered ids are only for a precise error; a client that never acks them must not grow.
        for (const id of this.lostIds) {
          if (this.lostIds.size <= MAX_LOST_IDS) break;
          this.lostIds.delete(id);
        }
        this.forgetFrom(0);
        this.emit('disconnected', err);
      }
    });
    this.emit('connected', conn.peer);
    return conn;
  }
}
