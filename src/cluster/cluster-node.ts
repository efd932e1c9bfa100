// This server's membership of a ZooKeeper cluster: one session at a time (a new one as soon as
// the last one is over), the server's ephemeral /otter/canal/cluster/{ip:port} node, and the
// per-destination elections that run on the session. The elections hear of every change of the
// session: a new one, a lapsed lease (stop serving now), a lease regained, the end of one.
import type { Logger } from 'pino';
import { SERVER_CLUSTER_ROOT, checkServerAddress, serverNodePath } from '../coord/paths.ts';
import { ZkError, ZkSession } from '../coord/zk-session.ts';
import type { HaStatus } from '../observe/destination-status.ts';

export interface ClusterNodeOptions {
  connect: string;
  sessionTimeoutMs: number;
  takeoverDelayMs: number;
  cid: number;
  connectTimeoutMs: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
}

/** What a destination's election needs to hear from the node. */
export interface SessionListener {
  /** a new session is established (the first, or one after the last was over) */
  onSession(session: ZkSession): void;
  /** the lease lapsed: the session may be gone, stop serving at once */
  onLeaseLost(): void;
  /** the lease is valid again on the same session */
  onLeaseOk(): void;
  /** the session is over; a new one follows */
  onSessionEnded(reason: string): void;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

export class ClusterNode {
  private addr: string | undefined;
  private session: ZkSession | undefined;
  private readonly listeners = new Set<SessionListener>();
  private state: HaStatus['zookeeper'] = 'connecting';
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private opening: Promise<void> | undefined;

  constructor(readonly opts: ClusterNodeOptions) {}

  /** ip:port clients reach this server at (known once start() is called) */
  get address(): string {
    if (this.addr === undefined) throw new Error('ClusterNode: address read before start()');
    return this.addr;
  }

  get zookeeperState(): HaStatus['zookeeper'] {
    return this.state;
  }

  get currentSession(): ZkSession | undefined {
    return this.session;
  }

  /** Adds a destination's election; it hears of the current session at once. */
  add(listener: SessionListener): void {
    this.listeners.add(listener);
    const s = this.session;
    if (s !== undefined && !s.expired) listener.onSession(s);
  }

  remove(listener: SessionListener): void {
    this.listeners.delete(listener);
  }

  /**
   * Registers this server at `address` (ip:port clients connect to) and opens the first session;
   * resolves after the first attempt, successful or not (later attempts run in the background).
   */
  async start(address: string): Promise<void> {
    this.addr = checkServerAddress(address);
    this.opening = this.open(0);
    await this.opening;
  }

  /** Ends the session (its ephemeral nodes go at once). Destinations release `running` before this. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    await this.opening;
    const s = this.session;
    this.session = undefined;
    if (s !== undefined) await s.close();
    this.state = 'expired';
  }

  private async open(attempt: number): Promise<void> {
    if (this.stopped) return;
    this.state = 'connecting';
    const o = this.opts;
    let s: ZkSession;
    try {
      s = await ZkSession.open({ connectString: o.connect, sessionTimeoutMs: o.sessionTimeoutMs, connectTimeoutMs: o.connectTimeoutMs });
    } catch (err) {
      const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
      o.logger.warn({ zookeeper: o.connect, err: (err as Error).message, retryInMs: wait }, 'ZooKeeper is unreachable; every destination stays standby until a session is established');
      this.retryTimer = setTimeout(() => {
        this.opening = this.open(attempt + 1);
      }, wait);
      this.retryTimer.unref();
      return;
    }
    if (this.stopped) {
      await s.close();
      return;
    }
    this.session = s;
    this.state = 'connected';
    o.logger.info({ zookeeper: o.connect, sessionId: s.sessionId, sessionTimeoutMs: s.sessionTimeoutMs, requestedMs: o.sessionTimeoutMs, server: this.address }, 'ZooKeeper session established');
    if (s.sessionTimeoutMs !== o.sessionTimeoutMs) {
      o.logger.warn({ requestedMs: o.sessionTimeoutMs, grantedMs: s.sessionTimeoutMs }, "ZooKeeper granted another session timeout than configured (its minSessionTimeout/maxSessionTimeout): failover times follow the granted one");
    }
    s.on('lease-lost', () => {
      if (this.session !== s) return;
      this.state = 'lease-lapsed';
      o.logger.warn({ sessionId: s.sessionId, sessionTimeoutMs: s.sessionTimeoutMs }, 'no answer from ZooKeeper within two thirds of the session timeout: the session may expire, so this server stops serving every destination');
      for (const l of this.listeners) l.onLeaseLost();
    });
    s.on('lease-ok', () => {
      if (this.session !== s) return;
      this.state = 'connected';
      o.logger.info({ sessionId: s.sessionId }, 'ZooKeeper answers again and the session survived');
      for (const l of this.listeners) l.onLeaseOk();
    });
    s.on('connection', (up) => {
      if (this.session !== s || !s.leaseValid()) return;
      this.state = up ? 'connected' : 'disconnected';
      o.logger.info({ sessionId: s.sessionId, connected: up }, up ? 'ZooKeeper connection re-established' : 'ZooKeeper connection lost; the session lives on while the lease holds');
    });
    s.on('expired', (reason) => {
      if (this.session !== s) return;
      this.session = undefined;
      this.state = 'expired';
      o.logger.warn({ sessionId: s.sessionId, reason }, 'ZooKeeper session over; opening a new one');
      for (const l of this.listeners) l.onSessionEnded(reason);
      this.opening = this.open(0);
    });
    try {
      await this.register(s);
    } catch (err) {
      o.logger.warn({ err: (err as Error).message }, 'could not register this server under /otter/canal/cluster; continuing');
    }
    for (const l of this.listeners) l.onSession(s);
  }

  /** /otter/canal/cluster/{ip:port}; a node left by an earlier session of this same address is replaced. */
  private async register(s: ZkSession): Promise<void> {
    await s.ensurePath(SERVER_CLUSTER_ROOT);
    await createOwnEphemeral(s, serverNodePath(this.address), Buffer.alloc(0));
  }
}

/**
 * Creates an ephemeral node for this session. If one exists for another session it was left by
 * this same address (an earlier session or process of this server): it is deleted and made again.
 */
export async function createOwnEphemeral(s: ZkSession, path: string, data: Buffer): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await s.create(path, data, 'ephemeral');
      return;
    } catch (err) {
      if (!(err instanceof ZkError) || err.code !== 'NODE_EXISTS') throw err;
    }
    const old = await s.exists(path);
    if (old === undefined) continue;
    if (old.ephemeralOwner === s.sessionId) return;
    await s.remove(path, old.version).catch(() => undefined);
  }
}
