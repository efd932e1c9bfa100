// Pieces of the source-failover tests: an instance config with a standby, sluice in-process with
// a log the test can read, and a ledger consumer that also counts repeated transfers.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { InstanceConfig, FailoverSettings } from '../../../src/config/types.ts';
import { Instance } from '../../../src/instance/instance.ts';
import { CanalServer } from '../../../src/server/canal-server.ts';
import { MapRegistry } from '../../../src/server/registry.ts';
import type { CanalBatch } from '../../../src/client/entry.ts';
import { EntryType, EventType } from '../../../src/protocol/entry-model.ts';
import type { Sandbox } from '../../support/sandbox.ts';
import { instanceConfig, type ConfigOverrides } from './harness.ts';
import { LedgerConsumer } from './ledger.ts';

export function failoverConfig(master: Sandbox, standby: Sandbox, destination: string, failover: Partial<FailoverSettings>, o: ConfigOverrides = {}): InstanceConfig {
  const cfg = instanceConfig(master, destination, o);
  cfg.standby = { ...standby.replConfig, connectTimeoutMs: 5_000 };
  cfg.failover = { afterFailedReconnects: 3, afterSilenceMs: 10_000, fallbackMs: 60_000, standbyWaitMs: 20_000, ...failover };
  return cfg;
}

export interface LoggedSluice {
  instance: Instance;
  dataDir: string;
  port: number;
  /** every log line so far, parsed */
  lines: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startLogged(config: InstanceConfig, dataDir: string): Promise<LoggedSluice> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const instance = new Instance({ config, dataDir, flushIntervalMs: 100, logger });
  await instance.start();
  const server = new CanalServer({ port: 0, destinations: new MapRegistry([instance]) });
  const { port } = await server.start();
  return {
    instance,
    dataDir,
    port,
    lines,
    async stop() {
      await server.stop();
      await instance.stop();
    },
  };
}

/** The ledger consumer, plus how often each transfer's insert arrived (a repeat shows as 2). */
export class CountingLedger {
  readonly ledger = new LedgerConsumer();
  readonly inserts = new Map<number, number>();

  apply(b: CanalBatch): void {
    for (const raw of b.raw) {
      const e = this.ledger.applyBytes(raw);
      if (e.entryType !== EntryType.ROWDATA || !e.rowChange || e.header.tableName !== 'transfers' || e.rowChange.eventType !== EventType.INSERT) continue;
      for (const row of e.rowChange.rowDatas) {
        const id = Number(row.afterColumns.find((c) => c.name === 'id')?.value);
        this.inserts.set(id, (this.inserts.get(id) ?? 0) + 1);
      }
    }
  }

  repeated(): number[] {
    return [...this.inserts].filter(([, n]) => n > 1).map(([id]) => id);
  }

  /** Order problems other than binlog positions, which are not comparable across two servers. */
  orderProblems(): string[] {
    return this.ledger.problems().filter((p) => !p.startsWith('entry at '));
  }
}
