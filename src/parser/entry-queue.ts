// Entries decoded while the consumer is paused, held in stream order until it resumes; counts
// what is held and the most ever held, so a broken bound shows in stats and logs.
import type { ParsedEntry } from '../protocol/entry-model.ts';

export class EntryQueue {
  private batches: ParsedEntry[][] = [];
  private count = 0;
  private most = 0;

  get size(): number {
    return this.count;
  }

  get maxSeen(): number {
    return this.most;
  }

  get empty(): boolean {
    return this.batches.length === 0;
  }

  push(batch: ParsedEntry[]): void {
    this.batches.push(batch);
    this.count += batch.length;
    if (this.count > this.most) this.most = this.count;
  }

  shift(): ParsedEntry[] | undefined {
    const batch = this.batches.shift();
    if (batch !== undefined) this.count -= batch.length;
    return batch;
  }
}
