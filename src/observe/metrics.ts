// Prometheus metrics on sluice's own registry (so tests and embedders never collide with the
// global one). Values are read from each instance's stats() at scrape time: the data path does
// no metric bookkeeping of its own beyond the counters it already keeps.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DestinationStateName } from './destination-status.ts';
import type { InstanceStats, InstanceStatsSource } from './instance-stats.ts';

export const STATES: readonly DestinationStateName[] = ['starting', 'running', 'degraded', 'retrying', 'failed', 'stopped', 'standby'];

export interface MetricsOptions {
  /** bytes behind the source per destination (from the lag reporter), when known */
  bytesBehind?: (destination: string) => number | undefined;
  /** process metrics (CPU, memory, event loop) with the sluice_ prefix; on by default */
  processMetrics?: boolean;
  now?: () => number;
}

type Read = (s: InstanceStats) => number | undefined;

export class SluiceMetrics {
  readonly registry = new Registry();
  private readonly sources = new Map<string, InstanceStatsSource>();
  private readonly now: () => number;

  constructor(private readonly opts: MetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    this.defineState();
    this.counter('sluice_binlog_events_total', 'Binlog events read from the source', (s) => s.events);
    this.counter('sluice_binlog_rows_total', 'Row images read from the source', (s) => s.rows);
    this.counter('sluice_binlog_bytes_total', 'Binlog bytes read from the source', (s) => s.bytes);
    this.counter('sluice_batches_total', 'Batches handed to clients', (s) => s.batches);
    this.counter('sluice_acks_total', 'Batches acknowledged by clients', (s) => s.acks);
    this.counter('sluice_rollbacks_total', 'Rollbacks requested by clients', (s) => s.rollbacks);
    this.counter('sluice_reconnects_total', 'Reconnections to the source', (s) => s.reconnects);
    this.counter('sluice_statement_dml_total', 'Row changes read as statements without rows (the source binlog_format is STATEMENT or MIXED)', (s) => s.statementDml ?? 0);
    this.counter('sluice_source_switches_total', 'Switches from the source to its standby (instances with a standby)', (s) => s.sourceSwitches);
    this.gauge('sluice_source_standby', 'Whether the instance reads its standby (1) or its source (0); instances with a standby only', (s) =>
      s.source === undefined ? undefined : s.source.role === 'standby' ? 1 : 0,
    );
    this.counter('sluice_errors_total', 'Errors seen by the instance (source, store, client and cursor file errors)', (s) => s.errors);
    this.counter('sluice_cursor_write_errors_total', 'Failed writes of the cursor file (meta.dat); retried every flush interval', (s) => s.cursorWriteErrors ?? 0);
    this.gauge('sluice_delay_ms', 'Now minus the source timestamp of the last event read', (s) =>
      s.lastEventTimestamp === undefined ? undefined : Math.max(0, this.now() - s.lastEventTimestamp),
    );
    this.gauge('sluice_store_entries', 'Entries held in the store (not yet acknowledged)', (s) => s.store.entries);
    this.gauge('sluice_store_bytes', 'Bytes held in the store', (s) => s.store.bytes);
    this.gauge('sluice_store_capacity_entries', 'Store capacity in entries', (s) => s.store.maxEntries);
    this.gauge('sluice_store_capacity_bytes', 'Store capacity in bytes', (s) => s.store.maxBytes);
    this.gauge('sluice_outstanding_batches', 'Batches handed out and not yet acknowledged', (s) => s.outstandingBatches);
    this.gauge('sluice_clients', 'Connected clients subscribed to the destination', (s) => s.clients);
    this.gauge('sluice_read_offset_bytes', 'Offset read in the current binlog file', (s) => s.offset);
    this.gauge('sluice_ha_active', 'In a ZooKeeper cluster: 1 while this server is the active one for the destination, 0 on standby', (s) =>
      s.ha === undefined ? undefined : s.ha.role === 'active' ? 1 : 0,
    );
    this.gauge('sluice_zookeeper_connected', "In a ZooKeeper cluster: 1 while this server's session is connected with a valid lease", (s) =>
      s.ha === undefined ? undefined : s.ha.zookeeper === 'connected' ? 1 : 0,
    );
    this.defineActiveServer();
    this.defineSnapshots();
    const behind = opts.bytesBehind;
    if (behind) {
      this.perSource('sluice_bytes_behind', 'Source binlog end minus the read position, across files (as of the last lag line)', (g, src) => {
        const v = behind(src.destination);
        if (v !== undefined) g.set({ destination: src.destination }, v);
      });
    }
  }

  add(source: InstanceStatsSource): void {
    this.sources.set(source.destination, source);
  }

  remove(destination: string): void {
    this.sources.delete(destination);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return await this.registry.metrics();
  }

  private defineState(): void {
    const sources = this.sources;
    new Gauge({
      name: 'sluice_instance_state',
      help: 'Instance lifecycle state: 1 for the current state, 0 for the others',
      labelNames: ['destination', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const src of sources.values()) {
          const cur = src.stats().state;
          for (const st of STATES) this.set({ destination: src.destination, state: st }, st === cur ? 1 : 0);
        }
      },
    });
  }

  private defineActiveServer(): void {
    const sources = this.sources;
    new Gauge({
      name: 'sluice_ha_active_server',
      help: 'In a ZooKeeper cluster: 1 for the server that holds the destination now (as this server sees it)',
      labelNames: ['destination', 'server'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const src of sources.values()) {
          const active = src.stats().ha?.activeServer;
          if (active) this.set({ destination: src.destination, server: active }, 1);
        }
      },
    });
  }

  /** Per destination and table, the latest snapshot of that table in this run. */
  private defineSnapshots(): void {
    const sources = this.sources;
    const define = (name: string, help: string, read: (s: NonNullable<InstanceStats['snapshots']>[number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['destination', 'table'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const src of sources.values()) {
            for (const s of src.stats().snapshots ?? []) this.set({ destination: src.destination, table: s.table }, read(s));
          }
        },
      });
    };
    define('sluice_snapshot_rows', 'Snapshot rows acknowledged by the client', (s) => s.rowsAcked);
    define('sluice_snapshot_rows_emitted', 'Snapshot rows emitted into the stream', (s) => s.rowsEmitted);
    define('sluice_snapshot_chunks', 'Snapshot chunks acknowledged by the client', (s) => s.chunksAcked);
    define('sluice_snapshot_estimated_rows', "The table's estimated row count when the snapshot was requested", (s) => s.estimatedRows);
    define('sluice_snapshot_active', '1 while the snapshot is queued, running or waiting for its last acknowledgement', (s) => (['queued', 'running', 'finishing'].includes(s.state) ? 1 : 0));
  }

  private counter(name: string, help: string, read: Read): void {
    const sources = this.sources;
    new Counter({
      name,
      help,
      labelNames: ['destination'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const src of sources.values()) {
          this.inc({ destination: src.destination }, Math.max(0, read(src.stats()) ?? 0));
        }
      },
    });
  }

  private gauge(name: string, help: string, read: Read): void {
    this.perSource(name, help, (g, src) => {
      const v = read(src.stats());
      if (v !== undefined) g.set({ destination: src.destination }, v);
    });
  }

  private perSource(name: string, help: string, fill: (g: Gauge<'destination'>, src: InstanceStatsSource) => void): void {
    const sources = this.sources;
    new Gauge({
      name,
      help,
      labelNames: ['destination'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const src of sources.values()) fill(this, src);
      },
    });
  }
}
