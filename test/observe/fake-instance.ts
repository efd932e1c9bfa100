// A stand-in instance for observability tests: stats are plain fields the test sets.
import type { InstanceStats, InstanceStatsSource } from '../../src/observe/instance-stats.ts';

export function baseStats(over: Partial<InstanceStats> = {}): InstanceStats {
  return {
    state: 'running',
    file: 'binlog.000002',
    offset: 1000,
    gtid: '0-1-42',
    lastEventTimestamp: 1_700_000_000_000,
    events: 120,
    rows: 300,
    bytes: 45_000,
    reconnects: 1,
    errors: 2,
    batches: 10,
    acks: 9,
    rollbacks: 1,
    store: { entries: 5, bytes: 2048, maxEntries: 16384, maxBytes: 67108864 },
    outstandingBatches: 1,
    clients: 1,
    ...over,
  };
}

export class FakeInstance implements InstanceStatsSource {
  constructor(
    readonly destination: string,
    public current: InstanceStats = baseStats(),
  ) {}
  stats(): InstanceStats {
    return this.current;
  }
}
