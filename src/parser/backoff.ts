// Capped exponential backoff between reconnect attempts; reset once a stream runs again.
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** Counts an attempt and returns how long to wait before it. */
  next(): { attempt: number; delayMs: number } {
    this.attempt++;
    return { attempt: this.attempt, delayMs: Math.min(this.maxMs, this.initialMs * 2 ** (this.attempt - 1)) };
  }

  reset(): void {
    this.attempt = 0;
  }
}
