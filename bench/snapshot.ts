// `npm run bench:snapshot`: snapshot throughput (docs/snapshots.md) on an idle source, beside a
// plain SELECT of the same table in the same run. Starts a private MariaDB, loads a table of
// 1,000,000 rows (or --rows N), starts `sluice start` in its own process, and alternates:
//   - the baseline: `SELECT * FROM t` through mysql2 in this process, rows streamed and counted;
//   - a snapshot requested on the admin port, timed from the request until the TypeScript client
//     (this process) has received and acknowledged every row.
// Reports medians, the ratio, the server's peak RSS and CPU seconds per snapshot, and the load.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2';
import { Sandbox, freePort, waitFor } from '../test/support/sandbox.ts';
import { CanalClient } from '../src/client/canal-client.ts';
import { dieWithParent } from '../src/cli/parent-death.ts';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { buildWorkers } from './build-workers.ts';

const execFileP = promisify(execFile);
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('--rows', 1_000_000);
const RUNS = arg('--runs', 3);
const CHUNK = arg('--chunk-size', 4096);
const profIndex = process.argv.indexOf('--prof');
/** --prof DIR: the server runs under --cpu-prof and writes its profile into DIR when stopped */
const PROF_DIR = profIndex >= 0 ? process.argv[profIndex + 1] : undefined;
const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function procStat(pid: number): Promise<{ cpuSeconds: number; peakRssBytes: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / 100, peakRssBytes: hwm };
}

/** CPU seconds this process (the client, or the SELECT's reader) used since `from`. */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

async function plainSelect(sb: Sandbox): Promise<{ rowsPerSec: number; cpu: number }> {
  const conn = mysql.createConnection({ ...sb.rootConfig, database: sb.database, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    conn
      .query('SELECT * FROM snap_t')
      .stream()
      .on('data', () => n++)
      .on('end', () => resolve())
      .on('error', reject);
  });
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSince(c0);
  conn.end();
  if (n !== ROWS) throw new Error(`the SELECT returned ${n} rows, expected ${ROWS}`);
  return { rowsPerSec: n / s, cpu };
}

async function main(): Promise<void> {
  const head = (await execFileP('git', ['rev-parse', '--short', 'HEAD']).catch(() => ({ stdout: 'unknown' }))).stdout.trim();
  log(`snapshot bench at ${head}: ${ROWS} rows, ${RUNS} runs, chunk size ${CHUNK}`);
  const built = await buildWorkers();
  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-snap-'));
  let server: ReturnType<typeof spawn> | undefined;
  try {
    await sb.sql('CREATE TABLE snap_t (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT, price DECIMAL(10,2), created DATETIME, note VARCHAR(100))');
    log('loading the table');
    for (let from = 1; from <= ROWS; from += 200_000) {
      const to = Math.min(ROWS, from + 199_999);
      await sb.sql(
        `INSERT INTO snap_t SELECT seq, CONCAT('product-', seq), seq % 1000, (seq % 100000) / 100, '2024-01-01 00:00:00' + INTERVAL seq SECOND, IF(seq % 3 = 0, NULL, 'a short note') FROM seq_${from}_to_${to}`,
      );
    }
    const [canalPort, adminPort] = [await freePort(), await freePort()];
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: canalPort }, admin: { port: adminPort }, dataDir: join(dir, 'data'), log: { level: 'warn' } }));
    await writeFile(join(dir, 'instances', 'bench.json'), JSON.stringify({ source: { ...sb.replConfig }, snapshot: { chunkSize: CHUNK } }));
    const prof = PROF_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [];
    // Compiled, with the server's own V8 flags: what production runs (no TypeScript loader in the
    // measured process's CPU and RSS).
    server = spawn(...dieWithParent(process.execPath, [...SERVER_NODE_FLAGS, ...prof, built.cliMain, 'start', '--config', dir, '--json']), { stdio: ['ignore', 'ignore', 'inherit'] });
    const pid = server.pid!;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/health`).catch(() => undefined))?.status === 200, 'sluice to run', 60_000, 200);
    const client = new CanalClient({ host: '127.0.0.1', port: canalPort, destination: 'bench', clientId: '1001' });
    await client.connect();
    await client.subscribe('');

    const selects: number[] = [];
    const snaps: number[] = [];
    const cpu: number[] = [];
    const clientCpu: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const sel = await plainSelect(sb);
      selects.push(sel.rowsPerSec);
      log(`run ${run}: plain SELECT ${Math.round(sel.rowsPerSec)} rows/s (reader CPU ${sel.cpu.toFixed(2)} s)`);
      const before = await procStat(pid);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const res = await fetch(`http://127.0.0.1:${adminPort}/snapshots?destination=bench`, { method: 'POST', body: JSON.stringify({ table: `${sb.database}.snap_t` }) });
      if (res.status !== 202) throw new Error(`snapshot refused: ${await res.text()}`);
      let rows = 0;
      while (rows < ROWS) {
        // A short wait: a get for a full batch (4096 x 1 KiB in MEMSIZE mode) would otherwise wait
        // out its whole timeout for the last, smaller one, and time the client's patience.
        const b = await client.getWithoutAck(4096, 50);
        if (b.id === -1) continue;
        for (const e of b) if (e.entryType === 'ROWDATA' && e.props.snapshot === 'true') rows += e.rows.length;
        await client.ack(b.id);
      }
      const s = (performance.now() - t0) / 1000;
      const cc = cpuSince(c0);
      const after = await procStat(pid);
      snaps.push(rows / s);
      cpu.push(after.cpuSeconds - before.cpuSeconds);
      clientCpu.push(cc);
      log(`run ${run}: snapshot ${Math.round(rows / s)} rows/s (${s.toFixed(2)} s, server CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} s, client CPU ${cc.toFixed(2)} s)`);
      await waitFor(
        async () => {
          const st = (await (await fetch(`http://127.0.0.1:${adminPort}/snapshots?destination=bench`)).json()) as { destinations: { bench: { state: string }[] } };
          return st.destinations.bench.every((x) => x.state === 'done');
        },
        'the snapshot to complete',
        30_000,
        100,
      );
    }
    await client.disconnect();
    const peak = (await procStat(pid)).peakRssBytes;
    const out = {
      commit: head,
      rows: ROWS,
      chunkSize: CHUNK,
      runs: RUNS,
      selectRowsPerSec: Math.round(median(selects)),
      snapshotRowsPerSec: Math.round(median(snaps)),
      ratio: Math.round((median(snaps) / median(selects)) * 100) / 100,
      serverCpuSecondsPerSnapshot: Math.round(median(cpu) * 100) / 100,
      clientCpuSecondsPerSnapshot: Math.round(median(clientCpu) * 100) / 100,
      serverPeakRssMiB: Math.round(peak / 1048576),
      all: { selects: selects.map(Math.round), snapshots: snaps.map(Math.round) },
      load: loadavg().map((x) => Math.round(x * 10) / 10),
      at: new Date().toISOString(),
    };
    process.stdout.write(
      `plain SELECT (mysql2, streamed)   ${out.selectRowsPerSec} rows/s (median of ${RUNS})\n` +
        `snapshot to the client (acked)    ${out.snapshotRowsPerSec} rows/s = ${out.ratio}x the SELECT (target >= 0.5x)\n` +
        `server: ${out.serverCpuSecondsPerSnapshot} CPU s per snapshot (client ${out.clientCpuSecondsPerSnapshot} s), peak RSS ${out.serverPeakRssMiB} MiB; load ${out.load.join(' ')}\n` +
        JSON.stringify(out) +
        '\n',
    );
  } finally {
    if (server !== undefined && PROF_DIR !== undefined) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    server?.kill('SIGKILL');
    await sb.cleanup();
    await rm(dir, { recursive: true, force: true });
    await built.cleanup();
  }
}

await main();
