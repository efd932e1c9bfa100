// One instance's snapshots: accepts requests, reads their chunks one at a time (several snapshots
// take turns, chunk by chunk) through the feed's watermark windows, and keeps two progress marks
// per snapshot: what was emitted into the stream and what a client has acknowledged. Only the
// acknowledged mark is persisted (with the cursor, in meta.dat), so after any restart a snapshot
// resumes at the first chunk no client acknowledged, exactly as the stream resumes at its cursor.
import mysql, { type Pool } from 'mysql2/promise';
import type { Connection as CoreConnection } from 'mysql2';
import type { Logger } from 'pino';
import type { EntryPosition } from '../protocol/entry-model.ts';
import { comparePositions } from '../parser/binlog-files.ts';
import type { SourceEndpoint } from '../parser/source-failover.ts';
import { ZONGJI_VALUE_OPTIONS } from '../parser/columns/zongji-options.ts';
import { ChunkRetry, readChunkFresh, type Chunk, type KeyValue } from './chunk-reader.ts';
import { buildChunkEntries, markerSeq } from './snapshot-entries.ts';
import { SnapshotFeed, type ChunkWindow, type EmittedChunk, type StreamPoint, type StreamSource } from './snapshot-feed.ts';
import { describeTable, SnapshotRefused, type TableShape } from './table-shape.ts';
import type { SnapshotRecord } from '../meta/meta-file.ts';
import { WatermarkTableError, type WatermarkTable } from './watermark-table.ts';

export type { SnapshotRecord };

export type SnapshotState = 'queued' | 'running' | 'finishing' | 'done' | 'failed' | 'stopped';

export interface SnapshotStatus {
  id: string;
  table: string;
  /** a group destination's source the snapshot reads (docs/snapshots.md, Group destinations) */
  source?: string;
  where?: string;
  state: SnapshotState;
  reason: SnapshotRecord['reason'];
  chunkSize: number;
  keyColumns: string[];
  estimatedRows: number;
  /** emitted into the stream */
  rowsEmitted: number;
  chunksEmitted: number;
  /** acknowledged by a client (what a restart keeps) */
  rowsAcked: number;
  chunksAcked: number;
  /** chunks read again because the table changed shape or the stream was ahead of the read */
  retries: number;
  requestedAt: string;
  finishedAt?: string;
  error?: string;
}

export interface SnapshotRequest {
  /** schema.table */
  table: string;
  where?: string;
  chunkSize?: number;
}

export interface SnapshotManagerOptions {
  destination: string;
  /** the source of a group destination this manager reads; absent for a single-source destination */
  sourceName?: string;
  /** the server the stream reads now (after a source failover, the standby): chunks are read there */
  source: () => SourceEndpoint;
  /** the parser whose entries the feed passes on */
  stream: StreamSource;
  timezone: string;
  chunkSize: number;
  /** why the instance would not deliver this table's rows (filters, dropped inserts), or undefined */
  refusal: (schema: string, table: string) => string | undefined;
  /** called when the acknowledged progress or the set of snapshots changed; `now`: write at once */
  persist: (records: SnapshotRecord[], now: boolean) => void;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** most keys recorded while one chunk is read before it is read again (default 4 × chunk size, at least 10,000) */
  maxChangedKeys?: number;
  /** the watermark-table method (snapshot.watermark "table"); absent: the read-only binlog snapshot position */
  watermarks?: WatermarkTable;
}

/** A request that passed every check, ready to be queued (SnapshotManager.accept). */
export interface CheckedRequest {
  rec: SnapshotRecord;
  shape: TableShape;
}

interface Snapshot {
  rec: SnapshotRecord;
  state: SnapshotState;
  shape: TableShape | undefined;
  keyColumns: string[];
  /** the last key emitted (emitted progress) */
  next: KeyValue[] | undefined;
  /** the key the next read starts after: the last key read, ahead of `next` while a chunk waits */
  readAfter: KeyValue[] | undefined;
  /** chunks being read or waiting to be emitted, in key order; a failed one and those after it leave it */
  chain: InFlight[];
  /** the last read came back short: nothing more to read unless a waiting chunk fails */
  readAll: boolean;
  /** a chunk failed: no read before this time (ms) */
  retryAt: number;
  rowsEmitted: number;
  chunksEmitted: number;
  /** every row has been emitted (the last chunk was short) */
  emittedAll: boolean;
  pendingAcks: number;
  retries: number;
  consecutiveRetries: number;
  finishedAt?: number;
  error?: string;
}

/** A chunk being read, or read and waiting to be emitted. */
interface InFlight {
  snap: Snapshot;
  /** the key it was read after */
  after: KeyValue[] | undefined;
  window: ChunkWindow | undefined;
  /** emitted, failed or dropped: no longer held in memory */
  settled: boolean;
}

interface PendingAck {
  seq: number;
  snap: Snapshot;
  point: StreamPoint;
  after: KeyValue[] | undefined;
  rows: number;
}

const MAX_CONSECUTIVE_RETRIES = 50;
/**
 * Chunks held at once: one waiting to be emitted (for its high watermark, or for the store) while
 * the next is read. Memory is therefore at most two chunks (docs/snapshots.md).
 */
const CHUNKS_IN_MEMORY = 2;
/** at most one progress line per this period (the lag line's default) */
const PROGRESS_LOG_MS = 10_000;
/** errors that a reconnect may fix: the chunk is read again after a pause */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

function splitTable(name: string): { schema: string; table: string } | undefined {
  const m = /^(`?)([^`.]+)\1\.(`?)([^`.]+)\3$/.exec(name.trim());
  return m ? { schema: m[2]!, table: m[4]! } : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class SnapshotManager {
  readonly feed: SnapshotFeed;
  private poolValue: Pool | undefined;
  private poolAddress = '';
  /** false after a source failover: positions of the two servers do not compare */
  private positional = true;
  private readonly snaps: Snapshot[] = [];
  private readonly pending: PendingAck[] = [];
  private seq = 0;
  private turn = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  private lastProgressLog = 0;
  /** chunks being read or waiting to be emitted, over every snapshot */
  private inMemory = 0;

  constructor(private readonly opts: SnapshotManagerOptions) {
    this.log = opts.logger ?? { info() {}, warn() {}, error() {} };
    this.feed = new SnapshotFeed(opts.stream, buildChunkEntries, undefined, opts.watermarks);
  }

  /**
   * With the watermark-table method: creates the table when missing and writes to it once, so
   * that a source refusing the writes stops the instance at start (WatermarkTableError).
   */
  async prepare(): Promise<void> {
    const wm = this.opts.watermarks;
    if (wm === undefined) return;
    const src = this.opts.source();
    try {
      await wm.prepare(this.pool, `${src.host}:${src.port}`);
    } catch (err) {
      if (err instanceof WatermarkTableError) throw err;
      // An unreachable source is the stream's to retry; the first chunk's write checks the table then.
      this.log.warn({ table: wm.name, err: (err as Error).message }, 'the snapshot watermark table could not be checked now (the source is not reachable); the first chunk will write it');
    }
  }

  /** A pool on the server the stream reads now (a new one after a source failover). */
  private get pool(): Pool {
    const src = this.opts.source();
    const address = `${src.host}:${src.port}`;
    if (this.poolValue === undefined || this.poolAddress !== address) {
      const old = this.poolValue;
      if (old !== undefined) old.end().catch(() => undefined);
      this.poolAddress = address;
      this.poolValue = mysql.createPool({
        host: src.host,
        port: src.port,
        user: src.user,
        password: src.password,
        connectTimeout: src.connectTimeoutMs,
        connectionLimit: 2,
        ...ZONGJI_VALUE_OPTIONS,
      });
      // TIMESTAMP values in UTC, as zongji gives binlog ones (both are re-rendered in the instance
      // zone); queued on each new connection ahead of anything else.
      // (mysql2's promise pool passes the event its callback-style connection.)
      this.poolValue.on('connection', (c) => {
        (c as unknown as CoreConnection).query("SET time_zone = '+00:00'", (err: Error | null) => {
          if (err) this.log.warn({ err: err.message }, 'snapshot connection could not set time_zone; TIMESTAMP values would be read in the server zone');
        });
      });
    }
    return this.poolValue;
  }

  /**
   * The stream now reads another server (a source failover): chunks in flight are read again from
   * it, and from now on a chunk counts as acknowledged only through its own end (positions of the
   * two servers' binlogs do not compare), so progress may lag and be re-delivered, never skip.
   */
  sourceSwitched(): void {
    this.positional = false;
    this.feed.reset('the stream switched to another source server');
  }

  /** Snapshots persisted by an earlier run: each resumes after the last key a client acknowledged. */
  restore(records: readonly SnapshotRecord[]): void {
    for (const rec of records) {
      this.snaps.push(this.fresh({ ...rec }));
      this.log.info({ snapshot: rec.id, table: `${rec.schema}.${rec.table}`, rowsAcked: rec.rows, resumeAfter: rec.after }, 'snapshot resumes after its last acknowledged chunk');
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Validates and queues a snapshot; resolves once it is accepted (its rows follow in the stream). */
  async request(req: SnapshotRequest, reason: SnapshotRecord['reason'] = 'request'): Promise<SnapshotStatus> {
    return this.accept(await this.check(req, reason));
  }

  /**
   * Validates a request without queueing it (a group checks every source before accepting on
   * any); throws SnapshotRefused, TableMissing when the source has no such table.
   */
  async check(req: SnapshotRequest, reason: SnapshotRecord['reason'] = 'request'): Promise<CheckedRequest> {
    if (this.closed) throw new SnapshotRefused(`destination ${this.opts.destination} is stopping`);
    const name = splitTable(req.table);
    if (name === undefined) throw new SnapshotRefused(`table ${JSON.stringify(req.table)} must be written schema.table`);
    const chunkSize = req.chunkSize ?? this.opts.chunkSize;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 1_000_000) throw new SnapshotRefused(`chunk size ${chunkSize} must be an integer from 1 to 1000000`);
    const refusal = this.opts.refusal(name.schema, name.table);
    if (refusal !== undefined) throw new SnapshotRefused(refusal);
    this.refuseActive(name.schema, name.table);
    const shape = await describeTable(this.pool, name.schema, name.table, this.opts.timezone);
    if (req.where !== undefined && req.where !== '') {
      // A condition that does not parse or names a missing column is refused now, not at the first chunk.
      try {
        await this.pool.query(`SELECT 1 FROM \`${name.schema.replace(/`/g, '``')}\`.\`${name.table.replace(/`/g, '``')}\` WHERE (${req.where}) LIMIT 0`);
      } catch (err) {
        throw new SnapshotRefused(`--where ${JSON.stringify(req.where)} does not work on ${name.schema}.${name.table}: ${(err as Error).message}`);
      }
    }
    const now = Date.now();
    const source = this.opts.sourceName;
    const rec: SnapshotRecord = {
      id: `${name.schema}.${name.table}@${source !== undefined ? `${source}@` : ''}${now.toString(36)}`,
      schema: name.schema,
      table: name.table,
      chunkSize,
      requestedAt: now,
      reason,
      rows: 0,
      chunks: 0,
      estimatedRows: shape.estimatedRows,
    };
    if (req.where !== undefined && req.where !== '') rec.where = req.where;
    if (source !== undefined) rec.source = source;
    return { rec, shape };
  }

  /** Queues a checked request (refused if a snapshot of its table became active meanwhile). */
  accept(checked: CheckedRequest): SnapshotStatus {
    const { rec, shape } = checked;
    this.refuseActive(rec.schema, rec.table);
    const snap = this.fresh({ ...rec });
    snap.shape = shape;
    snap.keyColumns = shape.keyColumns;
    this.snaps.push(snap);
    this.log.info(
      { snapshot: rec.id, table: `${rec.schema}.${rec.table}`, key: shape.keyName, keyColumns: shape.keyColumns, estimatedRows: shape.estimatedRows, chunkSize: rec.chunkSize, where: rec.where, reason: rec.reason },
      'snapshot accepted',
    );
    this.opts.persist(this.records(), true);
    this.wake?.();
    return this.status(snap);
  }

  /** Throws when a snapshot of the table is queued, running or finishing. */
  refuseActive(schema: string, table: string): void {
    const active = this.snaps.find((s) => s.rec.schema === schema && s.rec.table === table && isActive(s.state));
    if (active) throw new SnapshotRefused(`a snapshot of ${schema}.${table} is already ${active.state} (${active.rec.id}); stop it first with --stop`);
  }

  /** Stops the snapshots of `table` (schema.table), or every active one; returns those stopped. */
  stop(table?: string): SnapshotStatus[] {
    const name = table === undefined ? undefined : splitTable(table);
    if (table !== undefined && name === undefined) throw new SnapshotRefused(`table ${JSON.stringify(table)} must be written schema.table`);
    const out: SnapshotStatus[] = [];
    for (const s of this.snaps) {
      if (!isActive(s.state)) continue;
      if (name !== undefined && (s.rec.schema !== name.schema || s.rec.table !== name.table)) continue;
      s.state = 'stopped';
      s.finishedAt = Date.now();
      this.log.info({ snapshot: s.rec.id, rowsEmitted: s.rowsEmitted, rowsAcked: s.rec.rows }, 'snapshot stopped on request');
      out.push(this.status(s));
    }
    if (out.length > 0) this.opts.persist(this.records(), true);
    return out;
  }

  list(): SnapshotStatus[] {
    return this.snaps.map((s) => this.status(s));
  }

  /** What meta.dat keeps: every snapshot not yet finished, with its acknowledged progress. */
  records(): SnapshotRecord[] {
    return this.snaps.filter((s) => isActive(s.state)).map((s) => ({ ...s.rec }));
  }

  /**
   * A client acknowledged a batch whose last boundary is `p`: every chunk emitted before it (or,
   * for a chunk's own END, up to that chunk) is acknowledged. Returns true if progress moved.
   */
  onAck(p: EntryPosition): boolean {
    const own = markerSeq(p);
    let moved = false;
    while (this.pending.length > 0) {
      const a = this.pending[0]!;
      const acked = own !== undefined ? a.seq <= own : this.positional && comparePositions({ file: p.file, offset: p.offset }, a.point) > 0;
      if (!acked) break;
      this.pending.shift();
      moved = true;
      const s = a.snap;
      s.pendingAcks--;
      s.rec.rows += a.rows;
      s.rec.chunks++;
      if (a.after !== undefined) s.rec.after = a.after;
      this.finishIfComplete(s);
    }
    return moved;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.feed.stop();
    await this.loop?.catch(() => undefined);
    await this.poolValue?.end().catch(() => undefined);
  }

  private fresh(rec: SnapshotRecord): Snapshot {
    return {
      rec,
      state: 'queued',
      shape: undefined,
      keyColumns: [],
      next: rec.after,
      readAfter: rec.after,
      chain: [],
      readAll: false,
      retryAt: 0,
      rowsEmitted: rec.rows,
      chunksEmitted: rec.chunks,
      emittedAll: false,
      pendingAcks: 0,
      retries: 0,
      consecutiveRetries: 0,
    };
  }

  private status(s: Snapshot): SnapshotStatus {
    const out: SnapshotStatus = {
      id: s.rec.id,
      table: `${s.rec.schema}.${s.rec.table}`,
      state: s.state,
      reason: s.rec.reason,
      chunkSize: s.rec.chunkSize,
      keyColumns: s.keyColumns,
      estimatedRows: s.rec.estimatedRows,
      rowsEmitted: s.rowsEmitted,
      chunksEmitted: s.chunksEmitted,
      rowsAcked: s.rec.rows,
      chunksAcked: s.rec.chunks,
      retries: s.retries,
      requestedAt: new Date(s.rec.requestedAt).toISOString(),
    };
    if (s.rec.where !== undefined) out.where = s.rec.where;
    if (s.rec.source !== undefined) out.source = s.rec.source;
    if (s.finishedAt !== undefined) out.finishedAt = new Date(s.finishedAt).toISOString();
    if (s.error !== undefined) out.error = s.error;
    return out;
  }

  private finishIfComplete(s: Snapshot): void {
    if (!s.emittedAll || s.pendingAcks > 0 || !isActive(s.state)) return;
    s.state = 'done';
    s.finishedAt = Date.now();
    this.log.info({ snapshot: s.rec.id, table: `${s.rec.schema}.${s.rec.table}`, rows: s.rec.rows, chunks: s.rec.chunks, retries: s.retries }, 'snapshot complete: every chunk acknowledged');
  }

  /** The next snapshot that has rows left to read, taking turns (one waiting out a failed chunk's pause skipped). */
  private pick(now: number): Snapshot | undefined {
    const live = this.snaps.filter((s) => (s.state === 'queued' || s.state === 'running') && !s.readAll && s.retryAt <= now);
    if (live.length === 0) return undefined;
    const s = live[this.turn % live.length]!;
    this.turn++;
    return s;
  }

  /** Until a chunk settles or a snapshot is requested, at most `ms`. */
  private async idle(ms?: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (ms !== undefined) setTimeout(resolve, ms).unref();
    });
    this.wake = undefined;
  }

  /**
   * Reads chunks one at a time. A chunk read is handed to the feed and the next read begins while
   * it waits to be emitted (its high watermark, the store's room), so MariaDB, this process and the
   * client work at once; at most CHUNKS_IN_MEMORY chunks are held.
   */
  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.inMemory >= CHUNKS_IN_MEMORY) {
        await this.idle();
        continue;
      }
      const now = Date.now();
      const s = this.pick(now);
      if (s === undefined) {
        const waits = this.snaps.filter((x) => isActive(x.state) && !x.readAll && x.retryAt > now).map((x) => x.retryAt - now);
        await this.idle(waits.length > 0 ? Math.min(...waits) : undefined);
        continue;
      }
      // The store's back-pressure: no new chunk while the stream waits for space.
      while (this.feed.paused && !this.closed) await sleep(20);
      if (this.closed) break;
      await this.read(s);
    }
  }

  private async read(s: Snapshot): Promise<void> {
    const { rec } = s;
    if (s.state === 'queued') {
      s.state = 'running';
      this.log.info({ snapshot: rec.id, table: `${rec.schema}.${rec.table}`, resumeAfter: s.next }, 'snapshot running');
    }
    const item: InFlight = { snap: s, after: s.readAfter, window: undefined, settled: false };
    const prev = s.chain[s.chain.length - 1]?.window;
    s.chain.push(item);
    this.inMemory++;
    try {
      s.shape ??= await describeTable(this.pool, rec.schema, rec.table, this.opts.timezone);
      s.keyColumns = s.shape.keyColumns;
      const maxChanged = this.opts.maxChangedKeys ?? Math.max(10_000, 4 * rec.chunkSize);
      const w = this.feed.open(rec.schema, rec.table, s.keyColumns, maxChanged, prev);
      item.window = w;
      let chunk: Chunk;
      try {
        const req = { schema: rec.schema, table: rec.table, size: rec.chunkSize, after: item.after, timezone: this.opts.timezone, ...(rec.where !== undefined ? { where: rec.where } : {}) };
        chunk = this.opts.watermarks === undefined ? await readChunkFresh(this.pool, req, s.shape) : await this.readBetweenWatermarks(this.opts.watermarks, req, s.shape);
      } catch (err) {
        this.feed.close(w);
        throw err;
      }
      if (chunk.shape !== s.shape) {
        // The table changed between chunks: later chunks follow its new shape.
        s.shape = chunk.shape;
        s.keyColumns = chunk.shape.keyColumns;
        if (s.keyColumns.join('\u0000') !== w.keyColumns.join('\u0000')) {
          this.feed.close(w);
          throw new ChunkRetry(`the key of ${rec.schema}.${rec.table} changed`);
        }
      }
      if (!isActive(s.state) || chunk.rows.length === 0 || !s.chain.includes(item)) {
        // stopped, the end of the table, or the chunk before it failed meanwhile
        this.feed.close(w);
        if (s.chain.includes(item) && isActive(s.state)) s.readAll = true;
        this.drop(item);
        this.completeIfEmitted(s);
        return;
      }
      w.label = { snapshotId: rec.id, seq: ++this.seq };
      s.readAfter = chunk.lastKey;
      if (chunk.rows.length < rec.chunkSize) s.readAll = true;
      const done = w.done;
      this.feed.ready(w, chunk);
      done.then(
        (emitted) => this.emitted(item, chunk, emitted),
        (err: unknown) => this.failed(item, err),
      );
    } catch (err) {
      this.failed(item, err);
    }
  }

  /**
   * The watermark-table method: a low watermark write committed before the SELECT (which then sees
   * every transaction the binlog holds before it; the window was opened before the write, so every
   * change after it is recorded), the SELECT, then a high watermark write: the chunk's position is
   * the end of that write's transaction in the stream, once the stream has passed it.
   */
  private async readBetweenWatermarks(wm: WatermarkTable, req: Parameters<typeof readChunkFresh>[1], shape: TableShape | undefined): Promise<Chunk> {
    if (!wm.ready) {
      // not checked at start (the source was not reachable then)
      const src = this.opts.source();
      await wm.prepare(this.pool, `${src.host}:${src.port}`);
    }
    await wm.write(this.pool, wm.token('low'));
    const chunk = await readChunkFresh(this.pool, { ...req, binlogSnapshot: false }, shape);
    const high = wm.token('high');
    const seen = this.feed.expectWatermark(high);
    try {
      await wm.write(this.pool, high);
    } catch (err) {
      this.feed.forgetWatermark(high);
      throw err;
    }
    chunk.at = await seen;
    return chunk;
  }

  /** The item no longer holds a chunk in memory, and leaves its snapshot's chain. */
  private drop(item: InFlight): void {
    if (!item.settled) {
      item.settled = true;
      this.inMemory--;
    }
    const chain = item.snap.chain;
    const i = chain.indexOf(item);
    if (i >= 0) chain.splice(i, 1);
    this.wake?.();
  }

  private emitted(item: InFlight, chunk: Chunk, emitted: EmittedChunk): void {
    this.drop(item);
    const s = item.snap;
    const { rec } = s;
    s.consecutiveRetries = 0;
    s.rowsEmitted += emitted.rows;
    s.chunksEmitted++;
    s.next = chunk.lastKey;
    s.pendingAcks++;
    this.pending.push({ seq: item.window!.label.seq, snap: s, point: emitted.point, after: chunk.lastKey, rows: emitted.rows });
    if (Date.now() - this.lastProgressLog >= PROGRESS_LOG_MS) {
      this.lastProgressLog = Date.now();
      this.log.info(
        { snapshot: rec.id, table: `${rec.schema}.${rec.table}`, rowsEmitted: s.rowsEmitted, rowsAcked: rec.rows, chunksEmitted: s.chunksEmitted, estimatedRows: rec.estimatedRows, retries: s.retries },
        'snapshot progress',
      );
    }
    this.completeIfEmitted(s);
  }

  /**
   * A chunk must be read again (or the snapshot fails). Chunks read after it leave the chain (they
   * fail with it in the feed) and reading resumes after the key it was read after; a chunk that
   * already left the chain (it followed one that failed before) changes nothing.
   */
  private failed(item: InFlight, err: unknown): void {
    const s = item.snap;
    const i = s.chain.indexOf(item);
    // the later ones stay counted in memory until the feed fails them too
    if (i >= 0) s.chain.length = i + 1;
    this.drop(item);
    if (this.closed || i < 0) return;
    s.readAfter = item.after;
    s.readAll = false;
    if (!isActive(s.state)) return;
    if (err instanceof ChunkRetry || TRANSIENT_CODES.has(String((err as { code?: unknown }).code))) {
      s.retries++;
      s.consecutiveRetries++;
      if (s.consecutiveRetries > MAX_CONSECUTIVE_RETRIES) {
        this.failSnapshot(s, new Error(`${MAX_CONSECUTIVE_RETRIES} chunk reads in a row had to be repeated; last reason: ${(err as Error).message}`));
        return;
      }
      this.log.warn({ snapshot: s.rec.id, reason: (err as Error).message, retries: s.retries }, 'snapshot chunk read again');
      s.retryAt = Date.now() + Math.min(1000, 10 * 2 ** Math.min(s.consecutiveRetries, 7));
      return;
    }
    this.failSnapshot(s, err as Error);
  }

  /** Every chunk read went out and the last read found the end: the snapshot only waits for acknowledgements. */
  private completeIfEmitted(s: Snapshot): void {
    if (s.readAll && s.chain.length === 0 && !s.emittedAll && isActive(s.state)) this.emittedAll(s);
  }

  private emittedAll(s: Snapshot): void {
    s.emittedAll = true;
    if (s.state === 'running' || s.state === 'queued') s.state = 'finishing';
    this.log.info({ snapshot: s.rec.id, rowsEmitted: s.rowsEmitted, chunks: s.chunksEmitted }, 'snapshot read every chunk; it completes when the last is acknowledged');
    this.finishIfComplete(s);
    if (s.state === 'done') this.opts.persist(this.records(), true);
  }

  private failSnapshot(s: Snapshot, err: Error): void {
    s.state = 'failed';
    s.error = err.message;
    s.finishedAt = Date.now();
    this.log.error({ snapshot: s.rec.id, table: `${s.rec.schema}.${s.rec.table}`, err: err.message }, `snapshot failed: ${err.message}`);
    this.opts.persist(this.records(), true);
  }
}

function isActive(state: SnapshotState): boolean {
  return state === 'queued' || state === 'running' || state === 'finishing';
}
