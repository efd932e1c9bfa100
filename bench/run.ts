// `npm run bench`: issue 6's benchmark. Starts a private MariaDB, loads workloads A (batched),
// B (single-row transactions) and C (live), and measures in one run: raw zongji (baseline),
// mariadb-binlog -v (ceiling), sluice's stages and sluice end to end (server in its own process,
// the TypeScript client over TCP), live commit-to-client latency and the server's peak RSS.
// Prints a table, then one JSON line with every figure. See docs/benchmarks.md for the method.
import { cpus, loadavg } from 'node:os';
import { Sandbox } from '../test/support/sandbox.ts';
import { createSchema, loadBatched, loadSingleRowTx, countRows, TABLE, SENTINEL_TABLE, type BinlogSpan } from './dataset.ts';
import { parsePlan, FIRST_ID, type BenchPlan } from './plan.ts';
import { runWorker } from './child.ts';
import { decodeWithMariadbBinlog, countDecodedRows } from './mariadb-binlog.ts';
import { median, medianRun, repeat } from './stats.ts';
import { formatTable, mib, rate, targetLines, targetsJson, type Row, type Target } from './report.ts';
import type { DecodeJob, DecodeResult, SourceConn, Stage, StageJob, StageResult } from './measures.ts';

function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

interface Ctx {
  plan: BenchPlan;
  sb: Sandbox;
  conn: SourceConn;
  nextServerId: () => number;
  rows: Row[];
}

function decodeJob(ctx: Ctx, span: BinlogSpan): DecodeJob {
  return { conn: ctx.conn, serverId: ctx.nextServerId(), file: span.file, table: TABLE, sentinelTable: SENTINEL_TABLE };
}

function checkRows(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what} decoded ${got} rows, expected ${want}: the measurement is invalid`);
}

/** Raw zongji on one workload: the baseline every sluice figure is compared with. */
async function zongjiBaseline(ctx: Ctx, label: string, span: BinlogSpan): Promise<DecodeResult> {
  const runs = await repeat(ctx.plan.runs, async () => {
    const r = await runWorker<DecodeResult>('zongji-decode', decodeJob(ctx, span), { deadlineMs: 120_000 });
    checkRows(`raw zongji on ${label}`, r.rows, span.rows);
    return r;
  });
  const m = medianRun(runs);
  ctx.rows.push({
    workload: label,
    what: 'raw zongji decode (baseline)',
    rows: span.rows,
    seconds: m.seconds,
    note: `${m.events} events, cpu ${m.cpuSeconds.toFixed(2)} s, rss ${mib(m.peakRssBytes)}, runs ${runs.map((r) => r.seconds.toFixed(2)).join('/')}`,
  });
  return m;
}

/** mariadb-binlog -v on one workload: the ceiling (the server's own C++ decoder). */
async function ceiling(ctx: Ctx, label: string, span: BinlogSpan): Promise<number> {
  const decoded = await countDecodedRows(ctx.conn, span.file, ctx.sb.database, TABLE, 120_000);
  checkRows(`mariadb-binlog on ${label}`, decoded, span.rows);
  const times = await repeat(ctx.plan.runs, () => decodeWithMariadbBinlog(ctx.conn, span.file, 120_000));
  const s = median(times);
  ctx.rows.push({ workload: label, what: 'mariadb-binlog -v (ceiling)', rows: span.rows, seconds: s, note: `runs ${times.map((t) => t.toFixed(2)).join('/')}` });
  return s;
}

function ratio(x: number, base: number): number {
  return Math.round((x / base) * 1000) / 1000;
}

/** One in-process stage of the funnel (parser, sink or store) on one workload. */
async function stageRun(ctx: Ctx, label: string, span: BinlogSpan, stage: Stage, baseline: DecodeResult): Promise<StageResult> {
  const job: StageJob = { ...decodeJob(ctx, span), stage, batchSize: ctx.plan.batchSize };
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
    seconds: m.seconds,
    note: `${ratio(baseline.seconds, m.seconds)}x zongji, ${m.entries} entries, cpu ${m.cpuSeconds.toFixed(2)} s, rss ${mib(m.peakRssBytes)}, runs ${runs.map((r) => r.seconds.toFixed(2)).join('/')}`,
  });
  return m;
}

/** The in-process funnel on one workload: rows/s after each stage. */
async function funnel(ctx: Ctx, label: string, span: BinlogSpan, baseline: DecodeResult): Promise<Record<string, number>> {
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

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const started = new Date();
  progress(`plan: A ${plan.rowsA} rows, B ${plan.rowsB} transactions, C ${plan.liveRate} rows/s for ${plan.liveSeconds} s, ${plan.runs} run(s)`);
  const sb = await Sandbox.start({ database: 'bench', extraArgs: ['--innodb-buffer-pool-size=256M', '--binlog-annotate-row-events=OFF'] });
  let serverId = 5000 + (process.pid % 1000) * 10;
  const ctx: Ctx = { plan, sb, conn: sb.replConfig, nextServerId: () => serverId++, rows: [] };
  const figures: Record<string, unknown> = {};
  const targets: Target[] = [];
  try {
    await createSchema(sb);

    progress(`loading A: ${plan.rowsA} rows as 1000-row INSERTs, 10 per transaction`);
    const a = await loadBatched(sb, FIRST_ID.A, plan.rowsA, 'A');
    checkRows('the table after loading A', await countRows(sb, FIRST_ID.A, FIRST_ID.A + plan.rowsA - 1), plan.rowsA);
    progress(`A is ${a.file}, ${mib(a.bytes)}; raw zongji`);
    const zA = await zongjiBaseline(ctx, 'A', a);
    progress('A: mariadb-binlog -v');
    const cA = await ceiling(ctx, 'A', a);
    figures.A = {
      rows: a.rows,
      binlogBytes: a.bytes,
      zongjiRowsPerSec: rate(a.rows, zA.seconds),
      zongjiPeakRssBytes: zA.peakRssBytes,
      mariadbBinlogRowsPerSec: rate(a.rows, cA),
      ...(await funnel(ctx, 'A', a, zA)),
    };

    progress(`loading B: ${plan.rowsB} single-row transactions`);
    const b = await loadSingleRowTx(sb, FIRST_ID.B, plan.rowsB, 'B');
    checkRows('the table after loading B', await countRows(sb, FIRST_ID.B, FIRST_ID.B + plan.rowsB - 1), plan.rowsB);
    progress(`B is ${b.file}, ${mib(b.bytes)}; raw zongji`);
    const zB = await zongjiBaseline(ctx, 'B', b);
    figures.B = {
      rows: b.rows,
      binlogBytes: b.bytes,
      zongjiRowsPerSec: rate(b.rows, zB.seconds),
      zongjiPeakRssBytes: zB.peakRssBytes,
      ...(await funnel(ctx, 'B', b, zB)),
    };
  } finally {
    await sb.cleanup();
  }

  process.stdout.write(formatTable(ctx.rows) + '\n\n');
  for (const l of targetLines(targets)) process.stdout.write(l + '\n');
  const json = {
    bench: 'sluice',
    date: started.toISOString(),
    quick: plan.quick,
    runs: plan.runs,
    machine: { cpus: cpus().length, loadavg1mAtEnd: Math.round(loadavg()[0]! * 100) / 100, node: process.version },
    ...figures,
    targets: targetsJson(targets),
  };
  process.stdout.write(JSON.stringify(json) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
