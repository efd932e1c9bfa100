// One replica stream from a MySQL/MariaDB source, through sluice's binlog dump (src/binlog/), turned into Canal
// entries, with its supervision: preflight, start modes, back-pressure, a heartbeat watchdog and
// reconnects that resume from the last boundary handed on without duplicates or gaps.
import { EventEmitter } from 'node:events';
import mysql from 'mysql2';
import type { Pool as CallbackPool } from 'mysql2';
import { isBoundary, type ParsedEntry } from '../protocol/entry-model.ts';
import { BinlogDump } from '../binlog/dump.ts';
import type { BinlogEvent } from '../binlog/events.ts';
import { buildTableCodec } from './columns/table-codec.ts';
import { comparePositions, readBinlogEnd, type FilePosition } from './binlog-files.ts';
import { Backoff } from './backoff.ts';
import { EntryQueue } from './entry-queue.ts';
import { resolveStart, type ResumePoint, type StartFrom } from './start-point.ts';
import { classifyError, ParserError, type StartDescription } from './errors.ts';
import { EventConverter, eventNameOf, type BinlogEventLike, type CodecFactory } from './event-converter.ts';
import { assertSourceReady } from './preflight.ts';
import { TableMetaCache } from './table-meta.ts';

export type { StartFrom } from './start-point.ts';

export type ParserState = 'connecting' | 'running' | 'retrying' | 'failed' | 'stopped';

/** The part of a pino logger the parser uses. */
export interface LoggerLike {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EventParserOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** server id this stream uses toward the source; unique among its replicas */
  slaveId: number;
  start: StartFrom;
  /** zone TIMESTAMP values render in ('SYSTEM' = the process zone, Canal's behaviour) */
  timezone?: string;
  /** heartbeat period asked of the source; the watchdog restarts after 3 silent periods */
  heartbeatMs?: number;
  logger?: LoggerLike;
  /** most entries held while the consumer is paused before the parser reports a broken bound */
  maxBuffered?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** destination name, used in error messages that tell the operator what to run */
  destination?: string;
  /** check the source's settings before the first connect (default true) */
  preflight?: boolean;
  /** turns a table map into a row codec; the columns module's buildTableCodec by default */
  buildCodec?: CodecFactory;
  connectTimeoutMs?: number;
  /** a row change logged as a statement (the source's binlog_format is STATEMENT or MIXED) */
  onStatementDml?: (schema: string, table: string, at: { file: string; offset: number }) => void;
}

export interface ParserStats {
  file: string;
  offset: number;
  gtidSet: string;
  lastEventTimestamp: number;
  /** local time (ms) the last event or heartbeat arrived; 0 before the first */
  lastReceivedAt: number;
  events: number;
  rows: number;
  bytes: number;
  reconnects: number;
  /** entries held for a paused consumer now, and the most ever held */
  buffered: number;
  maxBufferedSeen: number;
  state: ParserState;
}

const silentLogger: LoggerLike = { warn() {}, info() {}, error() {} };

export class EventParser extends EventEmitter {
  private readonly o: EventParserOptions;
  private readonly log: LoggerLike;
  private readonly heartbeatMs: number;
  private readonly maxBuffered: number;
  private readonly backoff: Backoff;

  private stateValue: ParserState = 'stopped';
  private epoch = 0;
  private dump: BinlogDump | undefined;
  private pool: CallbackPool | undefined;
  private meta: TableMetaCache | undefined;
  private converter: EventConverter | undefined;
  private resumePoint: ResumePoint | undefined;
  /** where the first connect began, when that was a file and offset */
  private firstPoint: FilePosition | undefined;
  private startDesc: StartDescription = {};
  /** the last entry handed on (or the acknowledged cursor boundary): entries up to it never again */
  private handedFile: string | undefined;
  private handedOffset = 0;
  /** set by each connect that follows handed-on entries, until the stream passes the last of them */
  private skipPending = false;
  /**
   * Entries of the start point still to drop, because they were acknowledged before a restart
   * (exact resume inside a transaction). Counted across reconnects: entries dropped so far count as
   * handed on, so a reconnect drops those by position and this count goes on with the rest.
   */
  private skipLeft = 0;
  private lastActivity = 0;
  private lastReceivedAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private restartPending = false;

  /** raw events held while table metadata loads, to keep strict order */
  private rawQueue: BinlogEventLike[] = [];
  private metaLoading = false;
  /** entries decoded while the consumer is paused */
  private readonly entryQueue = new EntryQueue();
  private consumerPaused = false;
  private socketPaused = false;
  private headerLength = 23;

  private counters = { events: 0, rows: 0, bytes: 0, reconnects: 0 };
  private sourceServerId = 0;
  private firstReady: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(opts: EventParserOptions) {
    super();
    this.o = opts;
    this.log = opts.logger ?? silentLogger;
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.maxBuffered = opts.maxBuffered ?? 1000;
    this.backoff = new Backoff(opts.backoff?.initialMs ?? 100, opts.backoff?.maxMs ?? 5000);
  }

  get state(): ParserState {
    return this.stateValue;
  }

  /** Entries decoded but held back because the consumer paused. */
  get buffered(): number {
    return this.entryQueue.size;
  }

  /** Connects and resolves once the stream runs; rejects on a fatal error (preflight, credentials, purged binlog). */
  async start(): Promise<void> {
    if (this.stateValue !== 'stopped') throw new Error(`EventParser.start(): already ${this.stateValue}`);
    const ready = new Promise<void>((resolve, reject) => {
      this.firstReady = { resolve, reject };
    });
    this.setState('connecting');
    this.watchdog = setInterval(() => this.checkLiveness(), Math.max(50, Math.floor(this.heartbeatMs / 2)));
    void this.connect();
    await ready;
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.epoch++;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.watchdog = undefined;
    this.retryTimer = undefined;
    this.restartPending = false;
    const closing = this.teardown();
    this.setState('stopped');
    this.firstReady?.reject(new ParserError('parser stopped before the stream started', { fatal: false }));
    this.firstReady = undefined;
    await closing;
  }

  /** Stops reading the replica socket; entries already decoded are held and delivered on resume(). */
  pause(): void {
    this.consumerPaused = true;
    this.applySocketPause();
  }

  resume(): void {
    this.consumerPaused = false;
    while (!this.entryQueue.empty && !this.consumerPaused && this.stateValue !== 'failed' && this.stateValue !== 'stopped') {
      const batch = this.entryQueue.shift()!;
      this.emitEntries(batch);
    }
    if (this.consumerPaused) return;
    this.lastActivity = Date.now();
    if (this.restartPending) {
      this.restartPending = false;
      if (this.stateValue === 'retrying') {
        void this.connect();
        return;
      }
    }
    this.applySocketPause();
  }

  /**
   * The file and offset the stream began at, once the start was resolved (undefined for a GTID
   * start): lets the owner keep a start such as the binlog end of that moment for a later restart.
   */
  startPoint(): FilePosition | undefined {
    return this.firstPoint === undefined ? undefined : { ...this.firstPoint };
  }

  stats(): ParserStats {
    const c = this.converter;
    return {
      file: c?.file ?? this.resumePoint?.file ?? '',
      offset: c?.offset ?? this.resumePoint?.offset ?? 0,
      gtidSet: c?.gtidSet ?? this.resumePoint?.gtidSet ?? '',
      lastEventTimestamp: c?.lastEventTimestamp ?? 0,
      lastReceivedAt: this.lastReceivedAt,
      ...this.counters,
      buffered: this.entryQueue.size,
      maxBufferedSeen: this.entryQueue.maxSeen,
      state: this.stateValue,
    };
  }

  /**
   * Where the stream stands when every event read so far has been handed on: the binlog file,
   * the end of the last event read and the executed GTID position. Undefined while entries are
   * held for a paused consumer, events wait for table metadata, or the stream is not running.
   * Snapshots use it on an idle source, where no further entry would tell them the stream has
   * reached a position.
   */
  handedThrough(): { file: string; offset: number; gtidSet: string } | undefined {
    const c = this.converter;
    if (c === undefined || this.stateValue !== 'running' || !this.entryQueue.empty || this.rawQueue.length > 0 || this.metaLoading || this.skipPending) return undefined;
    return { file: c.file, offset: c.offset, gtidSet: c.gtidSet };
  }

  /** The source's current binlog end, for "bytes behind" (SHOW MASTER STATUS). */
  async sourceEnd(): Promise<FilePosition> {
    const pool = this.pool ?? this.makePool();
    try {
      return await readBinlogEnd(pool.promise());
    } finally {
      if (pool !== this.pool) pool.end(() => undefined);
    }
  }

  private setState(s: ParserState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit('state', s);
  }

  private makePool(): CallbackPool {
    return mysql.createPool({
      host: this.o.host,
      port: this.o.port,
      user: this.o.user,
      password: this.o.password,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      connectionLimit: 3,
    });
  }

  /** One connect attempt: resolve where to begin, then start the dump (with its heartbeat period). */
  private async connect(): Promise<void> {
    const epoch = ++this.epoch;
    this.lastActivity = Date.now();
    const pool = this.makePool();
    this.pool = pool;
    const db = pool.promise();
    try {
      const first = this.resumePoint === undefined;
      if (first && this.o.preflight !== false) await assertSourceReady(db, this.o.slaveId);
      const [idRows] = await db.query('SELECT @@GLOBAL.server_id AS id, VERSION() AS v');
      const idRow = (idRows as { id: number | string; v: string }[])[0]!;
      this.sourceServerId = Number(idRow.id);
      const mariadb = /mariadb/i.test(idRow.v);
      if (first) {
        const resolved = await resolveStart(pool, mariadb, this.o.slaveId, this.o.start, () => {
          this.lastActivity = Date.now();
        });
        if (resolved.handedOn) {
          this.handedFile = resolved.handedOn.file;
          this.handedOffset = resolved.handedOn.offset;
        }
        const st = this.o.start;
        this.startSkipping(st.kind === 'cursor' ? st.cursor.skip : st.kind === 'gtid' ? st.skip : undefined);
        const rp = resolved.point;
        this.resumePoint = rp;
        if (rp.file !== undefined && rp.offset !== undefined) this.firstPoint = { file: rp.file, offset: rp.offset };
      }
      if (epoch !== this.epoch) return;
      const rp = this.resumePoint!;
      this.startDesc = { file: rp.file, offset: rp.offset, gtid: rp.gtid, destination: this.o.destination };

      const dump = new BinlogDump({
        connection: { host: this.o.host, port: this.o.port, user: this.o.user, password: this.o.password, connectTimeout: this.o.connectTimeoutMs ?? 10_000 },
        serverId: this.o.slaveId,
        start: rp.file !== undefined ? { file: rp.file, position: rp.offset ?? 4 } : { gtid: rp.gtid ?? '' },
        heartbeatMs: this.heartbeatMs,
      });
      this.dump = dump;
      // Positions only grow within one stream: the comparison matters only until the first new entry.
      this.skipPending = this.handedFile !== undefined;
      this.meta = new TableMetaCache(db);
      this.rawQueue = [];
      this.metaLoading = false;
      this.socketPaused = false;
      dump.on('error', (err: Error) => {
        if (epoch === this.epoch) this.onFailure(err);
      });
      dump.on('ready', () => {
        if (epoch !== this.epoch) return;
        const decoder = dump.decoder!;
        this.headerLength = decoder.overhead;
        this.converter = new EventConverter({
          file: rp.file ?? '',
          offset: rp.offset ?? 0,
          gtidSeed: rp.gtidSet,
          flavor: dump.mariadb ? 'mariadb' : 'mysql',
          sourceServerId: this.sourceServerId,
          checksum: decoder.checksum,
          meta: this.meta!,
          buildCodec: this.codecFactory(),
          format: { timezone: this.o.timezone ?? 'SYSTEM' },
          ...(this.o.onStatementDml !== undefined ? { onStatementDml: this.o.onStatementDml } : {}),
        });
        this.lastActivity = Date.now();
      });
      dump.on('event', (ev: BinlogEvent) => {
        if (epoch === this.epoch) this.onBinlog(ev);
      });
      await dump.start();
    } catch (err) {
      if (epoch === this.epoch) this.onFailure(err);
    }
  }

  private codecFactory(): CodecFactory {
    return this.o.buildCodec ?? buildTableCodec;
  }

  private startSkipping(skip: number | undefined): void {
    if (skip === undefined || skip <= 0) return;
    this.skipLeft = skip;
    this.log.info({ skip }, `resuming inside a transaction: the first ${skip} entries from the start point were acknowledged and are dropped`);
  }

  /** set once a dump stream delivered its first event: later failures lose a stream, earlier ones are failed connects */
  private streamed = false;

  private onBinlog(ev: BinlogEventLike): void {
    this.lastActivity = Date.now();
    this.lastReceivedAt = this.lastActivity;
    const name = eventNameOf(ev);
    if (this.stateValue !== 'running') {
      // The first event (the dump's own rotate) proves the source accepted the dump request.
      this.backoff.reset();
      this.streamed = true;
      this.setState('running');
      const fr = this.firstReady;
      this.firstReady = undefined;
      fr?.resolve();
    }
    if (this.metaLoading || this.rawQueue.length > 0) {
      this.hold(ev, name);
      return;
    }
    if (name === 'tablemap' && this.needsMeta(ev, name)) {
      this.hold(ev, name);
      this.drainRaw();
      return;
    }
    this.process(ev, name);
  }

  /** Queues an event in rawQueue (events carry everything they need: their bytes are not reused). */
  private hold(ev: BinlogEventLike, _name: string): void {
    this.rawQueue.push(ev);
  }

  private needsMeta(ev: BinlogEventLike, name: string = eventNameOf(ev)): { schema: string; table: string } | undefined {
    const conv = this.converter;
    if (!conv || !this.meta) return undefined;
    return conv.tableNeedingMeta(ev, this.metaCached, name);
  }

  /** Made once: the question is asked for every table map, one per transaction on single-row loads. */
  private readonly metaCached = (schema: string, table: string): boolean => this.meta?.has(schema, table) === true;

  /** Processes held events in order, stopping to load table metadata where a table map needs it. */
  private drainRaw(): void {
    while (this.rawQueue.length > 0 && !this.metaLoading) {
      const ev = this.rawQueue[0]!;
      const need = this.needsMeta(ev);
      if (need) {
        this.loadMeta(need.schema, need.table);
        return;
      }
      this.rawQueue.shift();
      if (!this.process(ev)) return;
    }
    this.applySocketPause();
  }

  private loadMeta(schema: string, table: string): void {
    const epoch = this.epoch;
    const meta = this.meta!;
    this.metaLoading = true;
    this.applySocketPause();
    meta.load(schema, table).then(
      () => {
        if (epoch !== this.epoch) return;
        this.metaLoading = false;
        this.drainRaw();
      },
      (err: unknown) => {
        if (epoch === this.epoch) this.onFailure(err);
      },
    );
  }

  /** Converts one event and hands its entries on. Returns false when the stream failed. */
  private process(ev: BinlogEventLike, name: string = eventNameOf(ev)): boolean {
    const conv = this.converter;
    if (!conv) return true;
    let entries: ParsedEntry[];
    try {
      entries = conv.convert(ev, name);
    } catch (err) {
      // Decoding the same bytes again would fail the same way: whatever went wrong here is final.
      this.fail(
        err instanceof ParserError
          ? err
          : new ParserError(`could not convert the '${name}' event ending at ${conv.file}:${ev.nextPosition}: ${(err as Error).message}`, { fatal: true, cause: err }),
      );
      return false;
    }
    this.counters.events++;
    this.counters.bytes += ev.size + this.headerLength;
    // A real rotate lies between event groups: a restart may begin in the new file.
    if (name === 'rotate' && ev.nextPosition > 0) {
      this.resumePoint = { file: conv.file, offset: conv.offset, gtidSet: conv.gtidSet };
    }
    if (entries.length === 0) return true;
    let kept = this.skipPending ? this.dropHandedOn(entries) : entries;
    if (this.skipLeft > 0 && kept.length > 0) kept = this.dropAcknowledged(kept);
    if (kept.length === 0) return true;
    for (let i = 0; i < kept.length; i++) {
      const e = kept[i]!;
      if (e.rowChange) this.counters.rows += e.rowChange.rowDatas.length;
      if (isBoundary(e)) this.resumePoint = { file: e.position.file, offset: e.position.nextOffset, gtidSet: e.position.gtidSet };
    }
    const last = kept[kept.length - 1]!.position;
    this.handedFile = last.file;
    this.handedOffset = last.offset;
    if (this.consumerPaused || !this.entryQueue.empty) {
      this.entryQueue.push(kept);
      if (this.entryQueue.size > this.maxBuffered) {
        this.log.warn({ buffered: this.entryQueue.size, maxBuffered: this.maxBuffered }, 'parser holds more entries than its bound while paused');
      }
      this.applySocketPause();
      return true;
    }
    this.emitEntries(kept);
    return this.stateValue !== 'failed' && this.stateValue !== 'stopped';
  }

  /** The start point's entries that were acknowledged before the restart: dropped, counted as handed on. */
  private dropAcknowledged(entries: ParsedEntry[]): ParsedEntry[] {
    const n = Math.min(this.skipLeft, entries.length);
    this.skipLeft -= n;
    const last = entries[n - 1]!.position;
    this.handedFile = last.file;
    this.handedOffset = last.offset;
    return n === entries.length ? [] : entries.slice(n);
  }

  /** After a reconnect: the entries past the last one handed on (clears skipPending once one passes). */
  private dropHandedOn(entries: ParsedEntry[]): ParsedEntry[] {
    const handed: FilePosition = { file: this.handedFile!, offset: this.handedOffset };
    const kept: ParsedEntry[] = [];
    for (const e of entries) {
      if (this.skipPending && comparePositions(e.position, handed) <= 0) continue;
      this.skipPending = false;
      kept.push(e);
    }
    return kept;
  }

  private emitEntries(entries: ParsedEntry[]): void {
    try {
      this.emit('entries', entries);
    } catch (err) {
      this.fail(new ParserError(`an 'entries' listener threw: ${(err as Error).message}`, { fatal: true, cause: err }));
    }
  }

  private applySocketPause(): void {
    const dump = this.dump;
    if (!dump) return;
    const want = this.consumerPaused || this.metaLoading;
    if (want === this.socketPaused) return;
    this.socketPaused = want;
    if (want) dump.pause();
    else dump.resume();
  }

  private checkLiveness(): void {
    if (this.stateValue !== 'running' && this.stateValue !== 'connecting' && this.stateValue !== 'retrying') return;
    if (this.retryTimer || this.restartPending) return;
    if (this.consumerPaused) return;
    const silent = Date.now() - this.lastActivity;
    if (silent > 3 * this.heartbeatMs) {
      this.onFailure(new ParserError(`no event or heartbeat from the source for ${silent} ms (3 heartbeat periods of ${this.heartbeatMs} ms)`, { fatal: false }));
    }
  }

  private onFailure(err: unknown): void {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    const pe = classifyError(err, this.startDesc);
    if (pe.fatal) {
      this.fail(pe);
      return;
    }
    this.epoch++;
    void this.teardown();
    const { attempt, delayMs: delay } = this.backoff.next();
    this.counters.reconnects++;
    // Before any stream was read, nothing was lost: the connect itself failed.
    this.log.warn({ attempt, delayMs: delay, err: pe.message, resume: this.resumePoint }, this.streamed ? 'binlog stream lost; reconnecting' : 'could not connect to the source; retrying');
    this.setState('retrying');
    if (this.listenerCount('error') > 0) this.emit('error', pe);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stateValue !== 'retrying') return;
      if (this.consumerPaused) {
        this.restartPending = true;
        return;
      }
      void this.connect();
    }, delay);
  }

  private fail(pe: ParserError): void {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.epoch++;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.watchdog = undefined;
    this.retryTimer = undefined;
    void this.teardown();
    this.log.error({ err: pe.message }, 'binlog stream failed; not retrying');
    this.setState('failed');
    const fr = this.firstReady;
    this.firstReady = undefined;
    if (fr) fr.reject(pe);
    if (this.listenerCount('error') > 0) this.emit('error', pe);
  }

  /** Stops the current dump (ending its thread on the source) and closes the pool. */
  private async teardown(): Promise<void> {
    const dump = this.dump;
    const pool = this.pool;
    this.dump = undefined;
    this.pool = undefined;
    this.rawQueue = [];
    this.metaLoading = false;
    this.socketPaused = false;
    if (dump) {
      dump.removeAllListeners('event');
      dump.removeAllListeners('error');
      dump.on('error', () => undefined);
      await dump.stop(pool ? (sql) => pool.promise().query(sql) : undefined);
    }
    if (pool) {
      // A frozen source never answers the goodbye; do not let stop() wait for it.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        t.unref();
        pool.end(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
