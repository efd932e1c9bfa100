// Moves entries from one or more sources (parsers) through the sink into the store, with
// back-pressure instead of buffering: whatever the store refuses waits in a small per-source
// queue and that source is paused until the store reports 'space'.
//
// Merging several sources (a group destination): each source's entries keep their order, and
// sources interleave only at transaction boundaries. A source's transaction goes to the store
// once it is complete in the queue (its END arrived; a transaction of more than
// BIG_UNIT entries goes as it comes, owning the store until its END), so a source that stops in
// the middle of a transaction holds nobody up. Between units the source whose next unit has
// the oldest commit time goes first; a unit waits up to `skewMs` for a live source that has
// nothing queued and has not yet shown a commit time as recent (binlog times are whole
// seconds, ties go round-robin). A consumer therefore never sees a transaction of one source
// split by entries of another, and a cursor taken at any boundary is a boundary of every source.
import { EventEmitter } from 'node:events';
import { EntryType, isBoundary, type EntryPosition, type ParsedEntry } from '../protocol/entry-model.ts';
import type { EventSink, SinkStream, SinkStreamStats } from './event-sink.ts';
import { sharedEncoding } from './shared-encoding.ts';
import { tagSource } from './source-tag.ts';

export interface EntrySource {
  on(event: 'entries', listener: (entries: ParsedEntry[]) => void): unknown;
  off?(event: 'entries', listener: (entries: ParsedEntry[]) => void): unknown;
  pause(): void;
  resume(): void;
  /**
   * True while the same entry objects also go to other destinations (a shared reader): their
   * encoded bytes are then made once and shared by every store instead of encoded per store.
   */
  entriesShared?(): boolean;
}

/** What the pump needs of the store (EventStore.tryPut): one put, and its 'space' event. */
export interface ItemTarget {
  /** stores `e`, encoding it, or keeping a reference to `encoded` (bytes shared with other stores); false when it does not fit */
  tryPut(e: ParsedEntry, encoded?: Uint8Array): boolean;
  on(event: 'space', listener: () => void): unknown;
  off(event: 'space', listener: () => void): unknown;
}

export interface PumpOptions {
  /** merging: how long a unit may wait for an older one from a quieter live source (default 1000 ms) */
  skewMs?: number;
  /** called after the store accepted an entry, in store order (a group's per-source cursor tracker) */
  onStored?: (source: string, position: EntryPosition, boundary: boolean) => void;
}

export interface AddSourceOptions {
  /** add a header prop `source` = the source's name to every entry (group destinations) */
  tag?: boolean;
}

export interface PumpSourceStats extends SinkStreamStats {
  name: string;
  /** entries filtered but not yet accepted by the store */
  pending: number;
  paused: boolean;
  pauses: number;
  stored: number;
  /** position of the last entry the store accepted from this source */
  lastStoredPosition: EntryPosition | undefined;
  live: boolean;
}

/** A merged source's transaction larger than this many entries goes to the store before its END arrives. */
export const BIG_UNIT = 1024;

interface Feed {
  name: string;
  source: EntrySource;
  stream: SinkStream;
  listener: (entries: ParsedEntry[]) => void;
  tag: boolean;
  /** entries the store has not taken yet, each with its shared encoding (undefined: the store encodes it) */
  pending: ParsedEntry[];
  pendingBytes: (Uint8Array | undefined)[];
  /** index of the first pending entry not yet put: shifting arrays entry by entry would be O(n²) */
  head: number;
  paused: boolean;
  pauses: number;
  stored: number;
  lastStored: EntryPosition | undefined;
  /** this source has put a BEGIN and not yet its END */
  inTransaction: boolean;
  // Merging only:
  /** pending[0, completeUntil) ends with a complete unit (transaction or stand-alone entry) */
  completeUntil: number;
  /** a BEGIN was queued and its END not yet */
  queuedOpen: boolean;
  /** when each complete unit not yet put became complete (ms), oldest first */
  unitTimes: number[];
  /** the newest commit time seen from this source (ms), filtered entries included */
  watermark: number;
  /** a failed source is left out of the skew wait */
  live: boolean;
}

export class Pump extends EventEmitter<{ error: [Error] }> {
  private readonly feeds: Feed[] = [];
  /** the source whose open transaction owns the store, if any */
  private owner: Feed | undefined;
  private turn = 0;
  private storeFull = false;
  private draining = false;
  private held = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private readonly skewMs: number;
  private readonly onStored: PumpOptions['onStored'];
  private readonly onSpace = (): void => {
    this.storeFull = false;
    this.drain();
  };

  constructor(
    private readonly sink: EventSink,
    private readonly store: ItemTarget,
    opts: PumpOptions = {},
  ) {
    super();
    this.skewMs = opts.skewMs ?? 1000;
    this.onStored = opts.onStored;
    store.on('space', this.onSpace);
  }

  /** Starts taking entries from `source`; `name` identifies it in stats, errors and (tagged) entries. */
  addSource(source: EntrySource, name = `source-${this.feeds.length + 1}`, opts: AddSourceOptions = {}): void {
    if (this.feeds.some((f) => f.source === source)) throw new Error(`pump: source ${name} is already connected`);
    const feed: Feed = {
      name,
      source,
      stream: this.sink.createStream(),
      listener: (entries) => this.onEntries(feed, entries),
      tag: opts.tag === true,
      pending: [],
      pendingBytes: [],
      head: 0,
      paused: false,
      pauses: 0,
      stored: 0,
      lastStored: undefined,
      inTransaction: false,
      completeUntil: 0,
      queuedOpen: false,
      unitTimes: [],
      watermark: 0,
      live: true,
    };
    this.feeds.push(feed);
    source.on('entries', feed.listener);
  }

  /**
   * Merging: a source that is down is left out of the skew wait (`live` false), so the others
   * are not delayed by it; its queued units still go in their turn.
   */
  setLive(source: EntrySource, live: boolean): void {
    const feed = this.feeds.find((f) => f.source === source);
    if (feed === undefined || feed.live === live) return;
    feed.live = live;
    this.drain();
  }

  /** While held nothing goes to the store (a group paused because one of its sources is down). */
  setHeld(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    if (!held) this.drain();
  }

  close(): void {
    for (const f of [...this.feeds]) f.source.off?.('entries', f.listener);
    this.feeds.length = 0;
    this.owner = undefined;
    this.clearWait();
    this.store.off('space', this.onSpace);
  }

  stats(): PumpSourceStats[] {
    return this.feeds.map((f) => ({
      ...f.stream.stats(),
      name: f.name,
      pending: f.pending.length - f.head,
      paused: f.paused,
      pauses: f.pauses,
      stored: f.stored,
      lastStoredPosition: f.lastStored,
      live: f.live,
    }));
  }

  private get merging(): boolean {
    return this.feeds.length > 1;
  }

  private onEntries(feed: Feed, entries: ParsedEntry[]): void {
    try {
      let kept = feed.stream.filter(entries);
      if (feed.tag && kept.length > 0) kept = kept.map((e) => tagSource(e, feed.name));
      const shared = !feed.tag && feed.source.entriesShared?.() === true;
      if (this.merging) {
        for (const e of entries) if (e.position.timestamp > feed.watermark) feed.watermark = e.position.timestamp;
        for (const e of kept) this.queue(feed, e, shared ? sharedEncoding(e) : undefined);
      } else {
        let i = this.mayPutDirectly(feed) ? this.putDirectly(feed, kept, shared) : 0;
        for (; i < kept.length; i++) {
          const e = kept[i]!;
          feed.pending.push(e);
          // Encoded now, while the entry is fresh: the other destinations take these bytes as they are.
          feed.pendingBytes.push(shared ? sharedEncoding(e) : undefined);
        }
      }
    } catch (err) {
      const first = entries[0]?.position;
      const at = first === undefined ? '' : ` at ${first.file}:${first.offset}`;
      this.emit('error', new Error(`pump: entries from ${feed.name}${at} could not be filtered or encoded: ${(err as Error).message}`, { cause: err }));
      return;
    }
    // Entries put directly need no drain: nothing else was waiting for the store.
    if (feed.pending.length > feed.head) this.drain();
    if (this.waiting(feed) && !feed.paused) {
      feed.paused = true;
      feed.pauses++;
      feed.source.pause();
    }
  }

  /** Merging: queues an entry, noting where complete units end. */
  private queue(feed: Feed, e: ParsedEntry, encoded: Uint8Array | undefined): void {
    feed.pending.push(e);
    feed.pendingBytes.push(encoded);
    if (e.entryType === EntryType.TRANSACTIONBEGIN) {
      feed.queuedOpen = true;
      return;
    }
    if (e.entryType === EntryType.TRANSACTIONEND) feed.queuedOpen = false;
    else if (feed.queuedOpen) return;
    feed.completeUntil = feed.pending.length;
    feed.unitTimes.push(Date.now());
  }

  /** The feed has something to put that the store or the merge order holds back: pause its source. */
  private waiting(feed: Feed): boolean {
    const queued = feed.pending.length - feed.head;
    if (queued === 0) return false;
    // A merged source keeps reading until its queued transaction is complete (or big).
    return !this.merging || feed.completeUntil > feed.head || queued >= BIG_UNIT;
  }

  /**
   * The fast path applies when putting `feed`'s entries at once is what drain() would do: one
   * source, the store has room and nothing is queued.
   */
  private mayPutDirectly(feed: Feed): boolean {
    if (this.storeFull || this.draining || this.held || feed.paused) return false;
    return feed.pending.length === feed.head;
  }

  /** Puts `kept` in order until the store refuses one; how many were put. */
  private putDirectly(feed: Feed, kept: ParsedEntry[], shared: boolean): number {
    const store = this.store;
    let i = 0;
    for (; i < kept.length; i++) {
      const e = kept[i]!;
      if (!store.tryPut(e, shared ? sharedEncoding(e) : undefined)) {
        this.storeFull = true;
        break;
      }
      this.stored(feed, e.position, e.entryType, this.onStored !== undefined && (e.entryType === EntryType.TRANSACTIONEND || e.rowChange?.isDdl === true));
    }
    return i;
  }

  private stored(feed: Feed, position: EntryPosition, entryType: EntryType, boundary: boolean): void {
    feed.stored++;
    feed.lastStored = position;
    if (entryType === EntryType.TRANSACTIONBEGIN) {
      feed.inTransaction = true;
      this.owner = feed;
    } else if (entryType === EntryType.TRANSACTIONEND) {
      feed.inTransaction = false;
      if (this.owner === feed) this.owner = undefined;
    }
    this.onStored?.(feed.name, position, boundary);
  }

  /** Puts what the store and the merge order allow, then resumes sources whose queue emptied. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.storeFull && !this.held) {
        const feed = this.owner ?? (this.merging ? this.pick() : this.feeds[0]);
        if (feed === undefined || !this.putTurn(feed)) break;
      }
    } finally {
      this.draining = false;
    }
    for (const f of this.feeds) {
      if (f.paused && !this.waiting(f)) {
        f.paused = false;
        f.source.resume();
      }
    }
  }

  /** Merging: whether `f`'s next unit may go now (complete, big, or already owning the store). */
  private ready(f: Feed): boolean {
    const queued = f.pending.length - f.head;
    return queued > 0 && (f.completeUntil > f.head || queued >= BIG_UNIT);
  }

  /**
   * Merging: the source whose next unit has the oldest commit time, if it need not wait for a
   * quieter live source; otherwise undefined, with a timer set for the end of its wait.
   */
  private pick(): Feed | undefined {
    const n = this.feeds.length;
    let best: Feed | undefined;
    let bestTs = Infinity;
    for (let k = 0; k < n; k++) {
      const f = this.feeds[(this.turn + k) % n]!;
      if (!this.ready(f)) continue;
      const ts = f.pending[f.head]!.position.timestamp;
      if (ts < bestTs) {
        best = f;
        bestTs = ts;
      }
    }
    if (best === undefined) return undefined;
    if (this.skewMs > 0 && this.mayHaveOlder(best, bestTs)) {
      const since = best.unitTimes[0] ?? Date.now();
      const left = since + this.skewMs - Date.now();
      if (left > 0) {
        this.waitFor(left);
        return undefined;
      }
    }
    this.turn = (this.feeds.indexOf(best) + 1) % n;
    return best;
  }

  /** Whether a live source other than `best` may still deliver a unit older than `ts`. */
  private mayHaveOlder(best: Feed, ts: number): boolean {
    for (const f of this.feeds) {
      if (f === best || !f.live || this.ready(f)) continue;
      const queued = f.pending.length > f.head;
      if (queued ? f.pending[f.head]!.position.timestamp < ts : f.watermark < ts) return true;
    }
    return false;
  }

  private waitFor(ms: number): void {
    if (this.waitTimer !== undefined) return;
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.drain();
    }, ms);
  }

  private clearWait(): void {
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** Puts one transaction (or one stand-alone entry) of `feed`, or as much as fits; true if anything moved. */
  private putTurn(feed: Feed): boolean {
    let moved = false;
    while (feed.head < feed.pending.length) {
      const e = feed.pending[feed.head]!;
      if (!this.store.tryPut(e, feed.pendingBytes[feed.head])) {
        this.storeFull = true;
        break;
      }
      feed.head++;
      moved = true;
      this.stored(feed, e.position, e.entryType, isBoundary(e));
      if (!feed.inTransaction) {
        if (this.merging && feed.head <= feed.completeUntil) feed.unitTimes.shift();
        break;
      }
    }
    if (feed.head === feed.pending.length) {
      feed.completeUntil = 0;
      feed.pending.length = 0;
      feed.pendingBytes.length = 0;
      feed.head = 0;
    } else if (feed.head > 1024) {
      feed.pending.splice(0, feed.head);
      feed.pendingBytes.splice(0, feed.head);
      feed.completeUntil = Math.max(0, feed.completeUntil - feed.head);
      feed.head = 0;
    }
    return moved;
  }
}
