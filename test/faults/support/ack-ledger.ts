// What a consumer can hold sluice to about acknowledgements: ACK has no reply, so an ack counts
// as kept once a later reply arrives on the same connection (sluice makes the cursor durable
// before it answers). From then on none of that batch's entries may come again, after any crash,
// and each new session must begin with the first entry not acknowledged. Entries are keyed by
// their binlog event (file:offset): every event makes at most one entry.
import type { CanalBatch } from '../../../src/client/entry.ts';

function keyOf(e: { logfileName: string; logfileOffset: number }): string {
  return `${e.logfileName}:${e.logfileOffset}`;
}

export class AckLedger {
  /** entries whose ack a later reply confirmed */
  private readonly acked = new Set<string>();
  /** every distinct entry in the order it first arrived */
  private readonly order: string[] = [];
  private readonly seen = new Set<string>();
  /** entries of acks sent but not yet confirmed by a reply */
  private unconfirmed: string[] = [];
  /** entries whose ack was sent but never confirmed before a crash: they may or may not come again */
  private readonly uncertain = new Set<string>();
  private sessionStart = true;
  private readonly violations: string[] = [];
  /** confirmed-acked entries delivered again */
  repeats = 0;
  sessions = 0;

  /** A GET reply arrived (empty or not): earlier acks of this connection held. */
  reply(batch: CanalBatch): void {
    for (const k of this.unconfirmed) this.acked.add(k);
    this.unconfirmed = [];
    if (batch.id === -1) return;
    let i = 0;
    for (const e of batch) {
      const k = keyOf(e);
      if (this.sessionStart && i === 0) this.checkFirst(k);
      i++;
      if (this.acked.has(k)) {
        this.repeats++;
        this.violations.push(`${k} was acknowledged (and the ack confirmed) yet came again`);
      }
      if (!this.seen.has(k)) {
        this.seen.add(k);
        this.order.push(k);
      }
    }
    this.sessionStart = false;
  }

  /** The batch is being acknowledged. */
  ack(batch: CanalBatch): void {
    for (const e of batch) this.unconfirmed.push(keyOf(e));
  }

  /** The consumer reconnects to a restarted sluice. */
  newSession(): void {
    for (const k of this.unconfirmed) this.uncertain.add(k);
    this.unconfirmed = [];
    this.sessionStart = true;
    this.sessions++;
  }

  get ackedCount(): number {
    return this.acked.size;
  }

  problems(): string[] {
    return [...this.violations];
  }

  /** The first entry of a session must be the first one not acknowledged (when that is known). */
  private checkFirst(k: string): void {
    if (this.order.length === 0) return;
    const expected = this.order.find((x) => !this.acked.has(x) && !this.uncertain.has(x));
    const uncertainPending = this.order.some((x) => this.uncertain.has(x) && !this.acked.has(x));
    if (uncertainPending) return;
    if (expected !== undefined ? k !== expected : this.seen.has(k)) {
      this.violations.push(`session ${this.sessions} began at ${k}, expected ${expected ?? 'the first entry after the last acknowledged one'}`);
    }
  }
}
