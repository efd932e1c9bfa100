// Fan-out benchmark (issue 17): N destinations on one source ingesting the same rows, each read to
// the end by its own consumer over TCP. Measures the server process's CPU (user + system, from
// sluice's start until every consumer has its sentinel) and peak RSS for: one destination; N
// destinations sharing one reader (the default); N destinations each with a reader of its own
// (reader.shared false, what sluice did before). Runs alternate so machine noise spreads evenly.
//
//   node --import tsx bench/fanout.ts [--rows 400000] [--copies 20] [--runs 3] [--scenarios one,shared,separate]
//
// --scenarios one,shared leaves out the separate-readers scenario (the slowest by far), for
// quicker comparisons of the shared path. --profile DIR runs the server under --cpu-prof, one folder per
// scenario and run in DIR (summarize with bench/cpuprofile-summary.ts; the profiler's own cost
// inflates the CPU figures of such a run).
//
// Not part of `npm test`. Results go to stdout as a table and one JSON line.
import { loadavg, cpus } from 'node:os';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { Sandbox } from '../test/support/sandbox.ts';
import { buildWorkers } from './build-workers.ts';
import { startWorker, useCompiledWorkers } from './child.ts';
import { createSchema, loadBatched, SENTINEL_TABLE } from './dataset.ts';
import { FIRST_ID } from './plan.ts';
import { median } from './stats.ts';
import type { ServerJob, ServerMsg } from './measures.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const ROWS = arg('rows', 400_000);
const COPIES = arg('copies', 20);
const RUNS = arg('runs', 3);
const SCENARIO_KEYS = (process.argv.includes('--scenarios') ? process.argv[process.argv.indexOf('--scenarios') + 1]! : 'one,shared,separate').split(',');
/** --server-flags=--perf-basic-prof,...: extra node flags of the server process (as bench/run.ts) */
const SERVER_FLAGS = (process.argv.find((a) => a.startsWith('--server-flags='))?.slice('--server-flags='.length) ?? '').split(',').filter((f) => f !== '');
const PROFILE_DIR = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const USER = 'bench';
const PASSWORD = 'bench-Secret-7';
const DESTINATION = 'fan';

interface Scenario {
  name: string;
  copies: number;
  shared: boolean;
}

interface RunResult {
  scenario: string;
  serverCpuSeconds: number;
  wallSeconds: number;
  peakRssBytes: number;
  entriesPerConsumer: number;
  /** GET replies with entries, summed over the consumers (fewer, fuller batches cost less per entry) */
  batches: number;
}

const ALL_SCENARIOS: Record<string, Scenario> = {
  one: { name: 'one destination', copies: 1, shared: true },
  shared: { name: `${COPIES} destinations, shared reader`, copies: COPIES, shared: true },
  separate: { name: `${COPIES} destinations, separate readers`, copies: COPIES, shared: false },
};
const SCENARIOS: Scenario[] = SCENARIO_KEYS.map((k) => {
  const sc = ALL_SCENARIOS[k];
  if (sc === undefined) throw new Error(`--scenarios: unknown scenario ${JSON.stringify(k)} (known: ${Object.keys(ALL_SCENARIOS).join(', ')})`);
  return sc;
});

async function runOnce(sb: Sandbox, start: { file: string; offset: number }, sc: Scenario, serverId: number, run: number): Promise<RunResult> {
  const job: ServerJob = {
    conn: sb.replConfig,
    serverId,
    start,
    destination: DESTINATION,
    canalUser: USER,
    canalPassword: PASSWORD,
    store: {},
    copies: sc.copies,
    sharedReader: sc.shared,
  };
  const deadlineMs = 600_000;
  const profile = PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${sc.copies}-${sc.shared ? 'shared' : 'separate'}-${run}`];
  const server = startWorker<ServerMsg>('server', job, { deadlineMs, nodeFlags: [...SERVER_NODE_FLAGS, ...SERVER_FLAGS, ...profile] });
  let peak = 0;
  let cpu = 0;
  server.proc.on('message', (m: ServerMsg) => {
    if (m.kind === 'rss') {
      peak = Math.max(peak, m.peakRssBytes);
      cpu = m.cpuSeconds;
    }
  });
  type ConsumerMsg = { kind: 'subscribed' } | { kind: 'result'; result: { results: { entries: number; batches: number; sentinelWallMs: number }[] } } | { kind: 'error'; message: string };
  let consumer: ReturnType<typeof startWorker<ConsumerMsg>> | undefined;
  try {
    await server.next((m) => m.kind === 'loaded', 'server loaded', 60_000);
    const t0 = performance.now();
    server.send({ kind: 'go' });
    const started = await server.next((m) => m.kind === 'started' || m.kind === 'error', 'server started', 120_000);
    if (started.kind !== 'started') throw new Error(`server: ${JSON.stringify(started)} ${server.stderrTail()}`);
    const destinations = sc.copies === 1 ? [DESTINATION] : Array.from({ length: sc.copies }, (_, k) => `${DESTINATION}-${k + 1}`);
    consumer = startWorker<ConsumerMsg>(
      'fanout-consumer',
      { port: started.port, destinations, user: USER, password: PASSWORD, batchSize: 1024, getTimeoutMs: 10, sentinelTable: SENTINEL_TABLE, deadlineMs },
      { deadlineMs },
    );
    const done = await consumer.next((m) => m.kind === 'result' || m.kind === 'error', 'every consumer at the sentinel', deadlineMs);
    if (done.kind !== 'result') throw new Error(`consumer: ${JSON.stringify(done)} ${consumer.stderrTail()}`);
    const wall = (performance.now() - t0) / 1000;
    // The server's last CPU figure after the work: ask it to stop, which reports once more.
    server.send({ kind: 'stop' });
    await server.exited;
    const entries = done.result.results.map((r) => r.entries);
    if (new Set(entries).size !== 1) throw new Error(`consumers received different entry counts: ${entries.join(',')}`);
    return { scenario: sc.name, serverCpuSeconds: cpu, wallSeconds: wall, peakRssBytes: peak, entriesPerConsumer: entries[0]!, batches: done.result.results.reduce((n, r) => n + r.batches, 0) };
  } finally {
    consumer?.kill();
    server.kill();
  }
}

const built = await buildWorkers();
useCompiledWorkers(built.workersDir);
const sb = await Sandbox.start({ database: 'bench', extraArgs: ['--innodb-buffer-pool-size=256M', '--binlog-annotate-row-events=OFF'] });
try {
  await createSchema(sb);
  process.stderr.write(`loading ${ROWS} rows (workload A: 1000-row INSERTs, 10 per transaction)...\n`);
  const span = await loadBatched(sb, FIRST_ID.A, ROWS, 'fanout');
  const start = { file: span.file, offset: 4 };
  const loadBefore = loadavg();
  const results: RunResult[] = [];
  let serverId = 7000 + (process.pid % 500) * 50;
  for (let r = 0; r < RUNS; r++) {
    for (const sc of SCENARIOS) {
      process.stderr.write(`run ${r + 1}/${RUNS}: ${sc.name}...\n`);
      results.push(await runOnce(sb, start, sc, serverId, r + 1));
      serverId += 25;
    }
  }
  const loadAfter = loadavg();
  const by = (name: string): RunResult[] => results.filter((x) => x.scenario === name);
  const oneCpu = median(by(SCENARIOS[0]!.name).map((x) => x.serverCpuSeconds)); // the first scenario listed is the unit
  const lines = [
    `fan-out: ${ROWS} rows (${span.bytes} binlog bytes), ${RUNS} runs, ${cpus().length} cores, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ${loadAfter.map((x) => x.toFixed(2)).join(' ')} after`,
    '| scenario | server CPU s (runs) | median | × one destination | peak RSS MB (max) | wall s (median) | batches (median, all consumers) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const sc of SCENARIOS) {
    const xs = by(sc.name);
    const cpu = median(xs.map((x) => x.serverCpuSeconds));
    lines.push(
      `| ${sc.name} | ${xs.map((x) => x.serverCpuSeconds.toFixed(2)).join(', ')} | ${cpu.toFixed(2)} | ${(cpu / oneCpu).toFixed(2)}× | ${(Math.max(...xs.map((x) => x.peakRssBytes)) / 2 ** 20).toFixed(0)} | ${median(xs.map((x) => x.wallSeconds)).toFixed(1)} | ${median(xs.map((x) => x.batches))} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(JSON.stringify({ rows: ROWS, copies: COPIES, runs: RUNS, loadBefore, loadAfter, results }) + '\n');
} finally {
  await sb.cleanup();
  await built.cleanup();
}
