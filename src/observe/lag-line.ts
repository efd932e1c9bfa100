// The line on-call watches: every lagIntervalMs, one info line per instance saying where it has
// read to, how far behind the source it is (in time and in bytes) and how full its store is.
import type { Logger } from 'pino';
import { bytesBehind, type BinlogFileSize, type InstanceStatsSource } from './instance-stats.ts';

export interface LagFields {
  state: string;
  file: string | null;
  offset: number | null;
  gtid: string | null;
  /** now minus the source timestamp of the last event read; null before the first event */
  delayMs: number | null;
  /** source's binlog end minus the read position, across files; null when it could not be asked */
  bytesBehind: number | null;
  storeEntries: number;
  storeMaxEntries: number;
  storeBytes: number;
  storeMaxBytes: number;
  outstandingBatches: number;
  clients: number;
  error?: string;
  probeError?: string;
  /** in a cluster: active or standby, and who is active */
  role?: 'active' | 'standby';
  activeServer?: string | null;
}

interface Watched {
  source: InstanceStatsSource;
  logger: Logger;
  probe: (() => Promise<BinlogFileSize[]>) | undefined;
  lastBytesBehind: number | undefined;
}

export interface LagReporterOptions {
  intervalMs: number;
  now?: () => number;
}

export class LagReporter {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: LagReporterOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** `probe` lists the source's binlogs when the source itself does not implement binaryLogs(). */
  add(source: InstanceStatsSource, logger: Logger, probe?: () => Promise<BinlogFileSize[]>): void {
    const p = probe ?? (source.binaryLogs ? () => source.binaryLogs!() : undefined);
    this.watched.set(source.destination, { source, logger, probe: p, lastBytesBehind: undefined });
  }

  remove(destination: string): void {
    this.watched.delete(destination);
  }

  /** The bytes-behind figure of the last report, for metrics. */
  lastBytesBehind(destination: string): number | undefined {
    return this.watched.get(destination)?.lastBytesBehind;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      // A slow source must not pile up probes: skip a tick while the last one runs.
      if (this.running) return;
      this.running = this.reportOnce().finally(() => {
        this.running = undefined;
      });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Computes and logs the line of every instance once. */
  async reportOnce(): Promise<void> {
    await Promise.all([...this.watched.values()].map((w) => this.report(w)));
  }

  /** The fields of one instance's line (exported for status pages and tests). */
  async fields(w: Pick<Watched, 'source' | 'probe'>): Promise<LagFields> {
    const s = w.source.stats();
    let behind: number | undefined;
    let probeError: string | undefined;
    if (w.probe && s.file !== undefined) {
      try {
        behind = bytesBehind(s.file, s.offset, await w.probe());
        if (behind === undefined) probeError = `${s.file} is not in the source's SHOW BINARY LOGS`;
      } catch (err) {
        probeError = `SHOW BINARY LOGS failed: ${(err as Error).message}`;
      }
    }
    const f: LagFields = {
      state: s.state,
      file: s.file ?? null,
      offset: s.offset ?? null,
      gtid: s.gtid ?? null,
      delayMs: s.lastEventTimestamp === undefined ? null : Math.max(0, this.now() - s.lastEventTimestamp),
      bytesBehind: behind ?? null,
      storeEntries: s.store.entries,
      storeMaxEntries: s.store.maxEntries,
      storeBytes: s.store.bytes,
      storeMaxBytes: s.store.maxBytes,
      outstandingBatches: s.outstandingBatches,
      clients: s.clients,
    };
    if (s.error !== undefined) f.error = s.error;
    if (s.ha !== undefined) {
      f.role = s.ha.role;
      f.activeServer = s.ha.activeServer;
    }
    if (probeError !== undefined) f.probeError = probeError;
    return f;
  }

  private async report(w: Watched): Promise<void> {
    let f: LagFields;
    try {
      f = await this.fields(w);
    } catch (err) {
      w.logger.warn({ err }, 'lag line could not be computed');
      return;
    }
    w.lastBytesBehind = f.bytesBehind ?? undefined;
    w.logger.info(f, 'lag');
  }
}
