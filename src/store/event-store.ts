// The per-instance ring of serialized entries between the sink and the consumer (docs/sink-and-store.md,
// Store and Batches). Three sequences move forward through it: put (next slot written), get (next
// entry handed out) and ack (first entry not yet released). Space is freed only by acks, so a
// consumer that stops acknowledging stops the parser through tryPut() returning false; nothing
// is ever dropped. One put (tryPut: an entry, encoded here or shared by reference) and one get
// (getBytes: each entry's bytes where the store keeps them).
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import { checkBatchId, type BatchIdProblem, type OutstandingBatches } from '../protocol/batch-ids.ts';
import { encodeEntryAt, encodeEntryScratch, releaseEncodeTarget } from '../protocol/entry-codec.ts';
import type { ProtoWriter } from '../protocol/proto-writer.ts';
import type { EntryPosition, ParsedEntry } from '../protocol/entry-model.ts';
import { ByteRing } from './byte-ring.ts';
import { EntrySlots } from './entry-slots.ts';
import { isIsolatedDdl, type StoreItem } from './store-item.ts';

export type BatchMode = 'ITEMSIZE' | 'MEMSIZE';

export interface EventStoreOptions {
  /** bound on entries held (put but not acked) */
  maxEntries: number;
  /** bound on serialized bytes held; one entry larger than this passes when the store is empty */
  maxBytes: number;
  /** ITEMSIZE: a batch is at most fetchSize entries; MEMSIZE (Canal's default): about fetchSize × memUnit bytes */
  batchMode?: BatchMode;
  /** bytes per fetch-size unit in MEMSIZE mode (Canal's default 1024) */
  memUnit?: number;
  /** a CREATE/ALTER/ERASE/RENAME/TRUNCATE/CINDEX/DINDEX always travels alone in its batch */
  ddlIsolation?: boolean;
}

export interface GetOptions {
  signal?: AbortSignal;
  /** a per-client filter: items it rejects are skipped but still covered (and acked) by the batch */
  filter?: (item: StoreItem) => boolean;
}

/** What an ack or a batch leaves behind once its items are gone: the positions it covered. */
export interface BatchRange {
  id: number;
  /** entries covered, including those a get-time filter skipped */
  covered: number;
  /** position of the first and last covered entry */
  start: EntryPosition;
  end: EntryPosition;
  /** the last transaction boundary (TRANSACTIONEND or DDL) inside the batch: where a cursor may move */
  ackPosition?: EntryPosition;
}

/**
 * A batch as getBytes() hands it out: each entry's bytes, valid until the batch is acknowledged;
 * may be empty when every covered entry was filtered out for this client.
 */
export interface BytesBatch extends BatchRange {
  entries: Uint8Array[];
}

export interface StoreStats {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  /** entries put but not yet handed out */
  unread: number;
  outstandingBatches: number;
  /** oldest outstanding batch id, the one the next ack must name */
  oldestBatchId?: number;
  nextBatchId: number;
  waitingGets: number;
  putSeq: number;
  getSeq: number;
  ackSeq: number;
}

export type { BatchIdProblem } from '../protocol/batch-ids.ts';

export class StoreError extends Error {
  constructor(
    message: string,
    /** Canal's ACK error code: 402 for batch id 0, 400 otherwise */
    readonly code: 400 | 402,
    /** the batch id an ack or rollback had to name, if any was outstanding */
    readonly expected: number | undefined,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** The Java client substitutes 1000 for a fetch size ≤ 0; canal-go passes 0 through. */
const DEFAULT_FETCH_SIZE = 1000;

/** Largest block the store copies entries into; a larger maxBytes lets the rest keep their own buffers. */
const MAX_RING_BYTES = 256 * 1024 * 1024;

/** See windowMin: its start, and the most it is raised to (a quarter of the ring at most). */
const WINDOW_MIN_BYTES = 64 * 1024;
const WINDOW_MIN_CAP_BYTES = 1024 * 1024;

interface BatchRecord extends BatchRange {
  startSeq: number;
  /** exclusive */
  endSeq: number;
}

/** A blocked get. Its scan of unread items advances with each put, so waiting costs O(new items). */
interface Waiter {
  size: number;
  filter: ((item: StoreItem) => boolean) | undefined;
  epoch: number;
  scanSeq: number;
  visibleCount: number;
  visibleBytes: number;
  /** an isolated DDL ends the batch: it cannot grow any further */
  cut: boolean;
  finish: (batch: BytesBatch | null) => void;
}

export class EventStore extends EventEmitter<{ space: [] }> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly batchMode: BatchMode;
  readonly memUnit: number;
  readonly ddlIsolation: boolean;

  private slots: EntrySlots;
  private mask: number;
  private readonly bytesRing: ByteRing;
  /** free bytes the ring must have in a row for an entry to be written into it in place; raised by entries that outgrow it */
  private windowMin: number;
  private readonly windowMinCap: number;
  private putSeq = 0;
  private getSeq = 0;
  private ackSeq = 0;
  private heldBytes = 0;
  private nextBatchId = 1;
  private readonly outstanding: BatchRecord[] = [];
  private readonly outstandingIds: OutstandingBatches = idsOf(this.outstanding);
  private readonly waiters: Waiter[] = [];
  /** bumped whenever the get cursor moves, which invalidates the waiters' scans */
  private epoch = 0;
  /** a put was refused since the last ack: the store cannot grow until a consumer acks */
  private refused = false;
  private closedReason: string | undefined;

  constructor(opts: EventStoreOptions) {
    super();
    positiveInteger('maxEntries', opts.maxEntries);
    positiveInteger('maxBytes', opts.maxBytes);
    if (opts.memUnit !== undefined) positiveInteger('memUnit', opts.memUnit);
    if (opts.batchMode !== undefined && opts.batchMode !== 'ITEMSIZE' && opts.batchMode !== 'MEMSIZE') {
      throw new RangeError(`EventStore batchMode must be ITEMSIZE or MEMSIZE, got ${JSON.stringify(opts.batchMode)}`);
    }
    this.maxEntries = opts.maxEntries;
    this.maxBytes = opts.maxBytes;
    this.batchMode = opts.batchMode ?? 'MEMSIZE';
    this.memUnit = opts.memUnit ?? 1024;
    this.ddlIsolation = opts.ddlIsolation ?? false;
    // Grown on demand up to the first power of two ≥ maxEntries, so a generous bound costs nothing until used.
    const initial = Math.min(1024, nextPowerOfTwo(this.maxEntries));
    this.slots = new EntrySlots(initial);
    this.mask = initial - 1;
    this.bytesRing = new ByteRing(Math.min(this.maxBytes, MAX_RING_BYTES));
    // Room for any usual entry (one larger is moved out by its writer and copied back), and for a
    // small ring a fraction of it, so in-place writes still happen there and are tested.
    this.windowMinCap = Math.max(1, Math.min(WINDOW_MIN_CAP_BYTES, this.bytesRing.capacity >> 2));
    this.windowMin = Math.min(WINDOW_MIN_BYTES, this.windowMinCap);
  }

  /**
   * Stores the entry, or returns false when it does not fit; the caller keeps it and retries on
   * 'space'. The store keeps the entry's Canal bytes and the few facts batching, filters and
   * cursors need (entry-slots.ts), never the entry. Without `encoded` the entry is encoded here,
   * straight into the byte ring's free bytes when it has a window of them (no copy at all), else
   * into the writer's scratch buffer and copied once, into the ring or a Buffer of its own when the
   * ring has no room. `encoded` is the entry's bytes made once for several stores (destinations
   * sharing a reader): they must never be written again, and the store keeps a reference, counted
   * against its byte bound like its own. A refused entry is not encoded when the entry bound alone
   * refuses it; one refused by the byte bound leaves only unclaimed garbage in the ring.
   */
  tryPut(e: ParsedEntry, encoded?: Uint8Array): boolean {
    if (this.closedReason !== undefined) return false;
    const count = this.putSeq - this.ackSeq;
    if (count >= this.maxEntries) {
      this.refuse();
      return false;
    }
    if (encoded !== undefined) {
      const size = encoded.byteLength;
      if (count > 0 && this.heldBytes + size > this.maxBytes) {
        this.refuse();
        return false;
      }
      if (count === this.slots.capacity) this.grow();
      this.slots.setEntry(this.putSeq & this.mask, e, -1, size, encoded);
      this.put(size);
      return true;
    }
    const ring = this.bytesRing;
    const win = ring.openWindow(this.windowMin);
    let w: ProtoWriter;
    let from: number;
    if (win !== undefined) {
      from = ring.windowStart;
      w = encodeEntryAt(e, win, ring.windowView, from);
    } else {
      from = 0;
      w = encodeEntryScratch(e);
    }
    const size = w.pos - from;
    if (count > 0 && this.heldBytes + size > this.maxBytes) {
      this.refuse();
      return false;
    }
    if (count === this.slots.capacity) this.grow();
    let at: number;
    if (w.buf === win && size > 0) at = ring.claim(size);
    else {
      // An entry that outgrew its window was moved (with the window's bytes before it) and is
      // copied again: windows keep room for twice its size from now on (large batched rows).
      if (win !== undefined) this.windowMin = Math.min(this.windowMinCap, Math.max(this.windowMin, size * 2));
      at = ring.placeFrom(w.buf, size, from);
    }
    let own: Buffer | undefined;
    if (at < 0) {
      own = Buffer.allocUnsafe(size);
      w.buf.copy(own, 0, from, from + size);
    }
    this.slots.setEntry(this.putSeq & this.mask, e, at, size, own);
    this.put(size);
    return true;
  }

  private refuse(): void {
    if (!this.refused) {
      this.refused = true;
      // A blocked get waiting for a fuller batch would now wait forever: let it take what there is.
      this.wakeWaiters();
    }
  }

  private put(size: number): void {
    this.putSeq++;
    this.heldBytes += size;
    if (this.waiters.length > 0) this.wakeWaiters();
  }

  /**
   * The next batch after the get cursor, as each entry's bytes (valid until the batch is
   * acknowledged). timeoutMs −1: return at once with what is there; 0 or any other value ≤ 0: wait
   * until a full batch is available; > 0: wait up to that long for a full batch, then return what
   * is there. Resolves null when nothing was available.
   */
  async getBytes(batchSize: number, timeoutMs: number, opts: GetOptions = {}): Promise<BytesBatch | null> {
    const { signal, filter } = opts;
    if (this.closedReason !== undefined) throw new StoreError(this.closedReason, 400, undefined);
    signal?.throwIfAborted();
    const size = batchSize > 0 ? Math.floor(batchSize) : DEFAULT_FETCH_SIZE;
    if (timeoutMs === -1) return this.take(size, filter);

    const waiter: Waiter = { size, filter, epoch: -1, scanSeq: 0, visibleCount: 0, visibleBytes: 0, cut: false, finish: () => {} };
    if (this.ready(waiter)) return this.take(size, filter);

    return await new Promise<BytesBatch | null>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason ?? new Error('get aborted'));
      };
      const cleanup = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      waiter.finish = (batch) => {
        cleanup();
        resolve(batch);
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          cleanup();
          resolve(this.take(size, filter));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * Releases the oldest outstanding batch and its entries. −1 is ignored (Canal's "empty batch");
   * 0 is error 402; any other id must be the oldest outstanding batch.
   */
  ack(batchId: number): BatchRange | undefined {
    const rec = this.checkOldest(batchId);
    if (rec === undefined) return undefined;
    this.outstanding.shift();
    let lastPlaced = -1;
    let lastPlacedLength = 0;
    for (let seq = this.ackSeq; seq < rec.endSeq; seq++) {
      const idx = seq & this.mask;
      const length = this.slots.bytesLength(idx);
      this.heldBytes -= length;
      if (this.slots.placement(idx) >= 0) {
        lastPlaced = this.slots.placement(idx);
        lastPlacedLength = length;
      }
      this.slots.clear(idx);
    }
    this.ackSeq = rec.endSeq;
    if (this.ackSeq === this.putSeq) this.bytesRing.reset();
    else if (lastPlaced >= 0) this.bytesRing.release(lastPlaced, lastPlacedLength);
    const freed = rec.endSeq > rec.startSeq;
    if (freed) this.refused = false;
    const range: BatchRange = { id: rec.id, covered: rec.covered, start: rec.start, end: rec.end };
    if (rec.ackPosition !== undefined) range.ackPosition = rec.ackPosition;
    if (freed) this.emit('space');
    return range;
  }

  /**
   * Drops outstanding batches and returns the get cursor to the ack cursor, so everything not
   * acknowledged is handed out again under new batch ids. No id or 0: all batches. N: N must be the
   * oldest outstanding batch (as Canal checks), and N and every newer batch are dropped (Canal
   * leaves the newer ones behind, which wedges clients). −1 is ignored like an ack of −1.
   * Returns how many batches were dropped.
   */
  rollback(batchId?: number): number {
    if (batchId === -1) return 0;
    if (batchId !== undefined && batchId !== 0) this.checkOldest(batchId);
    const dropped = this.outstanding.length;
    this.outstanding.length = 0;
    if (this.getSeq !== this.ackSeq) {
      this.getSeq = this.ackSeq;
      this.epoch++;
      if (this.waiters.length > 0) this.wakeWaiters();
    }
    return dropped;
  }

  stats(): StoreStats {
    const s: StoreStats = {
      entries: this.putSeq - this.ackSeq,
      bytes: this.heldBytes,
      maxEntries: this.maxEntries,
      maxBytes: this.maxBytes,
      unread: this.putSeq - this.getSeq,
      outstandingBatches: this.outstanding.length,
      nextBatchId: this.nextBatchId,
      waitingGets: this.waiters.length,
      putSeq: this.putSeq,
      getSeq: this.getSeq,
      ackSeq: this.ackSeq,
    };
    if (this.outstanding.length > 0) s.oldestBatchId = this.outstanding[0]!.id;
    return s;
  }

  /** Answers every waiting get with null (nothing) and refuses further puts and gets (instance shutdown). */
  close(reason = 'the store is closed'): void {
    this.closedReason = reason;
    // The shared writer may still point into this store's block (its last window).
    releaseEncodeTarget();
    for (const w of this.waiters.splice(0)) w.finish(null);
  }

  /**
   * The batch id rules (protocol/batch-ids.ts) against this store's outstanding batches: 'ignore'
   * for −1, why `batchId` may not be acknowledged or rolled back now, or undefined when it is the
   * oldest outstanding batch (the only one that may). The server's destinations put Canal's
   * messages on these answers.
   */
  batchIdProblem(batchId: number): BatchIdProblem | 'ignore' | undefined {
    return checkBatchId(batchId, this.outstandingIds);
  }

  /** The oldest outstanding batch when `batchId` names it; undefined for −1; a StoreError otherwise. */
  private checkOldest(batchId: number): BatchRecord | undefined {
    const p = this.batchIdProblem(batchId);
    if (p === 'ignore') return undefined;
    if (p !== undefined) {
      const also = p.oldest === undefined ? '; no batch is outstanding' : `; the oldest outstanding batch is batchId:${p.oldest}`;
      if (p.kind === 'zero') throw new StoreError(`batchId should assign value: batch id 0 is never valid${also}`, 402, p.oldest);
      if (p.kind === 'unknown') throw new StoreError(`batchId:${batchId} is not exist${also}`, 400, p.oldest);
      throw new StoreError(`batchId:${batchId} is not the firstly:${p.oldest}`, 400, p.oldest);
    }
    return this.outstanding[0]!;
  }

  private budget(size: number): number {
    return this.batchMode === 'ITEMSIZE' ? size : size * this.memUnit;
  }

  /** Whether a waiting get can be answered now: a full batch, a batch cut by an isolated DDL, or a store that cannot grow. */
  private ready(w: Waiter): boolean {
    if (w.epoch !== this.epoch) {
      w.epoch = this.epoch;
      w.scanSeq = this.getSeq;
      w.visibleCount = 0;
      w.visibleBytes = 0;
      w.cut = false;
    }
    const budget = this.budget(w.size);
    const byItems = this.batchMode === 'ITEMSIZE';
    while (!w.cut && (byItems ? w.visibleCount < budget : w.visibleBytes < budget) && w.scanSeq < this.putSeq) {
      const idx = w.scanSeq & this.mask;
      if (w.filter === undefined || w.filter(this.itemAt(idx))) {
        if (this.ddlIsolation && this.isolatedAt(idx)) {
          w.cut = true;
        } else {
          w.visibleCount++;
          w.visibleBytes += this.slots.bytesLength(idx);
        }
      }
      w.scanSeq++;
    }
    const full = w.cut || (byItems ? w.visibleCount >= budget : w.visibleBytes >= budget);
    return full || ((this.refused || this.putSeq - this.ackSeq >= this.maxEntries) && this.getSeq < this.putSeq);
  }

  private wakeWaiters(): void {
    // Called on every put while a get waits: the usual single waiter is served without copying the list.
    if (this.waiters.length === 1) {
      const w = this.waiters[0]!;
      if (!this.ready(w)) return;
      const batch = this.take(w.size, w.filter);
      if (batch !== null) w.finish(batch);
      return;
    }
    for (const w of [...this.waiters]) {
      if (!this.ready(w)) continue;
      const batch = this.take(w.size, w.filter);
      if (batch !== null) w.finish(batch);
    }
  }

  /** Forms the batch from the get cursor and records it as outstanding; null when nothing is unread. */
  private take(size: number, filter: ((item: StoreItem) => boolean) | undefined): BytesBatch | null {
    const start = this.getSeq;
    const budget = this.budget(size);
    const entries: Uint8Array[] = [];
    let taken = 0;
    let visibleBytes = 0;
    let lastBoundary = -1;
    let seq = start;
    while (seq < this.putSeq) {
      const idx = seq & this.mask;
      const item = filter === undefined ? undefined : this.itemAt(idx);
      const visible = item === undefined || filter!(item);
      const isolated = visible && this.ddlIsolation && this.isolatedAt(idx);
      if (visible) {
        if (taken > 0) {
          // MEMSIZE takes entries while the bytes so far are ≤ the budget: at most one entry of overshoot, as Canal.
          if (this.batchMode === 'ITEMSIZE' ? taken >= budget : visibleBytes > budget) break;
          if (isolated) break;
        }
        entries.push(item?.bytes ?? this.plainBytesAt(idx));
        taken++;
        visibleBytes += this.slots.bytesLength(idx);
      }
      if (this.slots.isBoundary(idx)) lastBoundary = idx;
      seq++;
      if (isolated) break;
    }
    if (seq === start) return null;
    const rec: BatchRecord = {
      id: this.nextBatchId++,
      startSeq: start,
      endSeq: seq,
      covered: seq - start,
      start: this.slots.position(start & this.mask),
      end: this.slots.position((seq - 1) & this.mask),
    };
    const ackPosition = lastBoundary >= 0 ? this.slots.position(lastBoundary) : undefined;
    if (ackPosition !== undefined) rec.ackPosition = ackPosition;
    this.outstanding.push(rec);
    this.getSeq = seq;
    this.epoch++;
    const batch: BytesBatch = { id: rec.id, covered: rec.covered, start: rec.start, end: rec.end, entries };
    if (ackPosition !== undefined) batch.ackPosition = ackPosition;
    return batch;
  }

  /** The item in slot `idx` as it was put, its bytes wherever the store keeps them. */
  private itemAt(idx: number): StoreItem {
    return this.slots.item(idx, this.bytesAt(idx));
  }

  private bytesAt(idx: number): Uint8Array {
    const at = this.slots.placement(idx);
    return at >= 0 ? this.bytesRing.view(at, this.slots.bytesLength(idx)) : this.slots.ownBytes(idx)!;
  }

  /** bytesAt() for getBytes: ring bytes as a plain Uint8Array view. */
  private plainBytesAt(idx: number): Uint8Array {
    const at = this.slots.placement(idx);
    return at >= 0 ? this.bytesRing.plainView(at, this.slots.bytesLength(idx)) : this.slots.ownBytes(idx)!;
  }

  private isolatedAt(idx: number): boolean {
    const facts = this.slots.ddlFacts(idx);
    return facts !== undefined && isIsolatedDdl(facts);
  }

  private grow(): void {
    this.slots = this.slots.grown(this.ackSeq, this.putSeq);
    this.mask = this.slots.capacity - 1;
  }
}

/** The batch id checks' view of a list of outstanding batches (oldest first), kept up to date as it changes. */
function idsOf(list: readonly BatchRecord[]): OutstandingBatches {
  return {
    get oldest() {
      return list[0]?.id;
    },
    has: (id) => list.some((b) => b.id === id),
  };
}

function positiveInteger(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`EventStore ${name} must be a positive integer, got ${v}`);
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
