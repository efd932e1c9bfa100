// One ZooKeeper session, promise-based, over node-zookeeper-client (pure JavaScript: nothing is
// downloaded or compiled at install). Beyond the library it keeps a *lease*: the time until which
// the session is certainly alive on the servers. ZooKeeper expires a session no earlier than
// `timeout` after the last request it received from it, so a request sent at t and answered
// proves the session alive until t + timeout. The lease is that minus a third of the timeout,
// kept as margin for clock-rate differences and for the time it takes to stop serving. It is
// renewed by a probe every third of the timeout. The library never notices a server that stops
// answering (a frozen or partitioned node keeps the socket open), so the lease is also what
// declares such a session lost: 'lease-lost' when it lapses, 'expired' once a whole further
// timeout has passed without an answer (or when ZooKeeper says so). After 'expired' the object is
// dead; open a new one.
import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';

export interface ZkSessionOptions {
  /** "host:port,host:port[/chroot]" */
  connectString: string;
  /** requested session timeout; ZooKeeper clamps it to [minSessionTimeout, maxSessionTimeout] */
  sessionTimeoutMs: number;
  /** how long open() waits for the first connection (default: the session timeout, at least 5 s) */
  connectTimeoutMs?: number;
  /** pause between two passes over the server list when none answers (default 200 ms) */
  spinDelayMs?: number;
}

export interface NodeStat {
  version: number;
  /** zxid of the node's creation and last change, as decimal strings (64-bit) */
  czxid: string;
  mzxid: string;
  /** session id owning an ephemeral node, hex; '0' for a persistent node */
  ephemeralOwner: string;
  numChildren: number;
}

export type ZkErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'CONNECTION_LOSS'
  | 'SESSION_EXPIRED'
  | 'OPERATION_TIMEOUT'
  | 'NO_AUTH'
  | 'OTHER';

export class ZkError extends Error {
  constructor(
    readonly code: ZkErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'ZkError';
  }
}

export type WatchEvent = 'created' | 'deleted' | 'changed' | 'children';

export interface ZkSessionEvents {
  /** the lease lapsed: the session may be gone; stop acting on what it holds */
  'lease-lost': [];
  /** an answer came back after 'lease-lost': the session survived */
  'lease-ok': [];
  /** the session is over (ZooKeeper expired it, or no answer for a whole timeout after the lease lapsed) */
  expired: [reason: string];
  /** the TCP connection to a server came or went (the session may outlive it) */
  connection: [connected: boolean];
}

const CODES: Record<number, ZkErrorCode> = {
  [zookeeper.Exception.NO_NODE]: 'NO_NODE',
  [zookeeper.Exception.NODE_EXISTS]: 'NODE_EXISTS',
  [zookeeper.Exception.BAD_VERSION]: 'BAD_VERSION',
  [zookeeper.Exception.NOT_EMPTY]: 'NOT_EMPTY',
  [zookeeper.Exception.CONNECTION_LOSS]: 'CONNECTION_LOSS',
  [zookeeper.Exception.SESSION_EXPIRED]: 'SESSION_EXPIRED',
  [zookeeper.Exception.OPERATION_TIMEOUT]: 'OPERATION_TIMEOUT',
  [zookeeper.Exception.NO_AUTH]: 'NO_AUTH',
};

function wrapError(err: unknown, op: string, path: string): ZkError {
  if (err instanceof zookeeper.Exception) {
    const code = CODES[err.getCode()] ?? 'OTHER';
    return new ZkError(code, `ZooKeeper ${op} ${path}: ${err.getName()}`, path);
  }
  return new ZkError('OTHER', `ZooKeeper ${op} ${path}: ${err instanceof Error ? err.message : String(err)}`, path);
}

function hex(b: Buffer): string {
  return b.toString('hex').replace(/^0+(?=.)/, '');
}

function toStat(s: zookeeper.Stat): NodeStat {
  return {
    version: s.version,
    czxid: s.czxid.readBigUInt64BE(0).toString(),
    mzxid: s.mzxid.readBigUInt64BE(0).toString(),
    ephemeralOwner: hex(s.ephemeralOwner),
    numChildren: s.numChildren,
  };
}

function watchKind(e: zookeeper.Event): WatchEvent {
  switch (e.getType()) {
    case zookeeper.Event.NODE_CREATED:
      return 'created';
    case zookeeper.Event.NODE_DELETED:
      return 'deleted';
    case zookeeper.Event.NODE_DATA_CHANGED:
      return 'changed';
    default:
      return 'children';
  }
}

/**
 * Ends a client's session. node-zookeeper-client must only be closed while connected: closed in the
 * middle of a connection attempt, it reads the server's connect response as a reply and throws
 * from its socket handler (an uncaught exception). So a client that is not connected is closed
 * the moment it connects (its old session then ends at once), or left to find its session expired.
 */
function closeClient(client: zookeeper.Client): void {
  if (client.getState() === zookeeper.State.SYNC_CONNECTED) {
    client.close();
    return;
  }
  client.once('connected', () => client.close());
}

export class ZkSession extends EventEmitter<ZkSessionEvents> {
  private leaseUntil = 0;
  private leaseLapsed = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private dead = false;
  private timeoutMs: number;
  private readonly pending = new Set<(e: ZkError) => void>();

  private constructor(
    private readonly client: zookeeper.Client,
    private readonly opts: ZkSessionOptions,
  ) {
    super();
    this.timeoutMs = opts.sessionTimeoutMs;
  }

  /** Connects and resolves once the session is established (rejects after connectTimeoutMs). */
  static async open(opts: ZkSessionOptions): Promise<ZkSession> {
    const client = zookeeper.createClient(opts.connectString, { sessionTimeout: opts.sessionTimeoutMs, spinDelay: opts.spinDelayMs ?? 200, retries: 0 });
    const s = new ZkSession(client, opts);
    const wait = opts.connectTimeoutMs ?? Math.max(5_000, opts.sessionTimeoutMs);
    const startedAt = Date.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.removeListener('connected', onConnected);
        closeClient(client);
        reject(new ZkError('CONNECTION_LOSS', `could not connect to ZooKeeper at ${opts.connectString} within ${wait} ms: check zookeeper.connect (canal.zkServers) and that a quorum of its servers is up`));
      }, wait);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      client.once('connected', onConnected);
      client.connect();
    });
    s.timeoutMs = client.getSessionTimeout();
    // The connect request was sent after startedAt and answered: the session lives at least that long.
    s.leaseUntil = startedAt + s.leaseSpan();
    s.attach();
    return s;
  }

  /** The timeout ZooKeeper granted (ms). */
  get sessionTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** This session's id, hex, as ZooKeeper reports it in ephemeralOwner. */
  get sessionId(): string {
    return hex(this.client.getSessionId());
  }

  get connectString(): string {
    return this.opts.connectString;
  }

  /** True while the session is certainly alive on the ZooKeeper servers. */
  leaseValid(now = Date.now()): boolean {
    return !this.dead && !this.leaseLapsed && now < this.leaseUntil;
  }

  /** ms left on the lease (0 when lapsed) */
  leaseRemainingMs(now = Date.now()): number {
    return this.leaseValid(now) ? this.leaseUntil - now : 0;
  }

  get connected(): boolean {
    return this.client.getState() === zookeeper.State.SYNC_CONNECTED;
  }

  get expired(): boolean {
    return this.dead;
  }

  private leaseSpan(): number {
    return Math.floor((this.timeoutMs * 2) / 3);
  }

  private attach(): void {
    this.client.on('connected', () => {
      this.timeoutMs = this.client.getSessionTimeout();
      this.emit('connection', true);
    });
    this.client.on('disconnected', () => {
      if (!this.dead) this.emit('connection', false);
    });
    this.client.on('expired', () => this.die('ZooKeeper expired the session'));
    this.scheduleProbe(0);
    this.armLeaseTimer();
  }

  private scheduleProbe(delayMs: number): void {
    this.probeTimer = setTimeout(() => void this.probe(), delayMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.dead) return;
    const sentAt = Date.now();
    try {
      await this.exists('/');
      this.renew(sentAt);
    } catch {
      // counted by the lease timer
    }
    if (!this.dead) this.scheduleProbe(Math.max(50, Math.floor(this.timeoutMs / 3) - (Date.now() - sentAt)));
  }

  /** A request sent at sentAt was answered: the session lives until sentAt + timeout (minus the margin). */
  private renew(sentAt: number): void {
    if (this.dead) return;
    const until = sentAt + this.leaseSpan();
    if (until <= this.leaseUntil) return;
    this.leaseUntil = until;
    if (this.leaseLapsed && Date.now() < until) {
      this.leaseLapsed = false;
      this.emit('lease-ok');
    }
    this.armLeaseTimer();
  }

  private armLeaseTimer(): void {
    if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
    this.leaseTimer = setTimeout(() => this.checkLease(), Math.max(0, this.leaseUntil - Date.now()));
    this.leaseTimer.unref();
  }

  private checkLease(): void {
    if (this.dead) return;
    const now = Date.now();
    if (now < this.leaseUntil) {
      this.armLeaseTimer();
      return;
    }
    if (!this.leaseLapsed) {
      this.leaseLapsed = true;
      this.emit('lease-lost');
    }
    // The lease ends a third of a timeout before the earliest possible expiry; a whole timeout
    // after that, the session is certainly over even if nobody has said so.
    const presumedDead = this.leaseUntil + this.timeoutMs;
    if (now >= presumedDead) {
      this.die(`no answer from ZooKeeper for ${now - (this.leaseUntil - this.leaseSpan())} ms (session timeout ${this.timeoutMs} ms)`);
      return;
    }
    this.leaseTimer = setTimeout(() => this.checkLease(), presumedDead - now);
    this.leaseTimer.unref();
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.leaseLapsed = true;
    for (const t of [this.probeTimer, this.leaseTimer]) if (t !== undefined) clearTimeout(t);
    closeClient(this.client);
    this.failPending(reason);
    this.emit('expired', reason);
  }

  /** Ends the session (its ephemeral nodes go at once); waits at most a second for ZooKeeper to confirm. */
  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.leaseLapsed = true;
    for (const t of [this.probeTimer, this.leaseTimer]) if (t !== undefined) clearTimeout(t);
    const closed = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1_000);
      t.unref();
      this.client.once('disconnected', () => {
        clearTimeout(t);
        resolve();
      });
    });
    closeClient(this.client);
    this.failPending('the session was closed');
    await closed;
  }

  // ------------------------------------------------------------------ operations

  /**
   * One request. The library never answers a request queued while the session ends, so every
   * request also fails when the session is over and after a session timeout without an answer.
   */
  private call<T>(op: string, path: string, run: (cb: (err: unknown, value: T) => void) => void): Promise<T> {
    if (this.dead) return Promise.reject(new ZkError('SESSION_EXPIRED', `ZooKeeper ${op} ${path}: the session is over`, path));
    const sentAt = Date.now();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (e: ZkError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(e);
      };
      const timer = setTimeout(() => fail(new ZkError('OPERATION_TIMEOUT', `ZooKeeper ${op} ${path}: no answer within ${this.timeoutMs} ms`, path)), Math.max(this.timeoutMs, 1_000));
      timer.unref();
      this.pending.add(fail);
      run((err, value) => {
        if (settled) return;
        if (err) {
          const e = wrapError(err, op, path);
          // Any answer from the server, even an error about the node, proves the session alive.
          if (e.code !== 'CONNECTION_LOSS' && e.code !== 'SESSION_EXPIRED') this.renew(sentAt);
          fail(e);
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.pending.delete(fail);
        this.renew(sentAt);
        resolve(value);
      });
    });
  }

  private failPending(why: string): void {
    for (const fail of [...this.pending]) fail(new ZkError('SESSION_EXPIRED', `ZooKeeper request abandoned: ${why}`));
  }

  /** Creates a node; `ephemeral` nodes live as long as this session. Throws ZkError NODE_EXISTS / NO_NODE. */
  async create(path: string, data: Buffer, mode: 'persistent' | 'ephemeral'): Promise<void> {
    const m = mode === 'ephemeral' ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT;
    await this.call<string>('create', path, (cb) => this.client.create(path, data, m, cb));
  }

  /** Creates every missing persistent node on the way to `path` (empty data). */
  async ensurePath(path: string): Promise<void> {
    // Another client creating a parent at the same moment makes mkdirp fail with NODE_EXISTS: go again.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.call<string>('mkdirp', path, (cb) => this.client.mkdirp(path, cb));
        return;
      } catch (err) {
        if (!(err instanceof ZkError) || err.code !== 'NODE_EXISTS' || attempt >= 5) throw err;
      }
    }
  }

  /** The node's data and stat, or undefined when it does not exist. The watch fires once on its next change. */
  async get(path: string, watch?: (e: WatchEvent) => void): Promise<{ data: Buffer; stat: NodeStat } | undefined> {
    try {
      const [data, stat] = await this.call<[Buffer, zookeeper.Stat]>('getData', path, (cb) => {
        const done = (err: unknown, d: Buffer, s: zookeeper.Stat): void => cb(err, [d, s]);
        if (watch) this.client.getData(path, (e) => watch(watchKind(e)), done);
        else this.client.getData(path, done);
      });
      return { data: data ?? Buffer.alloc(0), stat: toStat(stat) };
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return undefined;
      throw err;
    }
  }

  /** Stat of the node, or undefined. The watch fires once when it is created, changed or deleted. */
  async exists(path: string, watch?: (e: WatchEvent) => void): Promise<NodeStat | undefined> {
    const stat = await this.call<zookeeper.Stat | null>('exists', path, (cb) => {
      if (watch) this.client.exists(path, (e) => watch(watchKind(e)), cb);
      else this.client.exists(path, cb);
    });
    return stat ? toStat(stat) : undefined;
  }

  /** Replaces the data if the node's version is `version` (-1: any). Throws ZkError BAD_VERSION / NO_NODE. */
  async set(path: string, data: Buffer, version: number): Promise<NodeStat> {
    return toStat(await this.call<zookeeper.Stat>('setData', path, (cb) => this.client.setData(path, data, version, cb)));
  }

  /** Children names; [] when the node does not exist. */
  async children(path: string, watch?: (e: WatchEvent) => void): Promise<string[]> {
    try {
      return await this.call<string[]>('getChildren', path, (cb) => {
        const done = (err: unknown, c: string[]): void => cb(err, c);
        if (watch) this.client.getChildren(path, (e) => watch(watchKind(e)), done);
        else this.client.getChildren(path, done);
      });
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return [];
      throw err;
    }
  }

  /** Deletes the node if its version is `version` (-1: any); resolves false when it did not exist. */
  async remove(path: string, version = -1): Promise<boolean> {
    try {
      await this.call<void>('delete', path, (cb) => this.client.remove(path, version, (err) => cb(err, undefined)));
      return true;
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return false;
      throw err;
    }
  }
}
