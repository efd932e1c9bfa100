// A Destination over one instance's EventStore: the single-consumer hold, subscriptions (with
// hooks so the instance can persist them), per-client narrowing filters, the state gate, and
// Canal's exact ack/rollback checks and messages.
import { checkBatchId, type BatchIdProblem } from '../protocol/batch-ids.ts';
import { cursorFromEntry, type EntryPosition, type LogPosition } from '../protocol/entry-model.ts';
import { silentLogger, type ServerLogger } from '../observe/server-logger.ts';
import { DestinationError, type Destination, type DestinationBatch, type DestinationStatus, type Subscriber } from './destination.ts';

/** The item shape the destination needs from the store: its serialized Entry bytes. */
export interface StoredBytes {
  bytes: Uint8Array;
}

/** Where a batch ends: the cursor its ack persists (see StoreDestinationOptions.onAck). */
interface BatchEnds {
  ackPosition?: EntryPosition;
  end?: EntryPosition;
}

/**
 * What StoreDestination uses of src/store/event-store.ts (structurally). The store is the one
 * keeper of outstanding batches and of the batch id rules; the destination only words its
 * answers as Canal does.
 */
export interface BatchStore<I extends StoredBytes> {
  /** the next batch as entry bytes only (EventStore builds no item per entry): the one read path a destination uses */
  getBytes(batchSize: number, timeoutMs: number, opts?: { signal?: AbortSignal; filter?: (item: I) => boolean }): Promise<({ id: number; entries: Uint8Array[] } & BatchEnds) | null>;
  /** releases the oldest outstanding batch; returns where it ended */
  ack(batchId: number): BatchEnds | undefined;
  rollback(batchId?: number): unknown;
  /** checkBatchId (protocol/batch-ids.ts) against the store's outstanding batches */
  batchIdProblem(batchId: number): BatchIdProblem | 'ignore' | undefined;
  stats(): { outstandingBatches: number };
}

export interface PersistedSubscription {
  clientId: string;
  filter: string;
}

export interface StoreDestinationOptions<I extends StoredBytes> {
  name: string;
  store: BatchStore<I>;
  /** the instance's lifecycle state, read on every subscribe and get */
  status: () => DestinationStatus;
  /** subscriptions restored from meta.dat: these clients count as subscribed before they send SUB */
  subscriptions?: Iterable<PersistedSubscription>;
  /**
   * Builds the per-client narrowing predicate from a subscription filter (EventSink.narrow).
   * Called only for non-empty filters; throws (with a message naming the filter) when it does not
   * compile. Without it, a non-empty client filter is refused rather than silently ignored.
   */
  narrow?: (clientFilter: string) => (item: I) => boolean;
  onSubscribe?: (clientId: string, filter: string) => void;
  onUnsubscribe?: (clientId: string) => void;
  /**
   * A batch was acknowledged: the cursor to persist, right after its last covered entry (inside a
   * transaction too: see cursorFromEntry). Stores that report no batch end fall back to the batch's
   * last transaction boundary, and batches without one move nothing.
   */
  onAck?: (clientId: string, cursor: LogPosition, position: EntryPosition) => void;
  /** resolves once every cursor passed to onAck so far is kept (the reply to the next GET waits for it) */
  durable?: () => Promise<void>;
  /** the instance's child logger, which already carries `destination` (so lines here do not repeat it) */
  logger?: ServerLogger;
}

/** States in which the store is served. A retrying parser still leaves buffered data to consume. */
const SERVING: ReadonlySet<string> = new Set(['running', 'degraded', 'retrying']);

export class StoreDestination<I extends StoredBytes> implements Destination {
  readonly name: string;
  private readonly store: BatchStore<I>;
  private readonly opts: StoreDestinationOptions<I>;
  private readonly log: ServerLogger;
  private readonly subscriptions = new Map<string, { filter: string; predicate: ((item: I) => boolean) | undefined }>();
  private holder: Subscriber | undefined;

  constructor(opts: StoreDestinationOptions<I>) {
    this.name = opts.name;
    this.store = opts.store;
    this.opts = opts;
    this.log = opts.logger ?? silentLogger;
    for (const s of opts.subscriptions ?? []) {
      // A persisted filter that no longer compiles must not stop the instance: the client's next
      // SUB replaces it, and until then it sees everything the server's own filters let through.
      let predicate: ((item: I) => boolean) | undefined;
      try {
        predicate = this.compile(s.filter);
      } catch (err) {
        this.log.warn({ clientId: s.clientId, filter: s.filter, err: String(err) }, 'persisted subscription filter ignored');
      }
      this.subscriptions.set(s.clientId, { filter: s.filter, predicate });
    }
  }

  status(): DestinationStatus {
    return this.opts.status();
  }

  /** Who consumes this destination right now, if anyone. */
  currentHolder(): Subscriber | undefined {
    return this.holder;
  }

  subscribe(sub: Subscriber, filter: string): void {
    this.gate();
    this.claim(sub);
    const predicate = this.compile(filter);
    this.subscriptions.set(sub.clientId, { filter, predicate });
    this.holder = sub;
    this.log.info(
      { clientId: sub.clientId, peer: sub.peer, clientFilter: filter, effectiveFilter: filter === '' ? 'server filters only' : `server filters, narrowed by ${filter}` },
      'client subscribed',
    );
    this.opts.onSubscribe?.(sub.clientId, filter);
  }

  unsubscribe(sub: Subscriber): void {
    this.claim(sub);
    this.subscriptions.delete(sub.clientId);
    // What this client had outstanding goes back to the store for whoever subscribes next.
    this.rewindAll();
    this.holder = undefined;
    this.log.info({ clientId: sub.clientId, peer: sub.peer }, 'client unsubscribed');
    this.opts.onUnsubscribe?.(sub.clientId);
  }

  isSubscribed(clientId: string): boolean {
    return this.subscriptions.has(clientId);
  }

  async get(sub: Subscriber, fetchSize: number, timeoutMs: number, signal: AbortSignal): Promise<DestinationBatch> {
    this.gate();
    const subscription = this.requireSubscription(sub);
    this.claim(sub);
    this.holder = sub;
    const storeTimeout = timeoutMs === -1 ? -1 : timeoutMs <= 0 ? 0 : timeoutMs;
    const getOpts: { signal: AbortSignal; filter?: (item: I) => boolean } = { signal };
    if (subscription.predicate !== undefined) getOpts.filter = subscription.predicate;
    const batch = await this.store.getBytes(fetchSize, storeTimeout, getOpts);
    if (batch === null) return { batchId: -1, entries: [] };
    if (this.holder?.sessionId !== sub.sessionId) {
      // The connection went away while the store was answering: nobody will ack this batch.
      if (this.holder === undefined) this.rewindAll();
      throw new DestinationError(`destination:${this.name}: connection of clientId:${sub.clientId} closed during GET`);
    }
    return { batchId: batch.id, entries: batch.entries };
  }

  /** Resolves once the cursors of every ack so far are kept (see StoreDestinationOptions.durable). */
  async durable(): Promise<void> {
    await this.opts.durable?.();
  }

  ack(sub: Subscriber, batchId: number): void {
    const rule = checkBatchId(batchId);
    if (rule === 'ignore') return;
    if (rule !== undefined) throw new DestinationError(`batchId should assign value. Ack: destination:${this.name} clientId:${sub.clientId} batchId:${batchId}`, 402);
    this.requireSubscription(sub);
    const missing = `ack error , clientId:${sub.clientId} batchId:${batchId} is not exist , please check`;
    if (this.isForeign(sub)) {
      this.answerForeign(sub, 'ack', batchId, missing);
      return;
    }
    this.claim(sub);
    this.checkOldest(batchId, missing);
    const ends = this.store.ack(batchId);
    const pos = ends?.end ?? ends?.ackPosition;
    if (pos !== undefined) this.opts.onAck?.(sub.clientId, cursorFromEntry(pos), pos);
  }

  rollback(sub: Subscriber, batchId: number): void {
    // Every official client sends rollback(0) on connect, often before SUB: not subscribed is a no-op.
    if (!this.subscriptions.has(sub.clientId)) return;
    const missing = `rollback error, clientId:${sub.clientId} batchId:${batchId} is not exist , please check`;
    if (this.isForeign(sub)) {
      if (batchId !== 0) this.answerForeign(sub, 'rollback', batchId, missing);
      else this.log.warn({ clientId: sub.clientId, peer: sub.peer, holder: this.holder?.peer }, 'rollback(0) from a connection that does not hold the destination ignored');
      return;
    }
    this.claim(sub);
    this.holder = sub;
    if (batchId !== 0) this.checkOldest(batchId, missing);
    // Rollback(N) drops N and every newer batch (N is the oldest): the same as rolling back all.
    this.rewindAll();
  }

  release(sub: Subscriber): void {
    if (this.holder?.sessionId !== sub.sessionId) return;
    const dropped = this.store.stats().outstandingBatches;
    this.rewindAll();
    this.holder = undefined;
    this.log.info({ clientId: sub.clientId, peer: sub.peer, rolledBackBatches: dropped }, 'consumer released');
  }

  private gate(): void {
    const st = this.opts.status();
    if (!SERVING.has(st.state)) {
      throw new DestinationError(`destination:${this.name} is ${st.state}${st.error !== undefined && st.error !== '' ? ` (${st.error})` : ''}; it serves clients only while running`);
    }
  }

  private requireSubscription(sub: Subscriber): { filter: string; predicate: ((item: I) => boolean) | undefined } {
    const s = this.subscriptions.get(sub.clientId);
    if (s === undefined) throw new DestinationError(`clientId:${sub.clientId} should subscribe to destination:${this.name} first`);
    return s;
  }

  /** Another connection (or another client id on this one) holds the destination. */
  private isForeign(sub: Subscriber): boolean {
    const h = this.holder;
    return h !== undefined && (h.sessionId !== sub.sessionId || h.clientId !== sub.clientId);
  }

  /**
   * ACK and ROLLBACK have no reply on success, so refusing them with an error would put every later
   * reply of that client one request late. A non-holder gets exactly the reply Canal would give
   * (its batch checks against the batches of that client identity; nothing on success) and the
   * holder's batches are left alone; the refusal is left to its SUB or GET, which expect a reply.
   */
  private answerForeign(sub: Subscriber, what: 'ack' | 'rollback', batchId: number, missing: string): void {
    // A different client id has no batches of its own here: every id is unknown to it.
    if (this.holder?.clientId !== sub.clientId) throw new DestinationError(missing);
    this.checkOldest(batchId, missing);
    this.log.warn({ clientId: sub.clientId, peer: sub.peer, holder: this.holder?.peer, batchId }, `${what} from a connection that does not hold the destination ignored`);
  }

  /** One consumer per destination: a connection other than the holder is refused, naming the holder. */
  private claim(sub: Subscriber): void {
    const h = this.holder;
    if (h === undefined) return;
    if (h.sessionId !== sub.sessionId) {
      throw new DestinationError(
        `destination:${this.name} is already consumed by clientId:${h.clientId} from ${h.peer}; sluice allows one consumer per destination (it is released when that connection closes)`,
      );
    }
    if (h.clientId !== sub.clientId) {
      throw new DestinationError(`this connection already consumes destination:${this.name} as clientId:${h.clientId}; it cannot also use clientId:${sub.clientId}`);
    }
  }

  /**
   * The store's batch id rules, in Canal's words (an ack of −1 and a rollback of 0 are answered
   * before this). A rollback of −1 names no batch: Canal answers it as a batch that does not exist.
   */
  private checkOldest(batchId: number, missing: string): void {
    const p = this.store.batchIdProblem(batchId);
    if (p === undefined) return;
    if (p !== 'ignore' && p.kind === 'not-oldest') throw new DestinationError(`batchId:${batchId} is not the firstly:${p.oldest}`);
    throw new DestinationError(missing);
  }

  private rewindAll(): void {
    this.store.rollback(0);
  }

  private compile(filter: string): ((item: I) => boolean) | undefined {
    if (filter === '') return undefined;
    if (this.opts.narrow === undefined) throw new DestinationError(`destination:${this.name} does not support client filters (got ${JSON.stringify(filter)}); subscribe with an empty filter`);
    try {
      return this.opts.narrow(filter);
    } catch (err) {
      throw new DestinationError(`invalid subscription filter ${JSON.stringify(filter)} for destination:${this.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
