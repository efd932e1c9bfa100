// The in-process stages of the funnel (sluice cut after the parser, the sink or the store) and
// the store alone: what each stage of the data path costs before the network is involved.
import { runWorker } from './child.ts';
import { checkRows, decodeJob, progress, ratio, type Ctx } from './context.ts';
import type { BinlogSpan } from './dataset.ts';
import { mib, rate } from './report.ts';
import { medianRun, repeat } from './stats.ts';
import type { DecodeResult, Stage, StageJob, StageResult, StoreThroughputJob, StoreThroughputResult } from './measures.ts';

/** One in-process stage of the funnel (parser, sink or store) on one workload. */
async function stageRun(ctx: Ctx, label: string, span: BinlogSpan, stage: Stage, baseline: DecodeResult): Promise<StageResult> {
  const job: StageJob = {
    ...decodeJob(ctx, span),
    stage,
    batchSize: ctx.plan.batchSize,
    getTimeoutMs: ctx.plan.getTimeoutMs,
    store: ctx.plan.store,
  };
  const runs = await repeat(ctx.plan.runs, async () => {
    const r = await runWorker<StageResult>('stage', { ...job, serverId: ctx.nextServerId() }, { deadlineMs: 180_000 });
    checkRows(`sluice ${stage} stage on ${label}`, r.rows, span.rows);
    return r;
  });
  const m = medianRun(runs);
  ctx.rows.push({
    workload: label,
    what: `sluice to ${stage}`,
    rows: span.rows,
    bytes: span.bytes,
    seconds: m.seconds,
    note: `${ratio(baseline.seconds, m.seconds)}x zongji, ${m.entries} entries, cpu ${m.cpuSeconds.toFixed(2)} s, rss ${mib(m.peakRssBytes)}, runs ${runs.map((r) => r.seconds.toFixed(2)).join('/')}`,
  });
  return m;
}

/** The in-process funnel on one workload: rows/s after each stage. */
export async function funnel(ctx: Ctx, label: string, span: BinlogSpan, baseline: DecodeResult): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const stage of ['parser', 'sink', 'store'] as const) {
    progress(`${label}: sluice to ${stage}`);
    const r = await stageRun(ctx, label, span, stage, baseline);
    out[`${stage}RowsPerSec`] = rate(span.rows, r.seconds);
    if (stage === 'parser') out.parserVsZongji = ratio(baseline.seconds, r.seconds);
    if (stage === 'store') out.storeEntries = r.entries;
  }
  return out;
}

/** The store alone (issue 3): entries/s through put + get + ack, at B's entry size and at A's. */
export async function storeThroughput(ctx: Ctx): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const entries = ctx.plan.quick ? 200_000 : 2_000_000;
  for (const [name, itemBytes] of [
    ['small', 200],
    ['large', 7_700],
  ] as const) {
    progress(`store alone: ${entries} entries of ${itemBytes} bytes through put, get and ack`);
    const job: StoreThroughputJob = { entries, itemBytes, batchSize: ctx.plan.batchSize };
    const runs = await repeat(ctx.plan.runs, () => runWorker<StoreThroughputResult>('store-throughput', job, { deadlineMs: 120_000 }));
    const m = medianRun(runs);
    ctx.rows.push({
      workload: 'store',
      what: `EventStore put+get+ack, ${itemBytes} B entries`,
      rows: m.entries,
      seconds: m.seconds,
      note: `entries, not rows; ${m.batches} batches, cpu ${m.cpuSeconds.toFixed(2)} s, runs ${runs.map((r) => r.seconds.toFixed(2)).join('/')}`,
    });
    out[`${name}EntriesPerSec`] = rate(m.entries, m.seconds);
    out[`${name}EntryBytes`] = itemBytes;
  }
  return out;
}

