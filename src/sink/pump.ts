// Moves entries from one or more sources (parsers) through the sink into the store, with
// back-pressure instead of buffering: whatever the store refuses waits in a small per-source
// queue and that source is paused until the store reports 'space'.
//
// Merging several sources: each source's entries keep their order. Sources interleave only at
// transaction boundaries: once a source has put a TRANSACTIONBEGIN into the store it owns the
// store until it has put the matching TRANSACTIONEND, and the other sources' entries wait (and
// those sources are paused) meanwhile. Between transactions the sources take turns round-robin,
// one transaction (or one stand-alone entry such as a DDL) per turn, so a busy source cannot
// starve a quiet one. A consumer therefore never sees a transaction of one source split by
// entries of another, and a cursor taken at any boundary is a boundary of every source.
import { EventEmitter } from 'node:events';
import { EntryType, type EntryPosition, type ParsedEntry } from '../protocol/entry-model.ts';
// Type-only: the pump is the junction of sink and store, and builds the store's item shape.
import type { StoreItem } from '../store/store-item.ts';
import { storeItemFromEntry } from '../store/store-item.ts';
import type { EventSink, SinkStream, SinkStreamStats } from './event-sink.ts';

export interface EntrySource {
  on(event: 'entries', listener: (entries: ParsedEntry[]) => void): unknown;
  off?(event: 'entries', listener: (entries: ParsedEntry[]) => void): unknown;
  pause(): void;
  resume(): void;
}

export interface ItemTarget {
  tryPut(item: StoreItem): boolean;
  /** tryPut(storeItemFromEntry(e)) without building the item; a target without it gets items */
  tryPutEntry?(e: ParsedEntry): boolean;
  on(event: 'space', listener: () => void): unknown;
  off(event: 'space', listener: () => void): unknown;
}

export interface PumpSourceStats extends SinkStreamStats {
  name: string;
  /** items filtered and encoded but not yet accepted by the store */
  pending: number;
  paused: boolean;
  pauses: number;
  stored: number;
  /** position of the last entry the store accepted from this source */
  lastStoredPosition: EntryPosition | undefined;
}

interface Feed {
  name: string;
  source: EntrySource;
  stream: SinkStream;
  listener: (entries: ParsedEntry[]) => void;
  pending: StoreItem[];
  /** index of the first pending item not yet put: shifting arrays item by item would be O(n²) */
  head: number;
  paused: boolean;
  pauses: number;
  stored: number;
  lastStored: EntryPosition | undefined;
  /** this source has put a BEGIN and not yet its END */
  inTransaction: boolean;
}

export class Pump extends EventEmitter<{ error: [Error] }> {
  private readonly feeds: Feed[] = [];
  /** the source whose open transaction owns the store, if any */
  private owner: Feed | undefined;
  private turn = 0;
  private storeFull = false;
  private draining = false;
  private readonly onSpace = (): void => {
    this.storeFull = false;
    this.drain();
  };

  constructor(
    private readonly sink: EventSink,
    private readonly store: ItemTarget,
  ) {
    super();
    store.on('space', this.onSpace);
  }

  /** Starts taking entries from `source`; `name` identifies it in stats and errors. */
  addSource(source: EntrySource, name = `source-${this.feeds.length + 1}`): void {
    if (this.feeds.some((f) => f.source === source)) throw new Error(`pump: source ${name} is already connected`);
    const feed: Feed = {
      name,
      source,
      stream: this.sink.createStream(),
      listener: (entries) => this.onEntries(feed, entries),
      pending: [],
      head: 0,
      paused: false,
      pauses: 0,
      stored: 0,
      lastStored: undefined,
      inTransaction: false,
    };
    this.feeds.push(feed);
    source.on('entries', feed.listener);
  }

  /**
   * Disconnects a source and forgets its queued items (the caller restarts it from a position it
   * knows was stored). If it owned the store mid-transaction, the others may go on.
   */
  removeSource(source: EntrySource): void {
    const i = this.feeds.findIndex((f) => f.source === source);
    if (i < 0) return;
    const [feed] = this.feeds.splice(i, 1);
    source.off?.('entries', feed!.listener);
    if (this.owner === feed) this.owner = undefined;
    this.drain();
  }

  close(): void {
    for (const f of [...this.feeds]) f.source.off?.('entries', f.listener);
    this.feeds.length = 0;
    this.owner = undefined;
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
    }));
  }

  private onEntries(feed: Feed, entries: ParsedEntry[]): void {
    let kept: ParsedEntry[];
    try {
      kept = feed.stream.filter(entries);
      let i = this.mayPutDirectly(feed) ? this.putDirectly(feed, kept) : 0;
      for (; i < kept.length; i++) feed.pending.push(storeItemFromEntry(kept[i]!));
    } catch (err) {
      const first = entries[0]?.position;
      const at = first === undefined ? '' : ` at ${first.file}:${first.offset}`;
      this.emit('error', new Error(`pump: entries from ${feed.name}${at} could not be filtered or encoded: ${(err as Error).message}`, { cause: err }));
      return;
    }
    // Entries put directly need no drain: nothing else was waiting for the store.
    if (feed.pending.length > feed.head) this.drain();
    if (feed.pending.length > feed.head && !feed.paused) {
      feed.paused = true;
      feed.pauses++;
      feed.source.pause();
    }
  }

  /**
   * The fast path applies when putting `feed`'s entries at once is what drain() would do: the
   * store has room, no source has anything queued, and no other source's transaction owns the store.
   */
  private mayPutDirectly(feed: Feed): boolean {
    if (this.store.tryPutEntry === undefined || this.storeFull || this.draining || feed.paused) return false;
    if (this.owner !== undefined && this.owner !== feed) return false;
    for (const f of this.feeds) if (f.pending.length > f.head) return false;
    return true;
  }

  /** Puts `kept` in order until the store refuses one; how many were put. Ownership and turns move as in putTurn. */
  private putDirectly(feed: Feed, kept: ParsedEntry[]): number {
    const store = this.store as Required<ItemTarget>;
    let i = 0;
    for (; i < kept.length; i++) {
      const e = kept[i]!;
      if (!store.tryPutEntry(e)) {
        this.storeFull = true;
        break;
      }
      feed.stored++;
      feed.lastStored = e.position;
      if (e.entryType === EntryType.TRANSACTIONBEGIN) {
        feed.inTransaction = true;
        this.owner = feed;
      } else if (e.entryType === EntryType.TRANSACTIONEND) {
        feed.inTransaction = false;
        if (this.owner === feed) this.owner = undefined;
      }
    }
    if (this.owner === undefined) this.turn = (this.feeds.indexOf(feed) + 1) % this.feeds.length;
    return i;
  }

  /** Puts what the store accepts, one turn per source between transactions, then resumes sources whose queue emptied. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      let idle = 0;
      while (!this.storeFull && this.feeds.length > 0 && idle < this.feeds.length) {
        const feed = this.owner ?? this.feeds[this.turn % this.feeds.length]!;
        const moved = this.putTurn(feed);
        if (this.owner === undefined) this.turn = (this.feeds.indexOf(feed) + 1) % this.feeds.length;
        else if (!moved) break; // the owner's transaction continues when its next entries arrive
        idle = moved ? 0 : idle + 1;
      }
    } finally {
      this.draining = false;
    }
    for (const f of this.feeds) {
      if (f.paused && f.pending.length === f.head) {
        f.paused = false;
        f.source.resume();
      }
    }
  }

  /** Puts one transaction (or one stand-alone entry) of `feed`, or as much as fits; true if anything moved. */
  private putTurn(feed: Feed): boolean {
    let moved = false;
    while (feed.head < feed.pending.length) {
      const item = feed.pending[feed.head]!;
      if (!this.store.tryPut(item)) {
        this.storeFull = true;
        break;
      }
      feed.head++;
      feed.stored++;
      feed.lastStored = item.position;
      moved = true;
      if (item.entryType === EntryType.TRANSACTIONBEGIN) {
        feed.inTransaction = true;
        this.owner = feed;
      } else if (item.entryType === EntryType.TRANSACTIONEND) {
        feed.inTransaction = false;
        if (this.owner === feed) this.owner = undefined;
      }
      if (!feed.inTransaction) break;
    }
    if (feed.head === feed.pending.length) {
      feed.pending.length = 0;
      feed.head = 0;
    } else if (feed.head > 1024) {
      feed.pending.splice(0, feed.head);
      feed.head = 0;
    }
    return moved;
  }
}
