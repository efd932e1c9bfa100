// One destination's subscriptions and client cursors, kept in memory and persisted to
// <dataDir>/<destination>/meta.dat. meta.dat is written at most once per flush interval for
// cursor moves; subscribe and unsubscribe are written at once; close() writes whatever is
// pending. Writes are atomic and never run concurrently. With durability 'exact' (the default)
// every cursor move is also appended to a journal at once (cursor-journal.ts), so a crash of the
// process repeats no acknowledged entry; with 'periodic' (Canal's behaviour) a crash re-delivers
// what was acknowledged since the last write.
import type { Logger } from 'pino';
import type { LogPosition } from '../protocol/entry-model.ts';
import { minCursor } from './cursor-order.ts';
import type { MetaBackend } from './meta-backend.ts';
import { minSourceParts } from './group-cursor.ts';
import {
  readMetaFile,
  writeMetaFile,
  removeStaleTemps,
  metaPath,
  type ClientMeta,
  type MetaContent,
  type ReadingRecord,
  type SnapshotRecord,
  type SourceAddress,
  type StartRequest,
} from './meta-file.ts';
import { CursorJournal, readJournals } from './cursor-journal.ts';

/** 'exact': every cursor move kept before the next reply; 'periodic': written once per flush interval. */
export type CursorDurability = 'exact' | 'periodic';

/** meta.dat with every journaled cursor move since its last write applied (what a restart resumes from). */
export async function readMetaState(dataDir: string, destination: string): Promise<MetaContent | undefined> {
  const content = await readMetaFile(dataDir, destination);
  const lines = await readJournals(dataDir, destination);
  if (lines.length === 0) return content;
  const out: MetaContent = content ?? { destination, clients: [] };
  for (const l of lines) {
    const c = out.clients.find((x) => x.clientId === l.clientId);
    if (c) c.cursor = l.cursor;
    else out.clients.push({ clientId: l.clientId, filter: '', cursor: l.cursor });
  }
  // a cursor supersedes a pending start, as setCursor does
  delete out.start;
  return out;
}

export interface MetaStoreOptions {
  dataDir: string;
  destination: string;
  /** Canal's canal.file.flush.period: minimum ms between two cursor writes. */
  flushIntervalMs: number;
  /** The MySQL source, written as the cursor's identity.sourceAddress. */
  source: SourceAddress;
  /** default 'exact' */
  durability?: CursorDurability;
  logger?: Pick<Logger, 'warn' | 'error' | 'debug'>;
  /** the primary copy (ZooKeeper in a cluster): read instead of meta.dat's clients, written before meta.dat */
  backend?: MetaBackend;
  /** called on every failed write (the instance counts them for its metrics) */
  onWriteFailed?: (err: Error) => void;
}

export interface MetaStoreStats {
  writes: number;
  failedWrites: number;
  dirty: boolean;
  lastWriteAt: number;
  /** when the writes began failing (ms), while the last attempt failed */
  failingSince?: number;
  /** why the last attempt failed, while it did */
  lastWriteError?: string;
  /** cursor moves appended to the journal ('exact' durability) */
  journalAppends: number;
}

export class MetaStore {
  private readonly clients = new Map<string, ClientMeta>();
  private startRequest: StartRequest | undefined;
  /** the server read now: new cursors belong to it */
  private source: SourceAddress;
  private readingRecord: ReadingRecord | undefined;
  private sourceStarts: Record<string, StartRequest> = {};
  private snapshotRecords: SnapshotRecord[] | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private lastWriteAt = 0;
  private writes = 0;
  private failedWrites = 0;
  private failingSince: number | undefined;
  private lastWriteError: string | undefined;
  private journal: CursorJournal | undefined;
  /** why the last journal append failed, until one succeeds: durable() rejects meanwhile */
  private journalError: Error | undefined;
  private journalAppends = 0;
  /** cursor moves so far, and how many of them the last successful write carried */
  private cursorMoves = 0;
  private writtenMoves = 0;

  private constructor(private readonly opts: MetaStoreOptions) {
    this.source = opts.source;
  }

  /** Loads the destination's meta.dat (Canal's or ours) if there is one. */
  static async open(opts: MetaStoreOptions): Promise<MetaStore> {
    const store = new MetaStore(opts);
    await removeStaleTemps(opts.dataDir, opts.destination);
    const replayed = (await readJournals(opts.dataDir, opts.destination)).length > 0;
    const content = await readMetaState(opts.dataDir, opts.destination);
    if (content) {
      for (const c of content.clients) store.clients.set(c.clientId, { ...c });
      store.startRequest = content.start;
      store.readingRecord = content.reading;
      store.sourceStarts = { ...content.sourceStarts };
      store.snapshotRecords = content.snapshots;
    }
    const primary = await opts.backend?.load();
    // An empty backend (a cluster's first start) takes over what meta.dat holds.
    if (primary !== undefined && primary.length > 0) {
      store.clients.clear();
      for (const c of primary) store.clients.set(c.clientId, { ...c });
      // Snapshot progress goes with the cursors: a server taking over resumes the snapshots where
      // the last active one's client acknowledged them, not where its own meta.dat last saw them.
      if (opts.backend?.loadedSnapshots !== undefined) store.snapshotRecords = opts.backend.loadedSnapshots();
    }
    if ((opts.durability ?? 'exact') === 'exact') store.journal = await CursorJournal.open(opts.dataDir, opts.destination);
    // Journals left by a crash: fold them into meta.dat now, so they can go.
    if (replayed) store.writeSoon(true);
    return store;
  }

  get path(): string {
    return metaPath(this.opts.dataDir, this.opts.destination);
  }

  clientList(): ClientMeta[] {
    return [...this.clients.values()].map((c) => ({ ...c }));
  }

  isSubscribed(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  filterOf(clientId: string): string | undefined {
    return this.clients.get(clientId)?.filter;
  }

  cursorOf(clientId: string): LogPosition | undefined {
    return this.clients.get(clientId)?.cursor;
  }

  /** The cursor a restart resumes from: the one furthest behind over all clients. */
  resumeCursor(): LogPosition | undefined {
    return minCursor([...this.clients.values()].map((c) => c.cursor));
  }

  /** The server the file and offset of the cursor a restart resumes from belong to, when recorded. */
  resumeCursorSource(): SourceAddress | undefined {
    const min = this.resumeCursor();
    if (min === undefined) return undefined;
    for (const c of this.clients.values()) if (c.cursor === min) return c.source;
    return undefined;
  }

  /** The server the instance reads from now on (a standby that took over); written at once. */
  setReading(r: ReadingRecord): void {
    this.source = { address: r.address, port: r.port };
    this.readingRecord = { ...r };
    if (this.clients.size > 0) this.writeSoon(true);
  }

  reading(): ReadingRecord | undefined {
    return this.readingRecord === undefined ? undefined : { ...this.readingRecord };
  }

  /** A start position set by `sluice positions reset`; only meaningful while no client has a cursor. */
  pendingStart(): StartRequest | undefined {
    return this.startRequest;
  }

  /**
   * Keeps where a start without any cursor began (the binlog end of that moment), so a restart
   * before the first acknowledgement re-delivers from there instead of jumping to a newer end.
   * Ignored once any client has a cursor; written with the next write (never with no client).
   */
  keepStart(start: StartRequest): void {
    for (const c of this.clients.values()) if (c.cursor) return;
    this.startRequest = start;
    this.writeSoon(true);
  }

  /** A group's resume position per source: for each, the one furthest behind over all clients. */
  resumeSourceCursors(order: readonly string[]): Map<string, LogPosition> {
    return minSourceParts([...this.clients.values()].map((c) => c.cursor), order);
  }

  /** A group source's kept start (keepSourceStart); the primary's is pendingStart(). */
  pendingSourceStart(source: string): StartRequest | undefined {
    return this.sourceStarts[source];
  }

  /**
   * keepStart for one source of a group: where that source began while no client has a cursor
   * holding it, so a restart before its first acknowledgement does not skip ahead.
   */
  keepSourceStart(source: string, start: StartRequest): void {
    for (const c of this.clients.values()) if (c.cursor?.sources?.some((s) => s.source === source) === true) return;
    this.sourceStarts[source] = start;
    this.writeSoon(true);
  }

  /** Snapshots in progress as last persisted; undefined when none was ever recorded here. */
  snapshots(): SnapshotRecord[] | undefined {
    return this.snapshotRecords?.map((r) => ({ ...r }));
  }

  /**
   * Replaces the snapshots in progress. Written with the next write (at once with `now`), in the
   * same file as the cursors: set it before the cursor of the same acknowledgement.
   */
  setSnapshots(records: SnapshotRecord[], now: boolean): void {
    this.snapshotRecords = records.map((r) => ({ ...r }));
    this.writeSoon(now);
  }

  /** Registers (or re-registers, replacing the filter) a client; written at once. */
  subscribe(clientId: string, filter: string): void {
    const prev = this.clients.get(clientId);
    this.clients.set(clientId, { clientId, filter, cursor: prev?.cursor, ...(prev?.source ? { source: prev.source } : {}) });
    this.writeSoon(true);
  }

  /** Drops a client and its cursor; written at once (unless no client is left: see write()). */
  unsubscribe(clientId: string): void {
    if (!this.clients.delete(clientId)) return;
    this.journal?.clientRemoved();
    this.writeSoon(true);
  }

  /** Moves a client's cursor (after an ack); written within one flush interval. */
  setCursor(clientId: string, cursor: LogPosition): void {
    const c = this.clients.get(clientId);
    if (!c) {
      this.clients.set(clientId, { clientId, filter: '', cursor: { ...cursor }, source: this.source });
    } else {
      c.cursor = { ...cursor };
      c.source = this.source;
    }
    // A cursor supersedes a reset request: once something is acknowledged, resume from there.
    this.startRequest = undefined;
    for (const s of cursor.sources ?? []) delete this.sourceStarts[s.source];
    this.cursorMoves++;
    if (this.journal !== undefined && !this.closed) {
      try {
        this.journal.append(clientId, cursor);
        this.journalAppends++;
        this.journalError = undefined;
      } catch (err) {
        this.journalError = err instanceof Error ? err : new Error(String(err));
        this.opts.logger?.error({ err, file: this.path }, 'could not append to the cursor journal; the next GET reply waits until a cursor write succeeds');
        // meta.dat itself then makes the cursor durable
        this.writeSoon(true);
        return;
      }
    }
    this.writeSoon(false);
  }

  /**
   * Resolves once every cursor move so far survives a crash of the process: at once with the
   * journal (each move is in the kernel already), after a meta.dat write when a journal append
   * failed; at once with 'periodic' durability, which promises nothing until the next flush.
   */
  async durable(): Promise<void> {
    if (this.journal === undefined) return;
    // A backend (ZooKeeper in a cluster) is what another server resumes from after a cluster
    // failover: it must hold every move before the reply too. Concurrent callers share one write.
    const backendBehind = this.opts.backend !== undefined && this.writtenMoves < this.cursorMoves;
    if (this.journalError === undefined && !backendBehind) return;
    await this.flush();
    this.journalError = undefined;
  }

  /** Writes now if anything changed; resolves when the file is on disk. */
  flush(): Promise<void> {
    this.clearTimer();
    const p = this.chain.then(() => this.write());
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Writes what is pending and stops the flush timer; later changes are not written. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.journal?.close();
  }

  stats(): MetaStoreStats {
    const out: MetaStoreStats = { writes: this.writes, failedWrites: this.failedWrites, dirty: this.dirty, lastWriteAt: this.lastWriteAt, journalAppends: this.journalAppends };
    if (this.failingSince !== undefined) out.failingSince = this.failingSince;
    if (this.lastWriteError !== undefined) out.lastWriteError = this.lastWriteError;
    return out;
  }

  private writeSoon(now: boolean): void {
    this.dirty = true;
    if (this.closed) return;
    if (now) {
      this.flush().catch(() => undefined);
      return;
    }
    if (this.timer) return;
    const delay = Math.max(0, this.lastWriteAt + this.opts.flushIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, delay);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const content: MetaContent = { destination: this.opts.destination, clients: this.clientList() };
    if (this.startRequest) content.start = this.startRequest;
    if (this.readingRecord) content.reading = this.readingRecord;
    if (Object.keys(this.sourceStarts).length > 0) content.sourceStarts = { ...this.sourceStarts };
    if (this.snapshotRecords) content.snapshots = this.snapshotRecords;
    // Canal's fix for #4312: an empty list would erase the cursors of clients that have not
    // re-subscribed yet, so it never replaces the file.
    if (content.clients.length === 0) return;
    // Journals before the current one (or before a new one started now) are covered once this write is on disk.
    const covered = this.journal?.rotate();
    const moves = this.cursorMoves;
    try {
      await this.opts.backend?.write(content);
      await writeMetaFile(this.opts.dataDir, content, this.opts.source);
      this.writes++;
      this.lastWriteAt = Date.now();
      this.failingSince = undefined;
      this.lastWriteError = undefined;
      this.writtenMoves = Math.max(this.writtenMoves, moves);
      if (covered !== undefined) await this.journal!.removeBelow(covered);
    } catch (err) {
      this.dirty = true;
      if (covered !== undefined) this.journal!.uncovered();
      this.failedWrites++;
      this.failingSince ??= Date.now();
      this.lastWriteError = (err as Error).message;
      this.opts.onWriteFailed?.(err as Error);
      this.opts.logger?.error({ err, file: this.path }, 'could not write the cursor file; will retry at the next flush');
      if (!this.closed && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush().catch(() => undefined);
        }, this.opts.flushIntervalMs);
        this.timer.unref();
      }
      throw new Error(`writing ${this.path} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
