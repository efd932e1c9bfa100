// Decides when a source counts as lost rather than briefly unreachable. The stream's own
// supervision reconnects with backoff; this only watches it: a loss is a run of failed reconnects
// (the drop itself does not count) or a span with nothing received, whichever limit comes first.
// A stream that runs again clears both.

export interface LossLimits {
  /** failed reconnect attempts in a row (after the drop) that make a loss */
  afterFailedReconnects: number;
  /** ms without any event or heartbeat, while not running, that make a loss */
  afterSilenceMs: number;
}

export interface LossVerdict {
  lost: boolean;
  /** why, for the switch log line */
  reason: string;
  failedReconnects: number;
  silentMs: number;
}

export class LossDetector {
  /** failures since the stream last ran; the first is the drop, the rest are failed reconnects */
  private failures = 0;
  private lastSeen: number;

  constructor(
    private readonly limits: LossLimits,
    now: number,
  ) {
    this.lastSeen = now;
  }

  /** The stream is running again (or something arrived): nothing is lost. */
  alive(at: number): void {
    this.failures = 0;
    this.seen(at);
  }

  /** Something arrived at `at` (an event or heartbeat). */
  seen(at: number): void {
    if (at > this.lastSeen) this.lastSeen = at;
  }

  /** One connection failure (the drop, or a reconnect that did not get the stream going). */
  failure(now: number): LossVerdict {
    this.failures++;
    return this.verdict(now);
  }

  verdict(now: number): LossVerdict {
    const failedReconnects = Math.max(0, this.failures - 1);
    const silentMs = Math.max(0, now - this.lastSeen);
    if (this.failures > 0 && failedReconnects >= this.limits.afterFailedReconnects) {
      return { lost: true, reason: `${failedReconnects} reconnects failed in a row (failover.afterFailedReconnects ${this.limits.afterFailedReconnects})`, failedReconnects, silentMs };
    }
    if (this.failures > 0 && silentMs >= this.limits.afterSilenceMs) {
      return { lost: true, reason: `nothing received for ${silentMs} ms while reconnecting (failover.afterSilenceMs ${this.limits.afterSilenceMs})`, failedReconnects, silentMs };
    }
    return { lost: false, reason: '', failedReconnects, silentMs };
  }
}
