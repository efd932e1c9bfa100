// The parser's entries on their way to the pump, with snapshot chunks put in between them at the
// right place: the watermark part of the DBLog method (docs/snapshots.md).
//
// A chunk window opens before its rows are read. From then on, every row change of that table the
// stream passes marks its key (before and after images) as changed. Once the rows are in, changed
// keys are dropped from them and later changes drop their keys directly. The rest is emitted as a
// transaction of its own at the first transaction boundary at or after the chunk's binlog position
// (its high watermark): every change before that point is in the rows or dropped them, every
// change after it follows them. On an idle source the stream may already stand at or past that
// position with nothing more to come: the feed then asks the parser where it stands.
import { EventEmitter } from 'node:events';
import { EntryType, EventType, isBoundary, type EntryPosition, type ParsedEntry, type RowData } from '../protocol/entry-model.ts';
import { comparePositions, type FilePosition } from '../parser/binlog-files.ts';
import { ChunkRetry, type Chunk } from './chunk-reader.ts';
import { rowKey } from './row-keys.ts';
import type { ChunkLabel } from './snapshot-entries.ts';

/** Where the stream stands between two transactions. */
export interface StreamPoint extends FilePosition {
  gtidSet: string;
  serverId: number;
  timestamp: number;
}

/** What the feed needs of the parser. */
export interface StreamSource {
  on(event: 'entries', listener: (entries: ParsedEntry[]) => void): unknown;
  off(event: 'entries', listener: (entries: ParsedEntry[]) => void): unknown;
  pause(): void;
  resume(): void;
  /** where the stream stands when everything read has been handed on; undefined while entries are held */
  handedThrough(): { file: string; offset: number; gtidSet: string } | undefined;
  /** a shared reader's tap: the entries are the same objects other destinations receive */
  entriesShared?(): boolean;
}

export interface EmittedChunk {
  point: StreamPoint;
  /** rows emitted (the chunk's rows minus those changed in the window) */
  rows: number;
  entries: ParsedEntry[];
}

/** Recognises the writes of the watermark-table method in the stream (watermark-table.ts). */
export interface WatermarkWrites {
  tokenOf(e: ParsedEntry): string | undefined;
}

/** Builds a chunk's transaction at `point` from the rows that survived the window. */
export type ChunkBuilder = (chunk: Chunk, keep: (i: number) => boolean, point: StreamPoint, label: ChunkLabel) => ParsedEntry[];

/** The chunk's rows by key text (row-keys.ts), as the stream's changes name them. */
function keyIndex(chunk: Chunk, keyColumns: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < chunk.rows.length; i++) index.set(rowKey(chunk.rows[i]!, 'after', keyColumns)!, i);
  return index;
}

export class ChunkWindow {
  /** keys changed while the rows were being read */
  private changed: Set<string> | undefined = new Set();
  /** key -> row index, once the rows are in and a change reached them */
  private index: Map<string, number> | undefined;
  private dropped: Uint8Array | undefined;
  chunk: Chunk | undefined;
  /** the position of the last entry the stream had passed when the window opened */
  readonly opened: FilePosition | undefined;
  failure: Error | undefined;
  /** its rows went into the stream */
  emitted = false;
  /** what its entries are marked with (set before ready()) */
  label: ChunkLabel = { snapshotId: '', seq: 0 };
  readonly done: Promise<EmittedChunk>;
  resolve!: (c: EmittedChunk) => void;
  reject!: (e: Error) => void;

  constructor(
    readonly schema: string,
    readonly table: string,
    readonly keyColumns: readonly string[],
    private readonly maxChanged: number,
    opened: FilePosition | undefined,
    /** the chunk of the same snapshot read before this one, still waiting: this one follows it out, or fails with it */
    readonly prev: ChunkWindow | undefined,
  ) {
    this.opened = opened;
    this.done = new Promise<EmittedChunk>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // The manager awaits `done` only once the rows are in; a failure before that is not unhandled.
    this.done.catch(() => undefined);
  }

  touch(key: string): void {
    const chunk = this.chunk;
    if (chunk !== undefined) {
      // the key index is built when a change first reaches the rows: a chunk no change touches
      // (an idle table) never has its rows' key texts made
      const index = (this.index ??= keyIndex(chunk, this.keyColumns));
      const i = index.get(key);
      if (i !== undefined) {
        this.dropped![i] = 1;
        index.delete(key);
      }
      return;
    }
    const c = this.changed!;
    c.add(key);
    if (c.size > this.maxChanged) this.fail(new ChunkRetry(`more than ${this.maxChanged} keys of ${this.schema}.${this.table} changed while one chunk was read`));
  }

  setChunk(chunk: Chunk): void {
    this.chunk = chunk;
    this.dropped = new Uint8Array(chunk.rows.length);
    for (const k of this.changed!) this.touch(k);
    this.changed = undefined;
  }

  kept(i: number): boolean {
    return this.dropped![i] === 0;
  }

  fail(err: Error): void {
    if (this.failure === undefined) this.failure = err;
  }
}

export class SnapshotFeed extends EventEmitter<{ entries: [ParsedEntry[]] }> {
  private windows: ChunkWindow[] = [];
  private inTransaction = false;
  /**
   * The last entry passed on (its end is where the stream stands), and the last boundary (a point
   * chunks may follow). Kept as the entries' own positions: every destination's entries pass
   * here, and nothing is allocated per entry.
   */
  private lastSeen: EntryPosition | undefined;
  private lastBoundaryAt: EntryPosition | undefined;
  private pausedByPump = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listener = (entries: ParsedEntry[]): void => this.onEntries(entries);
  /** watermark-table method: tokens whose write the manager waits to see pass */
  private readonly awaited = new Map<string, { resolve: (p: StreamPoint) => void; reject: (e: Error) => void }>();
  /** an awaited token seen in the transaction passing now; resolved at its END */
  private seenToken: string | undefined;

  constructor(
    private readonly source: StreamSource,
    private readonly build: ChunkBuilder,
    private readonly pollMs = 10,
    private readonly watermarks?: WatermarkWrites,
  ) {
    super();
    source.on('entries', this.listener);
  }

  /** Whether the store's back-pressure holds the stream now: no new chunk is read meanwhile. */
  get paused(): boolean {
    return this.pausedByPump;
  }

  pause(): void {
    this.pausedByPump = true;
    this.source.pause();
  }

  resume(): void {
    this.pausedByPump = false;
    this.source.resume();
  }

  /**
   * The pump shares the encoding of entries other destinations receive too (a shared reader).
   * A chunk's entries are this feed's own; sharing their encoding is harmless, they are encoded once.
   */
  entriesShared(): boolean {
    return this.source.entriesShared?.() === true;
  }

  /**
   * Starts recording changes of `schema.table`, before its rows are read. `prev`: the chunk read
   * before it that still waits to be emitted; this one is emitted after it, and read again if it is.
   */
  open(schema: string, table: string, keyColumns: readonly string[], maxChanged: number, prev?: ChunkWindow): ChunkWindow {
    const w = new ChunkWindow(schema, table, keyColumns, maxChanged, this.lastSeen === undefined ? undefined : { file: this.lastSeen.file, offset: this.lastSeen.nextOffset }, prev?.emitted === false ? prev : undefined);
    this.windows.push(w);
    return w;
  }

  /**
   * The rows are in: drops those changed since the window opened, and emits the rest once the
   * stream reaches the chunk's position. Rejects `w.done` with ChunkRetry when the chunk must be
   * read again.
   */
  ready(w: ChunkWindow, chunk: Chunk): void {
    this.failAfterFailed(w);
    if (w.failure === undefined && w.opened !== undefined && comparePositions(w.opened, chunk.at) > 0) {
      w.fail(new ChunkRetry(`the stream had passed ${chunk.at.file}:${chunk.at.offset} before the chunk's changes were recorded`));
    }
    w.setChunk(chunk);
    this.settle();
  }

  close(w: ChunkWindow): void {
    this.windows = this.windows.filter((x) => x !== w);
    this.stopPollingIfIdle();
  }

  /**
   * Watermark-table method: resolves with the stream point after the transaction that wrote
   * `token`, once it has passed. Call before the write (the stream may pass it at once).
   */
  expectWatermark(token: string): Promise<StreamPoint> {
    const p = new Promise<StreamPoint>((resolve, reject) => this.awaited.set(token, { resolve, reject }));
    // a write that failed leaves it unawaited until forgotten or reset
    p.catch(() => undefined);
    return p;
  }

  /** The write of `token` failed: nothing waits for it. */
  forgetWatermark(token: string): void {
    this.awaited.delete(token);
  }

  private rejectWatermarks(err: Error): void {
    for (const w of this.awaited.values()) w.reject(err);
    this.awaited.clear();
    this.seenToken = undefined;
  }

  /** Fails every open window with ChunkRetry (the chunks are read again) and forgets where the stream stood. */
  reset(reason: string): void {
    this.rejectWatermarks(new ChunkRetry(reason));
    for (const w of this.windows) {
      w.fail(new ChunkRetry(reason));
      if (w.chunk === undefined) continue;
      w.reject(w.failure!);
    }
    this.windows = this.windows.filter((w) => w.chunk === undefined);
    this.lastSeen = undefined;
    this.lastBoundaryAt = undefined;
    this.inTransaction = false;
    this.stopPollingIfIdle();
  }

  /** Stops feeding; open windows fail. */
  stop(): void {
    this.source.off('entries', this.listener);
    this.rejectWatermarks(new Error('the instance stopped'));
    for (const w of this.windows) w.reject(new Error('the instance stopped'));
    this.windows = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private onEntries(entries: ParsedEntry[]): void {
    if (this.windows.length === 0) {
      this.track(entries);
      this.emit('entries', entries);
      return;
    }
    let from = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      this.observe(e);
      this.trackOne(e);
      if (!isBoundary(e)) continue;
      const point = this.lastBoundary!;
      if (this.hasDue(point)) {
        this.emit('entries', from === 0 && i === entries.length - 1 ? entries : entries.slice(from, i + 1));
        from = i + 1;
        this.emitDue(point);
      }
    }
    if (from < entries.length) this.emit('entries', from === 0 ? entries : entries.slice(from));
    this.settle();
  }

  private track(entries: ParsedEntry[]): void {
    for (let i = 0; i < entries.length; i++) this.trackOne(entries[i]!);
  }

  private trackOne(e: ParsedEntry): void {
    this.lastSeen = e.position;
    if (e.entryType === EntryType.TRANSACTIONBEGIN) this.inTransaction = true;
    if (isBoundary(e)) {
      this.inTransaction = false;
      this.lastBoundaryAt = e.position;
    }
    if (this.awaited.size > 0) this.watchWatermark(e);
  }

  private watchWatermark(e: ParsedEntry): void {
    if (isBoundary(e)) {
      const token = this.seenToken;
      if (token === undefined) return;
      this.seenToken = undefined;
      const w = this.awaited.get(token);
      this.awaited.delete(token);
      w?.resolve(this.lastBoundary!);
      return;
    }
    const token = this.watermarks?.tokenOf(e);
    if (token !== undefined && this.awaited.has(token)) this.seenToken = token;
  }

  /** The stream point after the last boundary passed on. */
  private get lastBoundary(): StreamPoint | undefined {
    const p = this.lastBoundaryAt;
    return p === undefined ? undefined : { file: p.file, offset: p.nextOffset, gtidSet: p.gtidSet, serverId: p.serverId, timestamp: p.timestamp };
  }

  /** Marks the keys a row change touches, and fails windows of a table a DDL changes. */
  private observe(e: ParsedEntry): void {
    const rc = e.rowChange;
    if (rc === undefined) return;
    const schema = e.header.schemaName ?? '';
    const table = e.header.tableName ?? '';
    for (const w of this.windows) {
      if (rc.isDdl) {
        const names = [`${schema}.${table}`, ...(e.alsoNames ?? [])];
        if (names.includes(`${w.schema}.${w.table}`) || (table === '' && schema === w.schema)) {
          w.fail(new ChunkRetry(`a DDL statement changed ${w.schema}.${w.table} while a chunk was in flight`));
        }
        continue;
      }
      if (w.schema !== schema || w.table !== table) continue;
      const type = rc.eventType;
      for (const row of rc.rowDatas) {
        // INSERT rows have no before image, DELETE rows no after image
        if (type !== EventType.INSERT) this.touchKey(w, row, 'before');
        if (type !== EventType.DELETE) this.touchKey(w, row, 'after');
      }
    }
  }

  private touchKey(w: ChunkWindow, row: RowData, image: 'before' | 'after'): void {
    const k = rowKey(row, image, w.keyColumns);
    if (k !== undefined) w.touch(k);
    else w.fail(new ChunkRetry(`a change of ${w.schema}.${w.table} lacks a key column (${w.keyColumns.join(', ')})`));
  }

  /** The rows are in, the stream reached their position, and the chunk before them went out. */
  private due(w: ChunkWindow, point: StreamPoint): boolean {
    return w.failure === undefined && w.chunk !== undefined && (w.prev === undefined || w.prev.emitted) && comparePositions(point, w.chunk.at) >= 0;
  }

  private hasDue(point: StreamPoint): boolean {
    return this.windows.some((w) => this.due(w, point));
  }

  /** Emits, in the order they were opened, every ready chunk whose position `point` has reached. */
  private emitDue(point: StreamPoint): void {
    for (const w of [...this.windows]) {
      if (!this.due(w, point)) continue;
      this.windows = this.windows.filter((x) => x !== w);
      const chunk = w.chunk!;
      const entries = this.build(chunk, (i) => w.kept(i), point, w.label);
      let rows = 0;
      for (let i = 0; i < chunk.rows.length; i++) if (w.kept(i)) rows++;
      w.emitted = true;
      this.emit('entries', entries);
      w.resolve({ point, rows, entries });
    }
  }

  /** A chunk read after one that must be read again is read again too (it continues from that one's last key). */
  private failAfterFailed(w: ChunkWindow): void {
    if (w.prev !== undefined && w.prev.failure !== undefined && !w.prev.emitted) w.fail(new ChunkRetry('the chunk read before it is read again'));
  }

  /** Fails windows that must be read again; emits due chunks when the stream rests between transactions. */
  private settle(): void {
    for (const w of this.windows) this.failAfterFailed(w);
    for (const w of [...this.windows]) {
      if (w.failure !== undefined && w.chunk !== undefined) {
        this.windows = this.windows.filter((x) => x !== w);
        w.reject(w.failure);
      }
    }
    if (!this.inTransaction && this.windows.some((w) => w.chunk !== undefined)) {
      const h = this.source.handedThrough();
      if (h !== undefined) {
        const last = this.lastBoundary;
        const point: StreamPoint = {
          file: h.file,
          offset: h.offset,
          gtidSet: h.gtidSet,
          serverId: last?.serverId ?? 0,
          timestamp: last?.timestamp ?? 0,
        };
        // Only forward: the parser re-reading after a reconnect stands behind what it handed on.
        if (last === undefined || comparePositions(point, last) >= 0) {
          if (this.hasDue(point)) this.emitDue(point);
        } else if (this.hasDue(last)) {
          this.emitDue(last);
        }
      }
    }
    if (this.windows.some((w) => w.chunk !== undefined)) {
      if (this.timer === undefined) {
        this.timer = setInterval(() => this.settle(), this.pollMs);
        this.timer.unref();
      }
    } else {
      this.stopPollingIfIdle();
    }
  }

  private stopPollingIfIdle(): void {
    if (this.timer && !this.windows.some((w) => w.chunk !== undefined)) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
