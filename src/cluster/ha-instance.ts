// One destination in a ZooKeeper cluster: what the server registers instead of a plain Instance.
// While this server is elected it runs an Instance whose cursors live in ZooKeeper; otherwise it
// runs nothing (no binlog connection, no store) and refuses clients with an error naming the
// active server. Losing the election fences at once: the client connections of the destination
// are closed and every call is refused before the instance has even finished stopping.
import type { ReadingSource } from '../parser/source-failover.ts';
import type { Logger } from 'pino';
import type { InstanceConfig } from '../config/types.ts';
import { notActiveMessage } from '../coord/refusal.ts';
import { Instance, type InstanceOptions, type SnapshotControl } from '../instance/instance.ts';
import { ZkMetaBackend } from '../meta/zk-meta-backend.ts';
import type { InstanceStats, InstanceStatsSource } from '../observe/instance-stats.ts';
import {
  DestinationError,
  type Destination,
  type DestinationBatch,
  type DestinationStatus,
  type HaStatus,
  type Subscriber,
} from '../instance/destination.ts';
import type { ClusterNode } from './cluster-node.ts';
import { DestinationElection, type Role } from './election.ts';

export interface HaInstanceOptions {
  config: InstanceConfig;
  dataDir: string;
  flushIntervalMs: number;
  /** default 'exact' (see MetaStore) */
  cursorDurability?: InstanceOptions['cursorDurability'];
  node: ClusterNode;
  logger: Logger;
  /** closes the client connections of a destination (the Canal server's closeSessionsOf) */
  closeClients: (destination: string, reason: string) => void;
  parser?: InstanceOptions['parser'];
}

export class HaInstance implements Destination, InstanceStatsSource {
  readonly name: string;
  readonly destination: string;
  private readonly election: DestinationElection;
  private instance: Instance | undefined;
  /** serialises starting and stopping instances */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: HaInstanceOptions) {
    this.name = opts.config.destination;
    this.destination = opts.config.destination;
    this.election = new DestinationElection(this.name, opts.node, opts.logger);
    this.election.on('role', (role, reason) => this.onRole(role, reason));
  }

  /** Joins the election; resolves at once (the role follows). */
  async start(): Promise<void> {
    this.stopped = false;
    this.election.start();
  }

  /** Stops the instance (its last cursor written while still active), then releases `running`. */
  async stop(): Promise<void> {
    this.stopped = true;
    const inst = this.instance;
    if (inst !== undefined) {
      this.chain = this.chain.then(() => inst.stop());
    }
    await this.chain;
    this.instance = undefined;
    await this.election.release();
  }

  private onRole(role: Role, reason: string): void {
    if (role === 'standby') {
      const inst = this.instance;
      this.instance = undefined;
      if (inst === undefined) return;
      this.opts.closeClients(this.name, `no longer the active server: ${reason}`);
      this.chain = this.chain.then(async () => {
        await inst.stop();
        this.opts.logger.info({ reason }, 'instance stopped: this server is standby for the destination');
      });
      return;
    }
    if (this.stopped) return;
    const session = this.election.activeSession;
    if (session === undefined) return;
    this.chain = this.chain.then(async () => {
      if (!this.election.mayServe() || this.instance !== undefined || this.stopped) return;
      const backend = new ZkMetaBackend({
        session,
        destination: this.name,
        source: { address: this.opts.config.source.host, port: this.opts.config.source.port },
        mayWrite: () => this.election.mayServe() && this.election.activeSession === session,
        onDeposed: (why) => this.opts.logger.warn({ reason: why }, 'deposed: ZooKeeper shows another server active'),
        logger: this.opts.logger,
      });
      const inst = new Instance({
        config: this.opts.config,
        dataDir: this.opts.dataDir,
        flushIntervalMs: this.opts.flushIntervalMs,
        ...(this.opts.cursorDurability !== undefined ? { cursorDurability: this.opts.cursorDurability } : {}),
        logger: this.opts.logger,
        metaBackend: backend,
        ...(this.opts.parser !== undefined ? { parser: this.opts.parser } : {}),
      });
      this.instance = inst;
      this.opts.logger.info({ reason }, 'starting the instance: this server is active for the destination');
      await inst.start();
      // Deposed while starting: the role event found no instance yet; stop it here.
      if (this.instance !== inst || !this.election.mayServe()) {
        if (this.instance === inst) this.instance = undefined;
        this.opts.closeClients(this.name, 'no longer the active server');
        await inst.stop();
      }
    });
  }

  private haStatus(): HaStatus {
    return {
      role: this.election.mayServe() ? 'active' : 'standby',
      server: this.opts.node.address,
      activeServer: this.election.activeServer,
      zookeeper: this.opts.node.zookeeperState,
    };
  }

  status(): DestinationStatus {
    const inst = this.instance;
    const ha = this.haStatus();
    if (inst === undefined || ha.role === 'standby') return { state: this.stopped ? 'stopped' : 'standby', ha };
    return { ...inst.status(), ha };
  }

  /** The running instance's snapshots while this server is active (docs/snapshots.md); undefined on standby. */
  snapshots(): SnapshotControl | undefined {
    return this.election.mayServe() ? this.instance?.snapshots() : undefined;
  }

  /** What the running instance reports an operator must fix (nothing while standby). */
  degraded(): string | undefined {
    return this.election.mayServe() ? this.instance?.degraded() : undefined;
  }

  /** The server the running instance reads, when it has a standby source (src/parser/source-failover.ts). */
  reading(): ReadingSource | undefined {
    return this.instance?.reading();
  }

  stats(): InstanceStats {
    const inst = this.instance;
    const ha = this.haStatus();
    if (inst !== undefined && ha.role === 'active') return { ...inst.stats(), ha };
    const c = this.opts.config.store;
    return {
      state: this.stopped ? 'stopped' : 'standby',
      events: 0,
      rows: 0,
      bytes: 0,
      reconnects: 0,
      errors: 0,
      batches: 0,
      acks: 0,
      rollbacks: 0,
      store: { entries: 0, bytes: 0, maxEntries: c.maxEntries, maxBytes: c.maxBytes },
      outstandingBatches: 0,
      clients: 0,
      ha,
    };
  }

  // ---- Destination: served only while this server holds the destination.

  private served(): Instance {
    const inst = this.instance;
    if (inst === undefined || !this.election.mayServe()) {
      const active = this.election.activeServer;
      const other = active !== null && active !== this.opts.node.address ? active : undefined;
      throw new DestinationError(notActiveMessage(this.name, this.stopped ? 'stopping' : 'standby', other));
    }
    return inst;
  }

  subscribe(sub: Subscriber, filter: string): void {
    this.served().subscribe(sub, filter);
  }

  unsubscribe(sub: Subscriber): void {
    this.served().unsubscribe(sub);
  }

  isSubscribed(clientId: string): boolean {
    return this.instance?.isSubscribed(clientId) ?? false;
  }

  async get(sub: Subscriber, fetchSize: number, timeoutMs: number, signal: AbortSignal): Promise<DestinationBatch> {
    const inst = this.served();
    const batch = await inst.get(sub, fetchSize, timeoutMs, signal);
    // Fenced while waiting: what the store handed out is not this server's to give any more.
    if (this.instance !== inst || !this.election.mayServe()) this.served();
    return batch;
  }

  ack(sub: Subscriber, batchId: number): void {
    this.served().ack(sub, batchId);
  }

  rollback(sub: Subscriber, batchId: number): void {
    // Canal clients send rollback on connect without reading a reply: a standby stays silent, and
    // the subscribe that follows carries the refusal.
    const inst = this.instance;
    if (inst === undefined || !this.election.mayServe()) return;
    inst.rollback(sub, batchId);
  }

  release(sub: Subscriber): void {
    this.instance?.release(sub);
  }

  async durable(): Promise<void> {
    await this.instance?.durable();
  }
}
