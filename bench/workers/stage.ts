// The funnel's in-process stages: sluice's pipeline cut after the parser, after the sink, or after
// the store (with a consumer that gets and acks every batch in the same process), decoding one
// workload from offset 4 to its sentinel. Time runs from parser.start() to the sentinel, as the
// raw zongji baseline runs from zongji.start().
import { Buffer } from 'node:buffer';
import { EventParser } from '../../src/parser/event-parser.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { Pump } from '../../src/sink/pump.ts';
import { EventStore } from '../../src/store/event-store.ts';
import type { ParsedEntry } from '../../src/protocol/entry-model.ts';
import { boundWorker, cpuSeconds, peakRssBytes, runJob, workerConfig } from './worker-support.ts';
import type { StageJob, StageResult } from '../measures.ts';
import { STORE_DEFAULTS } from '../pipeline-defaults.ts';

const cfg = workerConfig<StageJob>();
let parser: EventParser | undefined;
boundWorker(() => parser?.stop());

function countRows(entries: ParsedEntry[], acc: { rows: number; sentinel: boolean }): void {
  for (const e of entries) {
    const table = e.header.tableName;
    if (table === cfg.table) acc.rows += e.rowChange?.rowDatas.length ?? 0;
    else if (table === cfg.sentinelTable) acc.sentinel = true;
  }
}

await runJob<StageResult>(async () => {
  const p = new EventParser({ ...cfg.conn, slaveId: cfg.serverId, start: { kind: 'position', file: cfg.file, offset: 4 } });
  parser = p;
  const acc = { rows: 0, sentinel: false, entries: 0 };
  let t0 = 0;
  let cpu0 = 0;
  let finish!: (r: StageResult) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<StageResult>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const result = (): StageResult => ({
    stage: cfg.stage,
    rows: acc.rows,
    entries: acc.entries,
    events: 0,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuSeconds() - cpu0,
    peakRssBytes: peakRssBytes(),
  });
  p.on('error', (err: Error & { fatal?: boolean }) => {
    if (err.fatal === true) fail(new Error(`parser: ${err.message}`));
  });

  if (cfg.stage === 'parser' || cfg.stage === 'sink') {
    const sink = cfg.stage === 'sink' ? new EventSink() : undefined;
    p.on('entries', (entries: ParsedEntry[]) => {
      const kept = sink ? sink.filter(entries) : entries;
      acc.entries += kept.length;
      countRows(kept, acc);
      if (acc.sentinel) finish(result());
    });
  } else if (cfg.stage === 'store') {
    // Rows are counted before the store (items carry bytes, not rows); the consumer below is what
    // has to reach the sentinel.
    const store = new EventStore({ ...STORE_DEFAULTS, ...cfg.store });
    const pump = new Pump(new EventSink(), store);
    pump.on('error', fail);
    const rowsBefore = { rows: 0, sentinel: false };
    p.on('entries', (entries: ParsedEntry[]) => countRows(entries, rowsBefore));
    pump.addSource(p, 'bench');
    // The consumer takes bytes, as the server's sessions do (getBytes, the store's one get). The
    // sentinel is the last row written, so it is among the last entries (BEGIN, row, END) of the batch that holds it.
    const sentinel = Buffer.from(cfg.sentinelTable);
    void (async () => {
      for (;;) {
        const batch = await store.getBytes(cfg.batchSize, cfg.getTimeoutMs);
        if (batch === null) continue;
        acc.entries += batch.entries.length;
        const hit = batch.entries.slice(-3).some((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(sentinel));
        store.ack(batch.id);
        if (hit) {
          acc.rows = rowsBefore.rows;
          finish(result());
          return;
        }
      }
    })().catch(fail);
  } else {
    throw new Error(`stage ${cfg.stage} is not an in-process stage (the wire stage runs the server worker)`);
  }
  cpu0 = cpuSeconds();
  t0 = performance.now();
  await p.start();
  return await done;
});
