// One destination: parser -> sink -> pump -> store, served to clients through a StoreDestination,
// with its cursors in a MetaStore. The Instance is what the server registers (it is a
// Destination) and what observability reads (it is an InstanceStatsSource). Its lifecycle state
// is the parser's, except that a fault retrying cannot fix stops it in `failed` until an operator
// acts: it never moves its position by itself.
import type { Logger } from 'pino';
import type { InstanceConfig } from '../config/types.ts';
import { slaveIdFor } from '../config/build.ts';
import { EventParser, type EventParserOptions, type ParserState } from '../parser/event-parser.ts';
import { SourceFailover, type ReadingSource } from '../parser/source-failover.ts';
import { FAILOVER_DEFAULTS } from '../config/failover-defaults.ts';
import { EventSink } from '../sink/event-sink.ts';
import { Pump } from '../sink/pump.ts';
import { EventStore } from '../store/event-store.ts';
import type { StoreItem } from '../store/store-item.ts';
import { StoreDestination } from '../server/store-destination.ts';
import {
  DestinationError,
  type Destination,
  type DestinationBatch,
  type DestinationStateName,
  type DestinationStatus,
  type Subscriber,
} from '../server/destination.ts';
import type { InstanceStats, InstanceStatsSource } from '../observe/instance-stats.ts';
import { MetaStore } from '../meta/meta-store.ts';
import type { MetaBackend } from '../meta/meta-backend.ts';
import { InstanceLock } from '../meta/instance-lock.ts';
import { describeCursor } from '../meta/cursor-order.ts';
import { chooseStart, startOnMaster, type ResolvedStart } from './start-position.ts';
import { StatementFormatWatch } from '../parser/statement-format.ts';

export interface InstanceOptions {
  config: InstanceConfig;
  /** the server's data folder; this instance keeps <dataDir>/<destination>/meta.dat and sluice.pid */
  dataDir: string;
  /** minimum ms between two cursor writes (Canal's canal.file.flush.period) */
  flushIntervalMs: number;
  logger?: Logger;
  /** where cursors live besides meta.dat (ZooKeeper in a cluster); see src/meta/meta-backend.ts */
  metaBackend?: MetaBackend;
  /** parser settings beyond the config file, for embedding and tests */
  parser?: Pick<EventParserOptions, 'preflight' | 'maxBuffered'>;
}

interface Running {
  lock: InstanceLock;
  meta: MetaStore;
  store: EventStore;
  pump: Pump;
  destination: StoreDestination<StoreItem>;
  parser: EventParser | SourceFailover;
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

export class Instance implements Destination, InstanceStatsSource {
  readonly name: string;
  readonly destination: string;
  private readonly opts: InstanceOptions;
  private readonly log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  private state: DestinationStateName = 'stopped';
  private lastError: string | undefined;
  private run: Running | undefined;
  /** resolves when the current teardown (stop or failure) is complete */
  private teardown: Promise<void> | undefined;
  private startedFrom: ResolvedStart | undefined;
  /** the last run's parser, so a failed instance still says which server it read */
  private lastParser: EventParser | SourceFailover | undefined;
  private counters = { errors: 0, batches: 0, acks: 0, rollbacks: 0, switches: 0 };
  private readonly statements: StatementFormatWatch;

  constructor(opts: InstanceOptions) {
    this.opts = opts;
    this.name = opts.config.destination;
    this.destination = opts.config.destination;
    this.log = opts.logger ?? silent;
    this.statements = new StatementFormatWatch(this.log);
  }

  /**
   * Loads the cursor, takes the data folder's pid file and starts the parser. Resolves once the
   * stream runs or the instance has failed: a failure is a state (see status()), not an
   * exception, so one broken source never stops the others.
   */
  async start(): Promise<void> {
    if (this.state !== 'stopped' && this.state !== 'failed') throw new Error(`instance ${this.name} is already ${this.state}`);
    await this.teardown;
    this.teardown = undefined;
    this.setState('starting');
    this.lastError = undefined;
    const cfg = this.opts.config;
    let lock: InstanceLock | undefined;
    let meta: MetaStore | undefined;
    try {
      lock = await InstanceLock.acquire(this.opts.dataDir, this.name);
      meta = await MetaStore.open({
        dataDir: this.opts.dataDir,
        destination: this.name,
        flushIntervalMs: this.opts.flushIntervalMs,
        source: { address: cfg.source.host, port: cfg.source.port },
        logger: this.log,
        ...(this.opts.metaBackend !== undefined ? { backend: this.opts.metaBackend } : {}),
      });
    } catch (err) {
      await lock?.release();
      this.fail(err);
      await this.teardown;
      return;
    }
    const choice = chooseStart(meta.resumeCursor(), meta.pendingStart(), cfg.start);
    this.startedFrom = choice.start;
    this.log.info({ start: choice.start, metaFile: meta.path }, choice.reason);
    // A cursor taken while a standby was read holds the standby's file and offset: the master
    // resumes from its GTID (or time) instead.
    const onMaster = startOnMaster(choice.start, meta.resumeCursorSource(), cfg.standby, cfg.failover?.fallbackMs ?? FAILOVER_DEFAULTS.fallbackMs);
    if (onMaster.reason !== undefined) this.log.warn({ start: onMaster.start }, onMaster.reason);
    meta.setReading({ role: 'master', address: cfg.source.host, port: cfg.source.port });

    const store = new EventStore(cfg.store);
    const sink = new EventSink({
      include: cfg.filter.include,
      exclude: cfg.filter.exclude,
      includeColumns: cfg.filter.includeFields,
      excludeColumns: cfg.filter.excludeFields,
      drop: cfg.drop,
      keys: {
        include: `${cfg.file}: filter.include`,
        exclude: `${cfg.file}: filter.exclude`,
        includeColumns: `${cfg.file}: filter.includeFields`,
        excludeColumns: `${cfg.file}: filter.excludeFields`,
      },
    });
    const pump = new Pump(sink, store);
    const m = meta;
    const destination = new StoreDestination<StoreItem>({
      name: this.name,
      store,
      status: () => this.status(),
      subscriptions: meta.clientList(),
      narrow: (filter) => sink.narrow(filter).accept,
      onSubscribe: (clientId, filter) => m.subscribe(clientId, filter),
      onUnsubscribe: (clientId) => m.unsubscribe(clientId),
      onAck: (clientId, cursor) => m.setCursor(clientId, cursor),
      logger: this.log,
    });
    const parserOpts = {
      slaveId: slaveIdFor(cfg),
      ...(cfg.timezone !== undefined ? { timezone: cfg.timezone } : {}),
      heartbeatMs: cfg.heartbeatMs,
      backoff: { initialMs: cfg.retry.initialMs, maxMs: cfg.retry.maxMs },
      destination: this.name,
      onStatementDml: (schema: string, table: string, at: { file: string; offset: number }) => this.statements.note(schema, table, at),
      ...this.opts.parser,
    };
    const parser =
      cfg.standby === undefined
        ? new EventParser({
            host: cfg.source.host,
            port: cfg.source.port,
            user: cfg.source.user,
            password: cfg.source.password,
            start: onMaster.start,
            connectTimeoutMs: cfg.source.connectTimeoutMs,
            logger: this.log,
            ...parserOpts,
          })
        : new SourceFailover({
            master: cfg.source,
            standby: cfg.standby,
            failover: cfg.failover ?? FAILOVER_DEFAULTS,
            start: onMaster.start,
            parser: parserOpts,
            logger: this.log,
            onSwitch: (r) => this.onSwitch(m, r),
          });
    const run: Running = { lock, meta, store, pump, destination, parser };
    this.run = run;
    this.lastParser = parser;
    pump.on('error', (err) => this.fail(err));
    parser.on('state', (s: ParserState) => this.onParserState(run, s));
    parser.on('error', (err: Error & { fatal?: boolean }) => this.onParserError(run, err));
    pump.addSource(parser, 'parser');
    try {
      await parser.start();
    } catch (err) {
      this.fail(err);
      await this.teardown;
      return;
    }
    // "The end" moves on: a restart before the first ack must begin where this start began,
    // or what was handed out but never acknowledged would be skipped.
    const began = parser.startPoint();
    if (onMaster.start.kind === 'end' && began !== undefined && this.run === run) {
      meta.keepStart({ kind: 'position', file: began.file, offset: began.offset });
    }
  }

  /** Stops the parser, writes the cursors and releases the data folder. */
  async stop(): Promise<void> {
    if (this.run === undefined) {
      await this.teardown;
      if (this.state !== 'failed') this.setState('stopped');
      return;
    }
    this.setState('stopped');
    await this.shutDown('instance stopped');
    this.log.info({}, 'instance stopped; cursors written');
  }

  status(): DestinationStatus {
    return this.lastError !== undefined && (this.state === 'failed' || this.state === 'retrying') ? { state: this.state, error: this.lastError } : { state: this.state };
  }

  /** Why the instance serves but not as it should (row changes arriving as statements); undefined when all is well. */
  degraded(): string | undefined {
    return this.statements.degraded();
  }

  /**
   * The server the instance reads, for instances with a standby: the master until the standby
   * takes over, then the standby until a restart. Undefined without a standby.
   */
  reading(): ReadingSource | undefined {
    const p = this.run?.parser ?? this.lastParser;
    return p instanceof SourceFailover ? p.reading() : undefined;
  }

  /** Where the current (or last) run began: a cursor, a reset request, the configured start or the end. */
  startPosition(): ResolvedStart | undefined {
    return this.startedFrom;
  }

  stats(): InstanceStats {
    const r = this.run;
    const p = r?.parser.stats();
    const st = r?.store.stats();
    const out: InstanceStats = {
      state: this.state,
      events: p?.events ?? 0,
      rows: p?.rows ?? 0,
      bytes: p?.bytes ?? 0,
      reconnects: p?.reconnects ?? 0,
      errors: this.counters.errors,
      batches: this.counters.batches,
      acks: this.counters.acks,
      rollbacks: this.counters.rollbacks,
      store: { entries: st?.entries ?? 0, bytes: st?.bytes ?? 0, maxEntries: this.opts.config.store.maxEntries, maxBytes: this.opts.config.store.maxBytes },
      outstandingBatches: st?.outstandingBatches ?? 0,
      clients: r?.destination.currentHolder() !== undefined ? 1 : 0,
      statementDml: this.statements.stats().count,
    };
    if (this.lastError !== undefined) out.error = this.lastError;
    const src = this.reading();
    if (src !== undefined) {
      out.source = src;
      out.sourceSwitches = this.counters.switches;
    }
    if (p !== undefined) {
      out.file = p.file;
      out.offset = p.offset;
      out.gtid = p.gtidSet;
      if (p.lastEventTimestamp > 0) out.lastEventTimestamp = p.lastEventTimestamp;
    }
    return out;
  }

  // ---- Destination: what the server's sessions call; delegated to the running StoreDestination.

  subscribe(sub: Subscriber, filter: string): void {
    this.served().subscribe(sub, filter);
  }

  unsubscribe(sub: Subscriber): void {
    this.served().unsubscribe(sub);
  }

  isSubscribed(clientId: string): boolean {
    return this.run?.destination.isSubscribed(clientId) ?? false;
  }

  async get(sub: Subscriber, fetchSize: number, timeoutMs: number, signal: AbortSignal): Promise<DestinationBatch> {
    const batch = await this.served().get(sub, fetchSize, timeoutMs, signal);
    if (batch.batchId !== -1) this.counters.batches++;
    return batch;
  }

  ack(sub: Subscriber, batchId: number): void {
    this.served().ack(sub, batchId);
    if (batchId !== -1) this.counters.acks++;
  }

  rollback(sub: Subscriber, batchId: number): void {
    const d = this.run?.destination;
    // Canal clients send rollback(0) on connect; with nothing running there is nothing to rewind.
    if (d === undefined) return;
    d.rollback(sub, batchId);
    if (d.isSubscribed(sub.clientId)) this.counters.rollbacks++;
  }

  release(sub: Subscriber): void {
    this.run?.destination.release(sub);
  }

  private served(): StoreDestination<StoreItem> {
    const d = this.run?.destination;
    if (d === undefined) {
      const why = this.lastError !== undefined ? ` (${this.lastError})` : '';
      throw new DestinationError(`destination:${this.name} is ${this.state}${why}; it serves clients only while running`);
    }
    return d;
  }

  // ---- lifecycle

  private setState(s: DestinationStateName): void {
    if (this.state === s) return;
    const from = this.state;
    this.state = s;
    if (s === 'retrying') this.log.warn({ from, to: s, error: this.lastError }, 'instance retrying: source connection lost');
    else if (s !== 'failed') this.log.info({ from, to: s }, `instance ${s}`);
  }

  /** The standby took over: later cursors belong to it, and meta.dat says so at once. */
  private onSwitch(meta: MetaStore, r: ReadingSource): void {
    this.counters.switches++;
    meta.setReading({ role: r.role, address: r.address, port: r.port, ...(r.since !== undefined ? { since: r.since } : {}), ...(r.switchedFrom !== undefined ? { switchedFrom: r.switchedFrom } : {}) });
  }

  private onParserState(run: Running, s: ParserState): void {
    if (run !== this.run) return;
    if (s === 'running') {
      this.lastError = undefined;
      this.setState('running');
    } else if (s === 'retrying') {
      this.setState('retrying');
    } else if (s === 'connecting') {
      this.setState('starting');
    }
    // 'failed' arrives with its error (onParserError); 'stopped' only follows our own stop.
  }

  private onParserError(run: Running, err: Error & { fatal?: boolean }): void {
    if (run !== this.run) return;
    this.counters.errors++;
    if (err.fatal === true) {
      this.fail(err);
      return;
    }
    // The parser logs each reconnect attempt itself; keep the reason for status().
    this.lastError = err.message;
  }

  /**
   * A fault retrying cannot fix: state `failed`, the error in logs and status, the cursors
   * written and the pid file released, so `sluice positions reset` can be run on this
   * destination while the rest of the process keeps serving.
   */
  private fail(err: unknown): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    const e = err instanceof Error ? err : new Error(String(err));
    const cursor = this.startedFrom?.kind === 'cursor' ? ` (resuming after cursor ${describeCursor(this.startedFrom.cursor)})` : '';
    this.lastError = e.message;
    this.counters.errors++;
    this.state = 'failed';
    this.log.error({ err: e, start: this.startedFrom }, `instance failed${cursor}: ${e.message}`);
    if (this.run !== undefined) this.teardown = this.shutDown(`instance failed: ${e.message}`);
  }

  private async shutDown(reason: string): Promise<void> {
    const r = this.run;
    this.run = undefined;
    if (r === undefined) return;
    r.pump.close();
    await r.parser.stop().catch((err: unknown) => this.log.warn({ err }, 'parser did not stop cleanly'));
    r.store.close(reason);
    try {
      await r.meta.close();
    } catch (err) {
      this.log.error({ err, file: r.meta.path }, 'the cursor file could not be written at shutdown: the next start repeats entries since the last write');
    }
    await r.lock.release();
  }
}
