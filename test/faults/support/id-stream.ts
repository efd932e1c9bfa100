// A background consumer for the source-fault tests: pulls with the real client, acks every
// batch, and records the `id` of each inserted row of one table in arrival order.
import type { CanalClient } from '../../../src/client/canal-client.ts';

export class IdCollector {
  readonly ids: number[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  error: Error | undefined;

  constructor(
    private readonly c: CanalClient,
    private readonly table: string,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const b = await this.c.getWithoutAck(200, 200);
          if (b.id === -1) continue;
          for (const e of b) if (e.tableName === this.table && e.eventType === 'INSERT') for (const r of e.rows) this.ids.push(Number(r.after.id));
          await this.c.ack(b.id);
        } catch (err) {
          // The instance is allowed to refuse while it is not running; anything else is a failure.
          if (!/is (starting|retrying)/.test((err as Error).message)) {
            this.error = err as Error;
            return;
          }
        }
      }
    })();
  }

  /** Distinct ids in the order they first arrived. */
  firstArrivals(): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    for (const id of this.ids) if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
