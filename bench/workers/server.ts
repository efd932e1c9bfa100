// The server process of the end-to-end runs: sluice as `sluice start` runs it (startSluice on a
// config directory: Canal server, admin HTTP, lag reporter, one instance with its meta store),
// with every setting the bench does not need to choose left at its default. The config is loaded
// up front; the server starts when told to ('go'), so the clock starts with sluice itself, as
// the raw zongji baseline's starts with zongji.start(). It reports its peak RSS while it runs
// and once more when it stops.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { startSluice, type RunningSluice } from '../../src/cli/start.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { wallMs } from '../dataset.ts';
import { boundWorker, cpuSeconds, peakRssBytes, send, workerConfig } from './worker-support.ts';
import type { ServerJob } from '../measures.ts';

const cfg = workerConfig<ServerJob>();
const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-server-'));
let running: RunningSluice | undefined;

// CPU is counted from 'go', as zongji's from start(): module loading and config are not streaming.
let cpuAtGo: number | undefined;
const report = (): void => send({ kind: 'rss', peakRssBytes: peakRssBytes(), cpuSeconds: cpuAtGo === undefined ? 0 : cpuSeconds() - cpuAtGo });
const ticker = setInterval(report, 250);
ticker.unref();

boundWorker(async () => {
  clearInterval(ticker);
  report();
  try {
    await running?.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const fail = (what: string, err: unknown): void => {
  send({ kind: 'error', message: `${what}: ${err instanceof Error ? err.message : String(err)}` });
};

try {
  await mkdir(join(dir, 'instances'));
  await writeFile(
    join(dir, 'sluice.json'),
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      user: cfg.canalUser,
      passwordHash: storedPasswordHash(cfg.canalPassword),
      admin: { host: '127.0.0.1', port: 0 },
      dataDir: join(dir, 'data'),
      log: { level: 'warn', pretty: false },
    }),
  );
  const copies = cfg.copies ?? 1;
  for (let k = 0; k < copies; k++) {
    await writeFile(
      join(dir, 'instances', `${copies === 1 ? cfg.destination : `${cfg.destination}-${k + 1}`}.json`),
      JSON.stringify({
        source: { host: cfg.conn.host, port: cfg.conn.port, user: cfg.conn.user, password: cfg.conn.password, slaveId: cfg.serverId + k },
        start: { file: cfg.start.file, position: cfg.start.offset },
        ...(Object.keys(cfg.store).length > 0 ? { store: cfg.store } : {}),
        ...(cfg.sharedReader !== undefined ? { reader: { shared: cfg.sharedReader } } : {}),
      }),
    );
  }
  const config = await loadConfig(dir);
  // Warnings and errors go to stderr, which the bench shows only when this process fails.
  const log = createLogger({ level: config.server.log.level, pretty: false, stream: process.stderr });

  process.on('message', (m) => {
    if ((m as { kind?: string }).kind !== 'go') return;
    const at = wallMs();
    cpuAtGo = cpuSeconds();
    startSluice(config, log).then(
      async (r) => {
        running = r;
        // A client is refused until its instance runs: report the start once every one does.
        const deadline = Date.now() + 60_000;
        for (const inst of r.instances) {
          for (;;) {
            const st = inst.status();
            if (st.state === 'running') break;
            if (st.state === 'failed' || Date.now() > deadline) {
              fail(`instance ${inst.destination}`, `${st.state}${st.error ? `: ${st.error}` : ''}`);
              return;
            }
            await new Promise((res) => setTimeout(res, 5));
          }
        }
        send({ kind: 'started', wallMs: at, port: r.canalPort });
      },
      (err: unknown) => fail('sluice start', err),
    );
  });
  send({ kind: 'loaded' });
} catch (err) {
  fail('server set-up', err);
}
