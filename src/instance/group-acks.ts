// Which source each acknowledged boundary of a group destination came from. The pump reports
// every entry the store accepts (onStored), in store order; the store's acks free entries in
// that same order, so after each ack the store's ack sequence says how many of the reported
// entries are acknowledged, and each source's last acknowledged boundary is its cursor part.
// The store's own ackPosition (the batch's last boundary, whichever source it came from) is not
// enough: a batch's last boundary names one source only.
import type { EntryPosition } from '../protocol/entry-model.ts';
import type { BatchStore } from './store-destination.ts';
import type { EventStore } from '../store/event-store.ts';
import type { StoreItem } from '../store/store-item.ts';

interface Boundary {
  seq: number;
  source: string;
  position: EntryPosition;
}

export class GroupAcks {
  private putSeq = 0;
  private readonly boundaries: Boundary[] = [];
  private head = 0;
  private readonly acked = new Map<string, EntryPosition>();

  constructor(private readonly store: EventStore) {}

  /** Pump onStored hook: the store accepted an entry of `source`. */
  readonly stored = (source: string, position: EntryPosition, boundary: boolean): void => {
    if (boundary) this.boundaries.push({ seq: this.putSeq, source, position });
    this.putSeq++;
  };

  /** Each source's last acknowledged boundary. */
  positions(): ReadonlyMap<string, EntryPosition> {
    return this.acked;
  }

  /** The store as the destination sees it, with acks moving the per-source positions. */
  batchStore(): BatchStore<StoreItem> {
    const store = this.store;
    return {
      getBytes: (size, timeout, opts) => store.getBytes(size, timeout, opts),
      rollback: (id) => store.rollback(id),
      batchIdProblem: (id) => store.batchIdProblem(id),
      stats: () => store.stats(),
      ack: (id) => {
        const r = store.ack(id);
        this.advance(store.stats().ackSeq);
        return r;
      },
    };
  }

  private advance(ackSeq: number): void {
    const list = this.boundaries;
    while (this.head < list.length && list[this.head]!.seq < ackSeq) {
      const b = list[this.head++]!;
      this.acked.set(b.source, b.position);
    }
    if (this.head > 1024 && this.head * 2 > list.length) {
      list.splice(0, this.head);
      this.head = 0;
    }
  }
}
