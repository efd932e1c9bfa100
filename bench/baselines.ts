// The figures every sluice figure is compared with, measured on the same binlog file in the same
// run: raw zongji (the baseline) and mariadb-binlog -v (the ceiling).
import { runWorker } from './child.ts';
import { checkRows, decodeJob, type Ctx } from './context.ts';
import { TABLE, type BinlogSpan } from './dataset.ts';
import { decodeWithMariadbBinlog, countDecodedRows } from './mariadb-binlog.ts';
import { mib } from './report.ts';
import { median, medianRun, repeat } from './stats.ts';
import type { DecodeResult } from './measures.ts';

/** Raw zongji on one workload: the baseline every sluice figure is compared with. */
export async function zongjiBaseline(ctx: Ctx, label: string, span: BinlogSpan): Promise<DecodeResult> {
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
    bytes: span.bytes,
    seconds: m.seconds,
    note: `${m.events} events, cpu ${m.cpuSeconds.toFixed(2)} s, rss ${mib(m.peakRssBytes)}, runs ${runs.map((r) => r.seconds.toFixed(2)).join('/')}`,
  });
  return m;
}

/** mariadb-binlog -v on one workload: the ceiling (the server's own C++ decoder). */
export async function ceiling(ctx: Ctx, label: string, span: BinlogSpan): Promise<number> {
  const decoded = await countDecodedRows(ctx.conn, span.file, ctx.sb.database, TABLE, 120_000);
  checkRows(`mariadb-binlog on ${label}`, decoded, span.rows);
  const times = await repeat(ctx.plan.runs, () => decodeWithMariadbBinlog(ctx.conn, span.file, 120_000));
  const s = median(times);
  ctx.rows.push({ workload: label, what: 'mariadb-binlog -v (ceiling)', rows: span.rows, bytes: span.bytes, seconds: s, note: `runs ${times.map((t) => t.toFixed(2)).join('/')}` });
  return s;
}

