// `npm run bench`: issue 6's benchmark. Starts a private MariaDB, loads workloads A (batched),
// B (single-row transactions) and C (live), and measures in one run: raw zongji (baseline),
// mariadb-binlog -v (ceiling), sluice's stages and sluice end to end (server in its own process,
// the TypeScript client over TCP), live commit-to-client latency and the server's peak RSS.
// Prints a table, then one JSON line with every figure. See docs/benchmarks.md for the method.
import { cpus, loadavg } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Sandbox } from '../test/support/sandbox.ts';
import { createSchema, loadBatched, loadSingleRowTx, countRows } from './dataset.ts';
import { parsePlan, FIRST_ID } from './plan.ts';
import { useCompiledWorkers } from './child.ts';
import { buildWorkers, type BuiltWorkers } from './build-workers.ts';
import { STORE_DEFAULTS } from './pipeline-defaults.ts';
import { checkRows, progress, type Ctx } from './context.ts';
import { ceiling, zongjiBaseline } from './baselines.ts';
import { funnel, storeThroughput } from './funnel.ts';
import { liveLatency, overTcp, profileRun, type Profiles } from './server-run.ts';
import { formatTable, mib, rate, targetLines, targetsJson, type Target } from './report.ts';
import { formatSummary } from './cpuprofile-summary.ts';

const execFileP = promisify(execFile);

/** The commit measured, and whether src/ differed from it (other work in the same tree). */
async function codeVersion(): Promise<{ commit: string; srcDirty: boolean }> {
  try {
    const head = await execFileP('git', ['rev-parse', '--short', 'HEAD']);
    const status = await execFileP('git', ['status', '--porcelain', '--', 'src', 'proto']);
    return { commit: head.stdout.trim(), srcDirty: status.stdout.trim() !== '' };
  } catch {
    return { commit: 'unknown (not a git checkout)', srcDirty: false };
  }
}

/** Workload A (batched): load, then baseline, ceiling, funnel, wire, end to end and the profile. */
async function workloadA(ctx: Ctx): Promise<{ figures: Record<string, number>; profile?: Profiles }> {
  const { plan, sb } = ctx;
  progress(`loading A: ${plan.rowsA} rows as 1000-row INSERTs, 10 per transaction`);
  const a = await loadBatched(sb, FIRST_ID.A, plan.rowsA, 'A');
  checkRows('the table after loading A', await countRows(sb, FIRST_ID.A, FIRST_ID.A + plan.rowsA - 1), plan.rowsA);
  progress(`A is ${a.file}, ${mib(a.bytes)}; raw zongji`);
  const zA = await zongjiBaseline(ctx, 'A', a);
  progress('A: mariadb-binlog -v');
  const cA = await ceiling(ctx, 'A', a);
  const figures = {
    rows: a.rows,
    binlogBytes: a.bytes,
    zongjiRowsPerSec: rate(a.rows, zA.seconds),
    zongjiPeakRssBytes: zA.peakRssBytes,
    mariadbBinlogRowsPerSec: rate(a.rows, cA),
    ...(await funnel(ctx, 'A', a, zA)),
    ...(await overTcp(ctx, 'A', a, zA)),
  };
  if (!plan.profile) return { figures };
  return { figures, profile: await profileRun(ctx, 'A', a) };
}

/** Workload B (single-row transactions): load, then baseline, funnel, wire, end to end and the profile. */
async function workloadB(ctx: Ctx): Promise<{ figures: Record<string, number>; profile?: Profiles }> {
  const { plan, sb } = ctx;
  progress(`loading B: ${plan.rowsB} single-row transactions`);
  const b = await loadSingleRowTx(sb, FIRST_ID.B, plan.rowsB, 'B');
  checkRows('the table after loading B', await countRows(sb, FIRST_ID.B, FIRST_ID.B + plan.rowsB - 1), plan.rowsB);
  progress(`B is ${b.file}, ${mib(b.bytes)}; raw zongji`);
  const zB = await zongjiBaseline(ctx, 'B', b);
  const figures = {
    rows: b.rows,
    binlogBytes: b.bytes,
    zongjiRowsPerSec: rate(b.rows, zB.seconds),
    zongjiPeakRssBytes: zB.peakRssBytes,
    ...(await funnel(ctx, 'B', b, zB)),
    ...(await overTcp(ctx, 'B', b, zB)),
  };
  if (!plan.profile) return { figures };
  return { figures, profile: await profileRun(ctx, 'B', b) };
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const started = new Date();
  const loadAtStart = Math.round(loadavg()[0]! * 100) / 100;
  const version = await codeVersion();
  // The whole run is bounded too: on expiry, exiting kills the sandbox (its exit hook) and the
  // workers (they exit when their IPC channel closes).
  const limitMs = (plan.quick ? 5 : 30) * 60_000;
  setTimeout(() => {
    progress(`the run exceeded its ${limitMs / 60_000} min limit; stopping`);
    process.exit(2);
  }, limitMs).unref();
  progress(
    `plan: workloads ${[...plan.workloads].join(',')}; A ${plan.rowsA} rows, B ${plan.rowsB} transactions, ` +
      `C ${plan.liveRate} rows/s for ${plan.liveSeconds} s; ${plan.runs} run(s)`,
  );
  progress('compiling the measured workers to JavaScript');
  const built: BuiltWorkers = await buildWorkers();
  useCompiledWorkers(built.workersDir);
  let sb: Sandbox;
  try {
    sb = await Sandbox.start({ database: 'bench', extraArgs: ['--innodb-buffer-pool-size=256M', '--binlog-annotate-row-events=OFF'] });
  } catch (err) {
    await built.cleanup();
    throw err;
  }
  let serverId = 5000 + (process.pid % 1000) * 10;
  const ctx: Ctx = { plan, sb, conn: sb.replConfig, nextServerId: () => serverId++, rows: [] };
  const figures: Record<string, unknown> = {};
  const targets: Target[] = [];
  const profiles: Profiles[] = [];
  try {
    await createSchema(sb);
    if (plan.workloads.has('A')) {
      const r = await workloadA(ctx);
      figures.A = r.figures;
      if (r.profile) profiles.push(r.profile);
    }
    if (plan.workloads.has('B')) {
      const r = await workloadB(ctx);
      figures.B = r.figures;
      if (r.profile) profiles.push(r.profile);
    }
    if (plan.workloads.has('C')) figures.C = await liveLatency(ctx);
    figures.storeAlone = await storeThroughput(ctx);

    const fa = figures.A as Record<string, number> | undefined;
    const fb = figures.B as Record<string, number> | undefined;
    const fc = figures.C as Record<string, number> | undefined;
    const peakRss = Math.max(fa?.serverPeakRssBytes ?? 0, fb?.serverPeakRssBytes ?? 0, fc?.serverPeakRssBytes ?? 0);
    figures.serverPeakRssBytes = peakRss;
    if (fa) {
      targets.push(
        { name: 'A end to end rows/s', value: fa.e2eRowsPerSec!, limit: 200_000, kind: 'min' },
        { name: 'A end to end / raw zongji', value: fa.e2eVsZongji!, limit: 0.6, kind: 'min' },
      );
    }
    if (fb) targets.push({ name: 'B end to end rows/s', value: fb.e2eRowsPerSec!, limit: 80_000, kind: 'min' });
    if (fc) targets.push({ name: 'C p99 commit-to-client ms', value: fc.latencyP99Ms!, limit: 50, kind: 'max' });
    targets.push({ name: 'server peak RSS MB', value: Math.round(peakRss / 1e5) / 10, limit: 150, kind: 'max' });
  } finally {
    await sb.cleanup();
    await built.cleanup();
  }

  process.stdout.write(formatTable(ctx.rows) + '\n\n');
  for (const p of profiles) {
    process.stdout.write(`server process CPU profile on ${p.workload} (${p.dir}/server):\n${formatSummary(p.server)}\n\n`);
    process.stdout.write(`client process CPU profile on ${p.workload} (${p.dir}/client):\n${formatSummary(p.client)}\n\n`);
  }
  for (const l of targetLines(targets)) process.stdout.write(l + '\n');
  const json = {
    bench: 'sluice',
    date: started.toISOString(),
    ...version,
    quick: plan.quick,
    runs: plan.runs,
    workloads: [...plan.workloads],
    serverFlags: plan.serverFlags,
    clientFlags: plan.clientFlags,
    store: { ...STORE_DEFAULTS, ...plan.store },
    machine: { cpus: cpus().length, loadavg1mAtStart: loadAtStart, loadavg1mAtEnd: Math.round(loadavg()[0]! * 100) / 100, node: process.version },
    ...figures,
    profiles: Object.fromEntries(
      profiles.map((p) => [
        p.workload,
        {
          dir: p.dir,
          server: { busyMs: p.server.busyMs, gcMs: p.server.gcMs, topSelf: p.server.functions.slice(0, 10), topInclusive: p.server.inclusive.slice(0, 10) },
          client: { busyMs: p.client.busyMs, gcMs: p.client.gcMs, topSelf: p.client.functions.slice(0, 10), topInclusive: p.client.inclusive.slice(0, 10) },
        },
      ]),
    ),
    targets: targetsJson(targets),
  };
  process.stdout.write(JSON.stringify(json) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
