// Runs through the real server process: the wire stage (raw consumer), end to end (the
// TypeScript client), the live latency of workload C, and the profiled run.
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './child.ts';
import { checkRows, progress, ratio, type Ctx } from './context.ts';
import { loadLive, rotate, writeSentinel, TABLE, SENTINEL_TABLE, type BinlogSpan, type LiveLoadResult } from './dataset.ts';
import { FIRST_ID } from './plan.ts';
import { mib, rate } from './report.ts';
import { medianRun, percentile, repeat } from './stats.ts';
import { summarize, readProfile, type ProfileSummary } from './cpuprofile-summary.ts';
import type { ClientJob, ClientResult, DecodeResult, ServerJob, ServerMsg } from './measures.ts';

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
    store: ctx.plan.store,
  };
  const profFlags = (who: string): string[] => (opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.profileDir, who)}`] : []);
  const server = startWorker<ServerMsg>('server', job, { deadlineMs, nodeFlags: [...SERVER_NODE_FLAGS, ...ctx.plan.serverFlags, ...profFlags('server')] });
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
export async function overTcp(ctx: Ctx, label: string, span: BinlogSpan, baseline: DecodeResult): Promise<Record<string, number>> {
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
        (m.consumer.waitedMs !== undefined ? `client waited ${(m.consumer.waitedMs / 1000).toFixed(2)} s for batches (longest ${Math.round(m.consumer.longestWaitMs ?? 0)} ms), ` : '') +
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
      out.e2eClientWaitSeconds = Math.round((m.consumer.waitedMs ?? 0) / 10) / 100;
      out.e2eClientLongestWaitMs = Math.round(m.consumer.longestWaitMs ?? 0);
      out.e2eClientCpuSeconds = Math.round(m.consumer.cpuSeconds * 100) / 100;
      out.e2eServerCpuSeconds = Math.round(m.serverCpuSeconds * 100) / 100;
      // Load on a shared machine stretches wall time more than CPU time: zongji's CPU over the
      // server's CPU estimates the end-to-end ratio a quiet machine would show (server-bound).
      out.e2eCpuVsZongjiCpu = ratio(baseline.cpuSeconds, m.serverCpuSeconds);
    }
    out.serverPeakRssBytes = Math.max(out.serverPeakRssBytes ?? 0, peak);
  }
  return out;
}

/** Workload C: the server follows the binlog end while the loader commits rows at a fixed rate. */
export async function liveLatency(ctx: Ctx): Promise<Record<string, number>> {
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

export interface Profiles {
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
export async function profileRun(ctx: Ctx, label: string, span: BinlogSpan): Promise<Profiles> {
  const base = ctx.plan.profileDir !== '' ? ctx.plan.profileDir : await mkdtemp(join(tmpdir(), 'sluice-bench-prof-'));
  const dir = join(base, `${label}-${Date.now()}`);
  await mkdir(join(dir, 'server'), { recursive: true });
  await mkdir(join(dir, 'client'), { recursive: true });
  progress(`${label}: server and client under --cpu-prof (profiles in ${dir})`);
  await serverRun(ctx, { file: span.file, offset: 4 }, 'client', { profileDir: dir });
  return { workload: label, dir, server: await newestProfile(join(dir, 'server')), client: await newestProfile(join(dir, 'client')) };
}

