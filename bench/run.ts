// `npm run bench`: issue 6's benchmark. Starts a private MariaDB, loads workloads A (batched),
// B (single-row transactions) and C (live), and measures in one run: raw zongji (baseline),
// mariadb-binlog -v (ceiling), sluice's stages and sluice end to end (server in its own process,
// the TypeScript client over TCP), live commit-to-client latency and the server's peak RSS.
// Prints a table, then one JSON line with every figure. See docs/benchmarks.md for the method.
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Sandbox } from '../test/support/sandbox.ts';
import { createSchema, loadBatched, loadSingleRowTx, loadLive, countRows, rotate, writeSentinel, TABLE, SENTINEL_TABLE, type BinlogSpan, type LiveLoadResult } from './dataset.ts';
import { parsePlan, FIRST_ID, type BenchPlan } from './plan.ts';
import { runWorker, startWorker, useCompiledWorkers } from './child.ts';
import { buildWorkers, type BuiltWorkers } from './build-workers.ts';
import { STORE_DEFAULTS } from './pipeline-defaults.ts';
import { decodeWithMariadbBinlog, countDecodedRows } from './mariadb-binlog.ts';
import { formatTable, mib, rate, targetLines, targetsJson, type Row, type Target } from './report.ts';
import { median, medianRun, percentile, repeat } from './stats.ts';
import { summarize, readProfile, formatSummary, type ProfileSummary } from './cpuprofile-summary.ts';
import type {
  ClientJob,
  ClientResult,
  DecodeJob,
  DecodeResult,
  ServerJob,
  ServerMsg,
  SourceConn,
  Stage,
  StageJob,
  StageResult,
  StoreThroughputJob,
  StoreThroughputResult,
} from './measures.ts';

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
    bytes: span.bytes,
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
  ctx.rows.push({ workload: label, what: 'mariadb-binlog -v (ceiling)', rows: span.rows, bytes: span.bytes, seconds: s, note: `runs ${times.map((t) => t.toFixed(2)).join('/')}` });
  return s;
}

function ratio(x: number, base: number): number {
  return Math.round((x / base) * 1000) / 1000;
}

/** One in-process stage of the funnel (parser, sink or store) on one workload. */
async function stageRun(ctx: Ctx, label: string, span: BinlogSpan, stage: Stage, baseline: DecodeResult): Promise<StageResult> {
  const job: StageJob = {
    ...decodeJob(ctx, span),
    stage,
    batchSize: ctx.plan.batchSize,
    getTimeoutMs: ctx.plan.getTimeoutMs,
    ...(ctx.plan.storeMaxBytes !== undefined ? { storeMaxBytes: ctx.plan.storeMaxBytes } : {}),
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

const CANAL_USER = 'bench';
const CANAL_PASSWORD = 'bench-Secret-7';
const DESTINATION = 'bench';

interface EndToEnd {
  seconds: number;
  /** from sluice's start to the consumer's first batch: connect, preflight, meta, first decode */
  startupSeconds: number;
  /** from sluice's start to the consumer's acknowledged subscription */
  subscribedSeconds: number;
  consumer: ClientResult;
  serverPeakRssBytes: number;
  serverCpuSeconds: number;
}

/**
 * One run of the server process with one consumer process: both load, then sluice starts
 * (server, instance reading from `start`), the consumer connects, subscribes and reads until the
 * sentinel. `during` runs once the consumer is subscribed (the live load of C). With `profileDir`
 * both processes run under --cpu-prof and write their profiles to its server/ and client/ folders.
 */
async function serverRun(
  ctx: Ctx,
  start: { file: string; offset: number },
  mode: 'raw' | 'client',
  opts: { profileDir?: string; live?: ClientJob['live']; during?: () => Promise<void>; deadlineMs?: number } = {},
): Promise<EndToEnd> {
  const deadlineMs = opts.deadlineMs ?? 180_000;
  const job: ServerJob = {
    conn: ctx.conn,
    serverId: ctx.nextServerId(),
    start,
    destination: DESTINATION,
    canalUser: CANAL_USER,
    canalPassword: CANAL_PASSWORD,
    ...(ctx.plan.storeMaxBytes !== undefined ? { storeMaxBytes: ctx.plan.storeMaxBytes } : {}),
  };
  const profFlags = (who: string): string[] => (opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.profileDir, who)}`] : []);
  const server = startWorker<ServerMsg>('server', job, { deadlineMs, nodeFlags: [...ctx.plan.serverFlags, ...profFlags('server')] });
  let peakRss = 0;
  let serverCpu = 0;
  let serverError: ((e: Error) => void) | undefined;
  const serverFailed = new Promise<never>((_, reject) => (serverError = reject));
  serverFailed.catch(() => undefined);
  server.proc.on('message', (m: ServerMsg) => {
    if (m.kind === 'rss') {
      peakRss = Math.max(peakRss, m.peakRssBytes);
      serverCpu = m.cpuSeconds;
    } else if (m.kind === 'error') serverError?.(new Error(`server process: ${m.message}`));
  });
  type ConsumerMsg = { kind: 'loaded' } | { kind: 'subscribed' } | { kind: 'result'; result: ClientResult } | { kind: 'error'; message: string };
  let consumer: ReturnType<typeof startWorker<ConsumerMsg>> | undefined;
  try {
    const loaded = await Promise.race([server.next((m) => m.kind === 'loaded', 'configuration loaded', 60_000), serverFailed]);
    if (loaded.kind !== 'loaded') throw new Error('server process did not load its configuration');
    const cjob: ClientJob & { mode: 'raw' | 'client' } = {
      mode,
      destination: DESTINATION,
      user: CANAL_USER,
      password: CANAL_PASSWORD,
      clientId: 1001,
      batchSize: ctx.plan.batchSize,
      getTimeoutMs: ctx.plan.getTimeoutMs,
      table: TABLE,
      sentinelTable: SENTINEL_TABLE,
      ...(opts.live ? { live: opts.live } : {}),
    };
    const c = startWorker<ConsumerMsg>('consumer', cjob, { deadlineMs, nodeFlags: [...ctx.plan.clientFlags, ...profFlags('client')] });
    consumer = c;
    const cl = await c.next((m) => m.kind === 'loaded' || m.kind === 'error', 'loaded', 60_000);
    if (cl.kind === 'error') throw new Error(`consumer process: ${cl.message}`);
    // Both processes are loaded: start the clock with sluice itself.
    server.send({ kind: 'go' });
    const started = await Promise.race([server.next((m) => m.kind === 'started', 'start', 60_000), serverFailed]);
    if (started.kind !== 'started') throw new Error('server process did not start');
    c.send({ kind: 'connect', port: started.port });
    const sub = await Promise.race([c.next((m) => m.kind === 'subscribed' || m.kind === 'error', 'subscription', 60_000), serverFailed]);
    if (sub.kind === 'error') throw new Error(`consumer process: ${sub.message}`);
    await opts.during?.();
    const res = await Promise.race([c.next((m) => m.kind === 'result' || m.kind === 'error', 'result', deadlineMs), serverFailed]);
    if (res.kind === 'error') throw new Error(`consumer process: ${res.message}`);
    if (res.kind !== 'result') throw new Error('consumer process sent no result');
    server.send({ kind: 'stop' });
    await server.exited;
    return {
      seconds: (res.result.sentinelWallMs - started.wallMs) / 1000,
      startupSeconds: (res.result.firstDataWallMs - started.wallMs) / 1000,
      subscribedSeconds: (res.result.subscribedWallMs - started.wallMs) / 1000,
      consumer: res.result,
      serverPeakRssBytes: peakRss,
      serverCpuSeconds: serverCpu,
    };
  } catch (err) {
    const tail = server.stderrTail().trim();
    throw tail === '' ? err : new Error(`${(err as Error).message}\nserver process stderr:\n${tail}`, { cause: err });
  } finally {
    consumer?.send({ kind: 'stop' });
    server.send({ kind: 'stop' });
    const late = setTimeout(() => {
      consumer?.kill();
      server.kill();
    }, 10_000);
    await Promise.all([consumer?.exited, server.exited]);
    clearTimeout(late);
  }
}

/** The wire stage and the client stage (end to end) on one workload, through the server process. */
async function overTcp(ctx: Ctx, label: string, span: BinlogSpan, baseline: DecodeResult): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const mode of ['raw', 'client'] as const) {
    progress(`${label}: server process + ${mode === 'raw' ? 'raw wire consumer' : 'TypeScript client'}`);
    const runs = await repeat(ctx.plan.runs, async () => {
      const r = await serverRun(ctx, { file: span.file, offset: 4 }, mode);
      if (mode === 'client') checkRows(`the client on ${label}`, r.consumer.rows, span.rows);
      return r;
    });
    const m = medianRun(runs);
    const what = mode === 'raw' ? 'sluice to wire (server process, raw consumer)' : 'sluice end to end (server + client, acked)';
    ctx.rows.push({
      workload: label,
      what,
      rows: span.rows,
      bytes: span.bytes,
      seconds: m.seconds,
      note:
        `${ratio(baseline.seconds, m.seconds)}x zongji, subscribed after ${m.subscribedSeconds.toFixed(2)} s, first batch after ${m.startupSeconds.toFixed(2)} s, ${m.consumer.entries} entries in ${m.consumer.batches} batches, ` +
        `server rss ${mib(m.serverPeakRssBytes)} cpu ${m.serverCpuSeconds.toFixed(2)} s, client cpu ${m.consumer.cpuSeconds.toFixed(2)} s, ` +
        `runs ${runs.map((r) => r.seconds.toFixed(2)).join('/')}`,
    });
    const peak = Math.max(...runs.map((r) => r.serverPeakRssBytes));
    if (mode === 'raw') {
      out.wireRowsPerSec = rate(span.rows, m.seconds);
    } else {
      out.e2eRowsPerSec = rate(span.rows, m.seconds);
      out.e2eBinlogMBps = Math.round((span.bytes / 1e6 / m.seconds) * 10) / 10;
      out.e2eVsZongji = ratio(baseline.seconds, m.seconds);
      out.e2eStartupSeconds = Math.round(m.startupSeconds * 1000) / 1000;
      out.e2eClientCpuSeconds = Math.round(m.consumer.cpuSeconds * 100) / 100;
      out.e2eServerCpuSeconds = Math.round(m.serverCpuSeconds * 100) / 100;
    }
    out.serverPeakRssBytes = Math.max(out.serverPeakRssBytes ?? 0, peak);
  }
  return out;
}

/** Workload C: the server follows the binlog end while the loader commits rows at a fixed rate. */
async function liveLatency(ctx: Ctx): Promise<Record<string, number>> {
  const { plan, sb } = ctx;
  await rotate(sb);
  const at = await sb.masterStatus();
  const transactions = Math.round((plan.liveRate * plan.liveSeconds) / plan.liveRowsPerTx);
  let load: LiveLoadResult | undefined;
  progress(`C: live load of ${plan.liveRate} rows/s for ${plan.liveSeconds} s (${plan.liveRowsPerTx} rows per transaction), server + client following`);
  const r = await serverRun(ctx, { file: at.file, offset: at.position }, 'client', {
    live: { firstId: FIRST_ID.C, rowsPerTx: plan.liveRowsPerTx, transactions },
    deadlineMs: (plan.liveSeconds + 120) * 1000,
    during: async () => {
      load = await loadLive(sb, { firstId: FIRST_ID.C, rate: plan.liveRate, seconds: plan.liveSeconds, rowsPerTx: plan.liveRowsPerTx, inFlight: 4 });
      await writeSentinel(sb, 'C');
    },
  });
  if (!load) throw new Error('the live load did not run');
  checkRows('the client on C', r.consumer.rows, load.rows);
  const received = r.consumer.receivedMs ?? [];
  const latencies: number[] = [];
  let missing = 0;
  for (let i = 0; i < load.transactions; i++) {
    const t = received[i];
    // NaN (never seen) crosses the IPC channel as null
    if (typeof t !== 'number' || !Number.isFinite(t)) missing++;
    else latencies.push(t - load.commitMs[i]!);
  }
  if (missing > 0) throw new Error(`C: ${missing} of ${load.transactions} transactions never reached the client`);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const max = percentile(latencies, 100);
  ctx.rows.push({
    workload: 'C',
    what: `live ${plan.liveRate} rows/s, commit to client`,
    rows: load.rows,
    seconds: r.seconds,
    note: `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${load.transactions} tx; loader ${Math.round(load.achievedRate)} rows/s; server rss ${mib(r.serverPeakRssBytes)}`,
  });
  return {
    rows: load.rows,
    transactions: load.transactions,
    targetRate: plan.liveRate,
    achievedRate: Math.round(load.achievedRate),
    latencyP50Ms: Math.round(p50 * 100) / 100,
    latencyP99Ms: Math.round(p99 * 100) / 100,
    latencyMaxMs: Math.round(max * 100) / 100,
    serverPeakRssBytes: r.serverPeakRssBytes,
  };
}

interface Profiles {
  workload: string;
  dir: string;
  server: ProfileSummary;
  client: ProfileSummary;
}

/** The busiest new .cpuprofile in `dir` (tsx's loader thread, when present, writes one of its own). */
async function newestProfile(dir: string): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile was written in ${dir}`);
  const all = files.map((f) => summarize(readProfile(join(dir, f)), 15));
  return all.sort((x, y) => y.busyMs - x.busyMs)[0]!;
}

/** One end-to-end run on a workload with the server and the client under --cpu-prof. */
async function profileRun(ctx: Ctx, label: string, span: BinlogSpan): Promise<Profiles> {
  const base = ctx.plan.profileDir !== '' ? ctx.plan.profileDir : await mkdtemp(join(tmpdir(), 'sluice-bench-prof-'));
  const dir = join(base, `${label}-${Date.now()}`);
  await mkdir(join(dir, 'server'), { recursive: true });
  await mkdir(join(dir, 'client'), { recursive: true });
  progress(`${label}: server and client under --cpu-prof (profiles in ${dir})`);
  await serverRun(ctx, { file: span.file, offset: 4 }, 'client', { profileDir: dir });
  return { workload: label, dir, server: await newestProfile(join(dir, 'server')), client: await newestProfile(join(dir, 'client')) };
}

/** The store alone (issue 3): entries/s through put + get + ack, at B's entry size and at A's. */
async function storeThroughput(ctx: Ctx): Promise<Record<string, number>> {
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
    storeMaxBytes: plan.storeMaxBytes ?? STORE_DEFAULTS.maxBytes,
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
