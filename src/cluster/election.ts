// Who runs one destination, decided as Canal decides it: every server able to run it keeps an
// ephemeral .../destinations/{d}/cluster/{ip:port} node, and the one that creates the ephemeral
// .../destinations/{d}/running node (Canal's JSON: active, address, cid) runs it. When `running`
// disappears, the server that held it last tries again at once; every other server waits the
// takeover delay first, so a short ZooKeeper hiccup of the active does not move the destination.
//
// This server is active only while its session's lease is valid and the node it created is still
// there (ephemeralOwner = its session). Anything else (lease lapsed, session over, node deleted or
// owned by another) makes it standby at once: `role` events tell the instance to stop serving.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { destinationClusterPath, destinationMemberPath, serverRunningPath } from '../coord/paths.ts';
import { formatServerRunning, parseServerRunning } from '../coord/running-data.ts';
import type { ZkSession } from '../coord/zk-session.ts';
import { createOwnEphemeral, type ClusterNode, type SessionListener } from './cluster-node.ts';

export type Role = 'active' | 'standby';

export interface ElectionEvents {
  role: [role: Role, reason: string];
}

export class DestinationElection extends EventEmitter<ElectionEvents> implements SessionListener {
  private session: ZkSession | undefined;
  private current: Role = 'standby';
  private active: string | null = null;
  /** address of the last holder of `running` this server saw */
  private lastHolder: string | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private again = false;
  private closed = false;

  constructor(
    readonly destination: string,
    private readonly node: ClusterNode,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>,
  ) {
    super();
  }

  get role(): Role {
    return this.current;
  }

  /** The server holding `running`, as last seen. */
  get activeServer(): string | null {
    return this.current === 'active' ? this.node.address : this.active;
  }

  /** True only while this server may serve: it holds `running` and its session's lease is valid. */
  mayServe(): boolean {
    const s = this.session;
    return this.current === 'active' && !this.closed && s !== undefined && s.leaseValid();
  }

  /** The session this server holds `running` on (while active). */
  get activeSession(): ZkSession | undefined {
    return this.current === 'active' ? this.session : undefined;
  }

  /** Joins: the node reports its sessions from now on. */
  start(): void {
    this.node.add(this);
  }

  // ---- SessionListener

  onSession(session: ZkSession): void {
    if (this.closed) return;
    this.session = session;
    void this.join(session);
  }

  onLeaseLost(): void {
    this.becomeStandby(this.active, 'ZooKeeper lease lapsed (no answer within two thirds of the session timeout)');
  }

  onLeaseOk(): void {
    this.recheck();
  }

  onSessionEnded(reason: string): void {
    this.session = undefined;
    this.clearDelay();
    this.becomeStandby(null, `ZooKeeper session over: ${reason}`);
  }

  // ---- election

  private async join(s: ZkSession): Promise<void> {
    try {
      await s.ensurePath(destinationClusterPath(this.destination));
      await createOwnEphemeral(s, destinationMemberPath(this.destination, this.node.address), Buffer.alloc(0));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not register under the destination cluster node; retrying');
      if (this.session === s && !s.expired && !this.closed) setTimeout(() => void this.join(s), 500).unref();
      return;
    }
    this.recheck();
  }

  /** Reads `running` again (coalesced: one read at a time, one more if asked meanwhile). */
  private recheck(create = false): void {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    void this.check(create)
      .catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'election step failed; retrying');
        const s = this.session;
        if (s !== undefined && !s.expired) setTimeout(() => this.recheck(), 500).unref();
      })
      .finally(() => {
        this.checking = false;
        if (this.again) {
          this.again = false;
          this.recheck();
        }
      });
  }

  private async check(create: boolean): Promise<void> {
    const s = this.session;
    if (s === undefined || s.expired || this.closed) return;
    if (!s.leaseValid()) return; // lease-ok will bring us back
    const path = serverRunningPath(this.destination);
    const node = await s.get(path, () => this.recheck());
    if (this.session !== s || this.closed) return;
    if (node === undefined) {
      // A read of a missing node sets no watch: watch for its creation instead.
      if ((await s.exists(path, () => this.recheck())) !== undefined) {
        this.recheck();
        return;
      }
      if (this.session !== s || this.closed) return;
      this.becomeStandby(null, 'running node gone');
      if (create || this.lastHolder === this.node.address) {
        await this.tryCreate(s, path);
        return;
      }
      if (this.delayTimer === undefined) {
        const delay = this.node.opts.takeoverDelayMs;
        this.log.info({ takeoverDelayMs: delay, lastHolder: this.lastHolder ?? null }, 'no server runs this destination; trying to take over after the delay');
        this.delayTimer = setTimeout(() => {
          this.delayTimer = undefined;
          this.recheck(true);
        }, delay);
        this.delayTimer.unref();
      }
      return;
    }
    this.clearDelay();
    let holder: string;
    try {
      holder = parseServerRunning(node.data, path).address;
    } catch (err) {
      this.becomeStandby(null, (err as Error).message);
      return;
    }
    this.lastHolder = holder;
    if (node.stat.ephemeralOwner === s.sessionId) {
      this.becomeActive(s, 'this server holds the running node');
      return;
    }
    if (holder === this.node.address) {
      // Left by an earlier session or process at this same address: nobody serves through it.
      this.log.info({ owner: node.stat.ephemeralOwner }, 'the running node names this server but belongs to an earlier session; replacing it');
      this.becomeStandby(null, 'stale running node of this server');
      await s.remove(path, node.stat.version).catch(() => undefined);
      this.recheck(true);
      return;
    }
    this.becomeStandby(holder, `${holder} holds the running node`);
  }

  private async tryCreate(s: ZkSession, path: string): Promise<void> {
    if (!s.leaseValid() || this.closed) return;
    const data = formatServerRunning({ active: true, address: this.node.address, cid: this.node.opts.cid });
    try {
      await s.create(path, data, 'ephemeral');
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'running node not created (another server was faster)');
    }
    this.recheck();
  }

  private clearDelay(): void {
    if (this.delayTimer !== undefined) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
  }

  private becomeActive(s: ZkSession, reason: string): void {
    this.active = this.node.address;
    if (this.current === 'active' || this.closed || !s.leaseValid()) return;
    this.current = 'active';
    this.log.info({ role: 'active', server: this.node.address, reason }, 'this server is now the active one for the destination');
    this.emit('role', 'active', reason);
  }

  private becomeStandby(active: string | null, reason: string): void {
    this.active = active;
    if (this.current === 'standby') return;
    this.current = 'standby';
    this.log.info({ role: 'standby', server: this.node.address, activeServer: active, reason }, 'this server stopped serving the destination');
    this.emit('role', 'standby', reason);
  }

  /**
   * Clean shutdown: stops contending and deletes `running` if this server holds it, so a standby
   * takes over after its delay instead of a session timeout. The caller stops the instance first
   * (so its last cursor is written while still active).
   */
  async release(): Promise<void> {
    if (this.closed) return;
    const s = this.session;
    const wasActive = this.current === 'active';
    this.closed = true;
    this.clearDelay();
    this.node.remove(this);
    this.becomeStandby(null, 'server stopping');
    if (s === undefined || s.expired) return;
    try {
      const path = serverRunningPath(this.destination);
      const node = await s.get(path);
      if (node !== undefined && node.stat.ephemeralOwner === s.sessionId) {
        await s.remove(path, node.stat.version);
        this.log.info({ released: wasActive }, 'running node released');
      }
      await s.remove(destinationMemberPath(this.destination, this.node.address)).catch(() => undefined);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not release the running node; standbys take over when the session ends');
    }
  }
}
