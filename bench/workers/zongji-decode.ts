// Baseline: raw @vlasky/zongji decoding one workload's binlog file, with the value options sluice
// uses and every event type delivered (a CDC server needs GTIDs, table maps, rows and XIDs).
// Time runs from start() to the sentinel row, so Node start-up is not counted.
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import { ZONGJI_VALUE_OPTIONS } from '../../src/parser/columns/zongji-options.ts';
import { boundWorker, cpuSeconds, peakRssBytes, runJob, workerConfig } from './worker-support.ts';
import type { DecodeJob, DecodeResult } from '../measures.ts';

const cfg = workerConfig<DecodeJob>();
let zj: ZongJi | undefined;
boundWorker(() => zj?.stop());

await runJob<DecodeResult>(
  () =>
    new Promise<DecodeResult>((resolve, reject) => {
      const z = new ZongJi({ ...cfg.conn, ...ZONGJI_VALUE_OPTIONS });
      zj = z;
      let rows = 0;
      let events = 0;
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      z.on('error', (err: Error) => reject(new Error(`zongji: ${err.message}`)));
      z.on('binlog', (ev: AnyBinlogEvent) => {
        events++;
        if (ev.getEventName() !== 'writerows') return;
        const e = ev as AnyBinlogEvent & { tableId: number; rows: unknown[]; tableMap: Record<number, { tableName: string }> };
        const table = e.tableMap[e.tableId]?.tableName;
        if (table === cfg.table) rows += e.rows.length;
        else if (table === cfg.sentinelTable) {
          const seconds = (performance.now() - t0) / 1000;
          resolve({ rows, events, seconds, cpuSeconds: cpuSeconds() - cpu0, peakRssBytes: peakRssBytes() });
        }
      });
      z.start({ serverId: cfg.serverId, filename: cfg.file, position: 4 });
    }),
);
