// One destination: parser -> sink -> pump -> store, served to clients through a StoreDestination,
// with its cursors in a MetaStore. The Instance is what the server registers (it is a
// Destination) and what observability reads (it is an InstanceStatsSource). Its lifecycle state
// is the parser's, except that a fault retrying cannot fix stops it in `failed` until an operator
// acts: it never moves its position by itself.
import type { Logger } from 'pino';
import type { InstanceConfig, SourceConfig, StartRequest } from '../config/types.ts';
import { derivedSlaveId, groupSlaveIdFor, slaveIdFor } from '../config/build.ts';
import { EventParser, type EventParserOptions, type ParserState, type StartFrom } from '../parser/event-parser.ts';
import { SourceFailover, type ReadingSource } from '../parser/source-failover.ts';
import { FAILOVER_DEFAULTS } from '../config/failover-defaults.ts';
import { EventSink } from '../sink/event-sink.ts';
import { Pump, type EntrySource } from '../sink/pump.ts';
import { sharedReaders } from '../fanout/registry.ts';
import type { ParserLike } from '../fanout/shared-reader.ts';
import { groupCursor } from '../meta/group-cursor.ts';
import { GroupAcks } from './group-acks.ts';
import { EventStore } from '../store/event-store.ts';
import type { StoreItem } from '../store/store-item.ts';
import { StoreDestination } from './store-destination.ts';
import {
  DestinationError,
  type Destination,
  type DestinationBatch,
  type DestinationStateName,
  type DestinationStatus,
  type Subscriber,
} from './destination.ts';
import type { InstanceStats, InstanceStatsSource } from '../observe/instance-stats.ts';
import { MetaStore } from '../meta/meta-store.ts';
import type { MetaBackend } from '../meta/meta-backend.ts';
import { cursorWriteProblem } from '../meta/write-health.ts';
import { assertDataDirWritable } from '../meta/data-dir.ts';
import { InstanceLock } from '../meta/instance-lock.ts';
import { describeCursor } from '../meta/cursor-order.ts';
import { chooseStart, startOnMaster, type ResolvedStart } from './start-position.ts';
import { StatementFormatWatch } from '../parser/statement-format.ts';
import { ParserError } from '../parser/errors.ts';
import { SnapshotManager, type SnapshotRequest, type SnapshotStatus } from '../snapshot/snapshot-manager.ts';
import { SnapshotSet } from '../snapshot/snapshot-set.ts';
import { SnapshotRefused } from '../snapshot/table-shape.ts';
import type { StreamSource } from '../snapshot/snapshot-feed.ts';
import { DEFAULT_WATERMARK_TABLE, WatermarkTable } from '../snapshot/watermark-table.ts';
import { EntryType, EventType, type LogPosition } from '../protocol/entry-model.ts';

export interface InstanceOptions {
  config: InstanceConfig;
  /** the server's data folder; this instance keeps <dataDir>/<destination>/meta.dat and sluice.pid */
  dataDir: string;
  /** minimum ms between two cursor writes (Canal's canal.file.flush.period) */
  flushIntervalMs: number;
  /** default 'exact' (see MetaStore) */
  cursorDurability?: 'exact' | 'periodic';
  logger?: Logger;
  /** where cursors live besides meta.dat (ZooKeeper in a cluster); see src/meta/meta-backend.ts */
  metaBackend?: MetaBackend;
  /** parser settings beyond the config file, for embedding and tests */
  parser?: Pick<EventParserOptions, 'preflight' | 'maxBuffered'>;
  /** false: never share a reader with other destinations, whatever the config says (tests, benchmarks) */
  shareReader?: boolean;
}

/** One source of the running instance: a parser of its own, or a tap on a shared reader. */
interface SourceRun {
  name: string;
  reader: ParserLike;
  /** what the pump reads: the reader, or the snapshot feed wrapping it */
  input: EntrySource;
  state: ParserState;
  error: string | undefined;
  /** where this source began (for groups: kept per source before its first ack) */
  start: ResolvedStart;
}

interface Running {
  lock: InstanceLock;
  meta: MetaStore;
  store: EventStore;
  pump: Pump;
  destination: StoreDestination<StoreItem>;
  /** the source, or a group's sources in configured order (the first is the primary) */
  sources: SourceRun[];
  /** group destinations: the per-source acknowledged positions */
  acks: GroupAcks | undefined;
  /** the destination's snapshots, one manager per source (docs/snapshots.md) */
  snapshots: SnapshotSet | undefined;
}

/** What the admin port asks of an instance's snapshots. */
export interface SnapshotControl {
  /** one status per source the snapshot was accepted on (one for a single-source destination) */
  request(req: SnapshotRequest): Promise<SnapshotStatus[]>;
  stop(table?: string): SnapshotStatus[];
  list(): SnapshotStatus[];
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** A group's snapshot of one table in stats: the state of its least advanced source. */
const STATE_ORDER: SnapshotStatus['state'][] = ['failed', 'queued', 'running', 'finishing', 'stopped', 'done'];

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
  private lastParser: ParserLike | undefined;
  private counters = { errors: 0, batches: 0, acks: 0, rollbacks: 0, switches: 0, cursorWriteErrors: 0 };
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
      await assertDataDirWritable(this.opts.dataDir, this.name);
      lock = await InstanceLock.acquire(this.opts.dataDir, this.name);
      meta = await MetaStore.open({
        dataDir: this.opts.dataDir,
        destination: this.name,
        flushIntervalMs: this.opts.flushIntervalMs,
        durability: this.opts.cursorDurability ?? 'exact',
        source: { address: cfg.source.host, port: cfg.source.port },
        logger: this.log,
        ...(this.opts.metaBackend !== undefined ? { backend: this.opts.metaBackend } : {}),
        onWriteFailed: () => this.counters.cursorWriteErrors++,
      });
    } catch (err) {
      await lock?.release();
      this.fail(err);
      await this.teardown;
      return;
    }
    const group = cfg.sources !== undefined && cfg.sources.length > 1 ? cfg.sources : undefined;
    const names = group?.map((g) => g.name) ?? ['parser'];
    let starts: { name: string; start: ResolvedStart; reason: string }[];
    // group destinations: the per-source parts this start resumed from (kept until each source's first ack)
    let resumedParts = new Map<string, LogPosition>();
    if (group === undefined) {
      const choice = chooseStart(meta.resumeCursor(), meta.pendingStart(), cfg.start);
      this.log.info({ start: choice.start, metaFile: meta.path }, choice.reason);
      // A cursor taken while a standby was read holds the standby's file and offset: the master
      // resumes from its GTID (or time) instead.
      const onMaster = startOnMaster(choice.start, meta.resumeCursorSource(), cfg.standby, cfg.failover?.fallbackMs ?? FAILOVER_DEFAULTS.fallbackMs);
      if (onMaster.reason !== undefined) this.log.warn({ start: onMaster.start }, onMaster.reason);
      meta.setReading({ role: 'master', address: cfg.source.host, port: cfg.source.port });
      starts = [{ name: 'parser', start: onMaster.start, reason: choice.reason }];
      this.startedFrom = choice.start;
    } else {
      const parts = meta.resumeSourceCursors(names);
      resumedParts = parts;
      starts = group.map((g) => {
        const choice = chooseStart(parts.get(g.name), meta!.pendingSourceStart(g.name), g.start);
        return { name: g.name, start: choice.start, reason: `source ${g.name}: ${choice.reason}` };
      });
      this.startedFrom = starts[0]!.start;
      for (const st of starts) this.log.info({ source: st.name, start: st.start, metaFile: meta.path }, st.reason);
    }

    const store = new EventStore(cfg.store);
    const sink = new EventSink({
      include: cfg.filter.include,
      exclude: cfg.filter.exclude,
      includeColumns: cfg.filter.includeFields,
      excludeColumns: cfg.filter.excludeFields,
      rows: cfg.filter.rows ?? [],
      onWarning: (msg) => this.log.warn({}, msg),
      drop: cfg.drop,
      // sluice's watermark writes never reach clients, whichever destination made them
      hidden: [...new Set([cfg.snapshot?.watermarkTable ?? DEFAULT_WATERMARK_TABLE, DEFAULT_WATERMARK_TABLE])],
      keys: {
        include: `${cfg.file}: filter.include`,
        exclude: `${cfg.file}: filter.exclude`,
        includeColumns: `${cfg.file}: filter.includeFields`,
        excludeColumns: `${cfg.file}: filter.excludeFields`,
        rows: `${cfg.file}: filter.rows`,
      },
    });
    const acks = group === undefined ? undefined : new GroupAcks(store);
    const pump = new Pump(sink, store, acks === undefined ? {} : { skewMs: cfg.group!.skewMs, onStored: acks.stored });
    const m = meta;
    const destination = new StoreDestination<StoreItem>({
      name: this.name,
      store: acks?.batchStore() ?? store,
      status: () => this.status(),
      subscriptions: meta.clientList(),
      narrow: (filter) => sink.narrow(filter).accept,
      onSubscribe: (clientId, filter) => m.subscribe(clientId, filter),
      onUnsubscribe: (clientId) => m.unsubscribe(clientId),
      onAck:
        acks === undefined
          ? (clientId, cursor, position) => {
              // The snapshot progress this ack confirms goes into the same write as the cursor.
              if (snapshots?.onAck(() => position) === true) m.setSnapshots(snapshots.records(), false);
              m.setCursor(clientId, cursor);
            }
          : (clientId) => {
              const acked = acks.positions();
              if (snapshots?.onAck((source) => acked.get(source!)) === true) m.setSnapshots(snapshots.records(), false);
              const c = groupCursor(names, acked, resumedParts);
              if (c !== undefined) m.setCursor(clientId, c);
            },
      durable: () => m.durable(),
      logger: this.log,
    });
    const sources: SourceRun[] = starts.map((st, k) => {
      const src: SourceConfig = group?.[k] ?? cfg.source;
      const slaveId = group === undefined ? slaveIdFor(cfg) : groupSlaveIdFor(this.name, group[k]!);
      const reader = this.makeReader(src, slaveId, st.start, group === undefined ? this.name : `${this.name}/${st.name}`, m);
      return { name: st.name, reader, input: reader, state: 'stopped', error: undefined, start: st.start };
    });
    // Snapshots need each stream's reader to say where it stands when idle (an own parser, a
    // shared reader's tap, or a standby pair); a group has one snapshot manager per source.
    const readers = sources.map((src) => src.reader as Partial<StreamSource> & ParserLike);
    const first = readers[0]!;
    const refusal = (schema: string, table: string): string | undefined => {
      if (!sink.passes({ entryType: EntryType.ROWDATA, eventType: EventType.INSERT, isDdl: false, schema, table })) {
        return `table ${schema}.${table} is not delivered by destination ${this.name}: its filter (${cfg.file}: filter.include / filter.exclude) leaves it out`;
      }
      if (cfg.drop.insert || cfg.drop.rows) return `destination ${this.name} drops INSERT entries (${cfg.file}: drop.${cfg.drop.rows ? 'rows' : 'insert'}), and snapshot rows are INSERT entries`;
      return undefined;
    };
    let snapshots: SnapshotSet | undefined;
    if (readers.every((r) => typeof r.handedThrough === 'function')) {
      const members = readers.map((reader, k) => ({
        source: group?.[k]!.name,
        manager: new SnapshotManager({
          destination: this.name,
          ...(group !== undefined ? { sourceName: group[k]!.name } : {}),
          // the server the stream reads now: after a failover, the standby
          source:
            group !== undefined
              ? () => group[k]!
              : () => (reader instanceof SourceFailover && reader.reading().role === 'standby' && cfg.standby !== undefined ? cfg.standby : cfg.source),
          stream: reader as unknown as StreamSource,
          timezone: cfg.timezone ?? 'SYSTEM',
          chunkSize: cfg.snapshot?.chunkSize ?? 4096,
          refusal,
          // every source's records go into one write
          persist: (_records, now) => m.setSnapshots(snapshots!.records(), now),
          logger: this.log,
          ...(cfg.snapshot?.watermark === 'table' ? { watermarks: new WatermarkTable(cfg.snapshot.watermarkTable ?? DEFAULT_WATERMARK_TABLE, this.name) } : {}),
        }),
      }));
      snapshots = new SnapshotSet(this.name, members);
    }
    const set = snapshots;
    if (first instanceof SourceFailover) first.on('switch', () => set?.managers()[0]!.sourceSwitched());
    for (const src of sources) src.input = set?.feedOf(group === undefined ? undefined : src.name) ?? src.reader;
    const run: Running = { lock, meta, store, pump, destination, sources, acks, snapshots };
    this.run = run;
    this.lastParser = sources[0]!.reader;
    pump.on('error', (err) => this.fail(err));
    if (snapshots !== undefined) {
      // The watermark table is checked before anything is read: a source that refuses its writes stops the start.
      try {
        await snapshots.prepare();
      } catch (err) {
        this.fail(err);
        await this.teardown;
        return;
      }
    }
    for (const src of sources) {
      src.reader.on('state', (s: ParserState) => this.onSourceState(run, src, s));
      src.reader.on('error', (err: Error & { fatal?: boolean }) => this.onSourceError(run, src, err));
      pump.addSource(src.input, src.name, { tag: group !== undefined });
    }
    const started = await Promise.allSettled(sources.map((src) => this.startSource(run, src)));
    if (this.run !== run) {
      await this.teardown;
      return;
    }
    const failures = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length === sources.length) {
      this.fail(failures[0]!.reason);
      await this.teardown;
      return;
    }
    if (snapshots !== undefined) await this.startSnapshots(snapshots, meta);
  }

  /** Resumes persisted snapshots and, on a first start, queues the configured tables. */
  private async startSnapshots(snapshots: SnapshotSet, meta: MetaStore): Promise<void> {
    const saved = meta.snapshots();
    if (saved !== undefined) snapshots.restore(saved);
    if (saved === undefined && meta.resumeCursor() === undefined) {
      for (const table of this.opts.config.snapshot?.firstStart ?? []) {
        try {
          await snapshots.request({ table }, 'first-start');
        } catch (err) {
          this.log.error({ table, err: (err as Error).message }, `first-start snapshot of ${table} refused: ${(err as Error).message}`);
        }
      }
    }
    snapshots.start();
  }

  /**
   * The running instance's snapshots, for the admin port; undefined while not running. A
   * destination whose reader cannot say where it stands is refused saying so.
   */
  snapshots(): SnapshotControl | undefined {
    const r = this.run;
    if (r === undefined) return undefined;
    if (r.snapshots !== undefined) return r.snapshots;
    const why = `destination ${this.name} reads a source that cannot take snapshots`;
    return {
      request: () => Promise.reject(new SnapshotRefused(why)),
      stop: () => [],
      list: () => [],
    };
  }

  /**
   * Starts one source. A group source that cannot start leaves the group degraded (the others
   * run); "the end" is kept as the position it resolved to, so a restart before the first ack
   * begins there instead of at a newer end.
   */
  private async startSource(run: Running, src: SourceRun): Promise<void> {
    await src.reader.start();
    const began = src.reader.startPoint();
    if (src.start.kind !== 'end' || began === undefined || this.run !== run) return;
    const at: StartRequest = { kind: 'position', file: began.file, offset: began.offset };
    if (run.acks === undefined) run.meta.keepStart(at);
    else run.meta.keepSourceStart(src.name, at);
  }

  /** A parser of this destination's own, or a tap on the process's shared reader of its source. */
  private makeReader(src: SourceConfig, slaveId: number, start: ResolvedStart, logName: string, meta: MetaStore): ParserLike {
    const cfg = this.opts.config;
    const parserFor = (from: StartFrom, id: number, onStatementDml: EventParserOptions['onStatementDml'] = (schema, table, at) => this.statements.note(schema, table, at)): EventParser =>
      new EventParser({
        host: src.host,
        port: src.port,
        user: src.user,
        password: src.password,
        slaveId: id,
        start: from,
        ...(cfg.timezone !== undefined ? { timezone: cfg.timezone } : {}),
        heartbeatMs: cfg.heartbeatMs,
        backoff: { initialMs: cfg.retry.initialMs, maxMs: cfg.retry.maxMs },
        connectTimeoutMs: src.connectTimeoutMs,
        destination: this.name,
        logger: this.log,
        onStatementDml,
        ...this.opts.parser,
      });
    // A destination with a standby follows its own master/standby switch: it reads on its own.
    if (cfg.standby !== undefined && cfg.sources === undefined) {
      return new SourceFailover({
        master: cfg.source,
        standby: cfg.standby,
        failover: cfg.failover ?? FAILOVER_DEFAULTS,
        start,
        parser: {
          slaveId,
          ...(cfg.timezone !== undefined ? { timezone: cfg.timezone } : {}),
          heartbeatMs: cfg.heartbeatMs,
          backoff: { initialMs: cfg.retry.initialMs, maxMs: cfg.retry.maxMs },
          destination: this.name,
          onStatementDml: (schema: string, table: string, at: { file: string; offset: number }) => this.statements.note(schema, table, at),
          ...this.opts.parser,
        },
        logger: this.log,
        onSwitch: (r) => this.onSwitch(meta, r),
      });
    }
    const reader = cfg.reader ?? { shared: true, windowBytes: 8 * 1024 * 1024 };
    if (!reader.shared || this.opts.shareReader === false) return parserFor(start, slaveId);
    const identity = { host: src.host, port: src.port, user: src.user, password: src.password, timezone: cfg.timezone, heartbeatMs: cfg.heartbeatMs };
    return sharedReaders.tap(
      identity,
      () => ({
        // The shared stream's statement warnings go to every destination reading it.
        makeParser: (from, id) => parserFor(from, id, (schema, table, at) => sharedReaders.readerOf(identity)?.noteStatementDml(schema, table, at)),
        // Unconfigured: from what makes a shared reader (not from whichever destination came first).
        defaultServerId: derivedSlaveId(`shared/${src.host.toLowerCase()}:${src.port}/${src.user}/${cfg.timezone ?? ''}/${cfg.heartbeatMs}`),
        windowBytes: reader.windowBytes,
        logger: this.log,
      }),
      logName,
      start,
      (from, id) => parserFor(from, id),
      // The shared parser may hold this destination's id: then its own parser takes the spare.
      { configured: src.slaveId, own: slaveId, spare: derivedSlaveId(`${logName}/own`) },
      (schema, table, at) => this.statements.note(schema, table, at),
    );
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
    return this.lastError !== undefined && (this.state === 'failed' || this.state === 'retrying' || this.state === 'degraded') ? { state: this.state, error: this.lastError } : { state: this.state };
  }

  /** Why the instance serves but not as it should (row changes arriving as statements); undefined when all is well. */
  degraded(): string | undefined {
    const r = this.run;
    const cursor = r !== undefined ? cursorWriteProblem(r.meta.stats(), r.meta.path, this.opts.flushIntervalMs) : undefined;
    const statements = this.statements.degraded();
    return cursor !== undefined && statements !== undefined ? `${cursor}; ${statements}` : (cursor ?? statements);
  }

  /**
   * The server the instance reads, for instances with a standby: the master until the standby
   * takes over, then the standby until a restart. Undefined without a standby.
   */
  reading(): ReadingSource | undefined {
    const p = this.run?.sources[0]?.reader ?? this.lastParser;
    return p instanceof SourceFailover ? p.reading() : undefined;
  }

  /** Where the current (or last) run began: a cursor, a reset request, the configured start or the end. */
  startPosition(): ResolvedStart | undefined {
    return this.startedFrom;
  }

  stats(): InstanceStats {
    const r = this.run;
    const all = r?.sources.map((src) => src.reader.stats());
    // A group counts every source; file, offset and GTID are the primary's (see sources for each).
    const p = all?.[0];
    const sum = (k: 'events' | 'rows' | 'bytes' | 'reconnects'): number => (all ?? []).reduce((n, x) => n + x[k], 0);
    const st = r?.store.stats();
    const out: InstanceStats = {
      state: this.state,
      events: sum('events'),
      rows: sum('rows'),
      bytes: sum('bytes'),
      reconnects: sum('reconnects'),
      errors: this.counters.errors + this.counters.cursorWriteErrors,
      cursorWriteErrors: this.counters.cursorWriteErrors,
      batches: this.counters.batches,
      acks: this.counters.acks,
      rollbacks: this.counters.rollbacks,
      store: { entries: st?.entries ?? 0, bytes: st?.bytes ?? 0, maxEntries: this.opts.config.store.maxEntries, maxBytes: this.opts.config.store.maxBytes },
      outstandingBatches: st?.outstandingBatches ?? 0,
      clients: r?.destination.currentHolder() !== undefined ? 1 : 0,
      statementDml: this.statements.stats().count,
    };
    if (this.lastError !== undefined) out.error = this.lastError;
    const snaps = r?.snapshots?.list();
    if (snaps !== undefined && snaps.length > 0) {
      // the latest snapshot of each table (of each source: a group's are added up per table)
      const bySource = new Map(snaps.map((x) => [`${x.source ?? ''}\u0000${x.table}`, x]));
      const byTable = new Map<string, NonNullable<InstanceStats['snapshots']>[number]>();
      for (const x of bySource.values()) {
        const t = byTable.get(x.table);
        if (t === undefined) {
          byTable.set(x.table, { table: x.table, state: x.state, rowsEmitted: x.rowsEmitted, rowsAcked: x.rowsAcked, chunksEmitted: x.chunksEmitted, chunksAcked: x.chunksAcked, estimatedRows: x.estimatedRows });
          continue;
        }
        t.rowsEmitted += x.rowsEmitted;
        t.rowsAcked += x.rowsAcked;
        t.chunksEmitted += x.chunksEmitted;
        t.chunksAcked += x.chunksAcked;
        t.estimatedRows += x.estimatedRows;
        // the table's state is its least advanced source's
        if (STATE_ORDER.indexOf(x.state) < STATE_ORDER.indexOf(t.state as SnapshotStatus['state'])) t.state = x.state;
      }
      out.snapshots = [...byTable.values()];
    }
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
    if (r !== undefined && r.acks !== undefined) {
      out.sources = r.sources.map((src, k) => {
        const one: NonNullable<InstanceStats['sources']>[number] = { name: src.name, state: src.state, file: all![k]!.file, offset: all![k]!.offset };
        if (src.error !== undefined) one.error = src.error;
        return one;
      });
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

  async durable(): Promise<void> {
    await this.run?.destination.durable();
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

  private onSourceState(run: Running, src: SourceRun, s: ParserState): void {
    if (run !== this.run) return;
    src.state = s;
    if (s === 'running') src.error = undefined;
    this.updateState(run);
  }

  private onSourceError(run: Running, src: SourceRun, err: Error & { fatal?: boolean }): void {
    if (run !== this.run) return;
    src.error = err.message;
    if (err.fatal === true && run.acks === undefined) {
      this.fail(err); // counts it
      return;
    }
    this.counters.errors++;
    // The parser logs each reconnect attempt itself; keep the reason for status().
    this.updateState(run);
  }

  /**
   * The instance state from its sources'. One source: its state. A group: running when all
   * run; degraded (naming the sources that do not, and why) while at least one runs; retrying
   * while none runs and one still retries; failed when all have failed.
   */
  private updateState(run: Running): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    const srcs = run.sources;
    if (run.acks === undefined) {
      const s = srcs[0]!.state;
      if (s === 'running') {
        this.lastError = undefined;
        this.setState('running');
      } else if (s === 'retrying') {
        this.lastError = srcs[0]!.error ?? this.lastError;
        this.setState('retrying');
      } else if (s === 'connecting') this.setState('starting');
      // 'failed' arrives with its error (onSourceError); 'stopped' only follows our own stop.
      return;
    }
    const down = srcs.filter((x) => x.state !== 'running');
    if (down.length === 0) {
      this.lastError = undefined;
      run.pump.setHeld(false);
      for (const x of srcs) run.pump.setLive(x.input, true);
      this.setState('running');
      return;
    }
    if (srcs.every((x) => x.state === 'connecting') || (this.state === 'starting' && down.every((x) => x.state === 'connecting'))) {
      this.setState('starting');
      return;
    }
    if (down.length === srcs.length && srcs.every((x) => x.state === 'failed')) {
      this.fail(new Error(`every source failed: ${srcs.map((x) => `${x.name}: ${x.error ?? 'failed'}`).join('; ')}`));
      return;
    }
    for (const x of srcs) run.pump.setLive(x.input, x.state === 'running');
    const pause = this.opts.config.group?.onSourceFailure === 'pause';
    run.pump.setHeld(pause);
    const what = down.map((x) => `source ${x.name} is ${x.state}${x.error !== undefined ? ` (${x.error})` : ''}`).join('; ');
    this.lastError = `${what}; ${pause ? 'the other sources are paused until it recovers (group.onSourceFailure = pause)' : 'the other sources keep flowing (group.onSourceFailure = continue)'}`;
    const none = down.length === srcs.length;
    if (this.state !== (none ? 'retrying' : 'degraded')) this.log.warn({ sources: down.map((x) => ({ name: x.name, state: x.state, error: x.error })) }, `instance ${none ? 'retrying' : 'degraded'}: ${this.lastError}`);
    this.setState(none ? 'retrying' : 'degraded');
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
    // The message is the line's text; a classified fault adds no stack, only an unexpected one does.
    this.log.error({ ...(e instanceof ParserError ? {} : { err: e }), start: this.startedFrom }, `instance failed${cursor}: ${e.message}`);
    if (this.run !== undefined) this.teardown = this.shutDown(`instance failed: ${e.message}`);
  }

  private async shutDown(reason: string): Promise<void> {
    const r = this.run;
    this.run = undefined;
    if (r === undefined) return;
    r.pump.close();
    await r.snapshots?.close().catch((err: unknown) => this.log.warn({ err }, 'snapshot reader did not stop cleanly'));
    await Promise.all(r.sources.map((src) => src.reader.stop().catch((err: unknown) => this.log.warn({ err, source: src.name }, 'parser did not stop cleanly'))));
    r.store.close(reason);
    try {
      await r.meta.close();
    } catch (err) {
      this.log.error({ err, file: r.meta.path }, 'the cursor file could not be written at shutdown: the next start repeats entries since the last write');
    }
    await r.lock.release();
  }
}
