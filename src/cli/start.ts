// `sluice start`: loads the whole configuration first (nothing starts on a bad file), then the
// admin HTTP port, the Canal server and every instance. SIGTERM/SIGINT stop accepting, close
// sessions, stop parsers and flush cursors, then exit 0.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { SluiceConfig } from '../config/index.ts';
import { ClusterNode } from '../cluster/cluster-node.ts';
import { HaInstance } from '../cluster/ha-instance.ts';
import { Instance } from '../instance/instance.ts';
import { BinlogEndProbe } from '../observe/binlog-probe.ts';
import { LagReporter } from '../observe/lag-line.ts';
import { createLogger, instanceLogger, type Logger } from '../observe/logger.ts';
import { SluiceMetrics } from '../observe/metrics.ts';
import { AdminHttpServer } from '../observe/admin-http.ts';
import { CanalServer } from '../server/canal-server.ts';
import { MapRegistry } from '../server/registry.ts';
import { ListenError } from '../observe/listen-error.ts';
import { addConfigOption, EXIT_CONFIG, loadConfigOrExit } from './config-option.ts';
import { listenKeyHint } from './listen-key.ts';

export interface RunningSluice {
  canalPort: number;
  tlsPort?: number;
  adminPort?: number;
  /** plain instances standalone; in a ZooKeeper cluster, HaInstances (active or standby) */
  instances: (Instance | HaInstance)[];
  /** settles when every instance has reached running or failed (a source that is down keeps it pending) */
  ready: Promise<void>;
  /** stops everything in order; resolves when cursors are written */
  stop(): Promise<void>;
}

/** Starts everything a config describes. Instance failures are states, not exceptions. */
export async function startSluice(cfg: SluiceConfig, log: Logger): Promise<RunningSluice> {
  const s = cfg.server;
  const zk = s.zookeeper;
  // Instances exist before the server that serves them: a deposed one closes its clients through this.
  const clients = { close: (_destination: string, _reason: string): void => undefined };
  const node =
    zk === undefined
      ? undefined
      : new ClusterNode({ connect: zk.connect, sessionTimeoutMs: zk.sessionTimeoutMs, takeoverDelayMs: zk.takeoverDelayMs, cid: zk.cid, connectTimeoutMs: zk.connectTimeoutMs, logger: log.child({ component: 'cluster' }) });
  const instances = cfg.instances.map((ic) =>
    node === undefined
      ? new Instance({ config: ic, dataDir: s.dataDir, flushIntervalMs: s.flushIntervalMs, cursorDurability: s.cursorDurability, logger: instanceLogger(log, ic.destination) })
      : new HaInstance({
          config: ic,
          dataDir: s.dataDir,
          flushIntervalMs: s.flushIntervalMs,
          cursorDurability: s.cursorDurability,
          node,
          logger: instanceLogger(log, ic.destination),
          closeClients: (d, reason) => clients.close(d, reason),
        }),
  );
  const lag = new LagReporter({ intervalMs: s.lagIntervalMs });
  const metrics = new SluiceMetrics({ bytesBehind: (d) => lag.lastBytesBehind(d) });
  const probes: BinlogEndProbe[] = [];
  for (const [i, inst] of instances.entries()) {
    metrics.add(inst);
    const src = cfg.instances[i]!.source;
    const probe = new BinlogEndProbe({ host: src.host, port: src.port, user: src.user, password: src.password, connectTimeoutMs: src.connectTimeoutMs });
    probes.push(probe);
    // Bytes behind are counted on the server read: the standby's binlog once it has taken over.
    const sb = cfg.instances[i]!.standby;
    const standbyProbe = sb === undefined ? undefined : new BinlogEndProbe(sb);
    if (standbyProbe) probes.push(standbyProbe);
    lag.add(inst, instanceLogger(log, inst.destination), () => (standbyProbe !== undefined && inst.reading()?.role === 'standby' ? standbyProbe : probe).list());
  }

  let admin: AdminHttpServer | undefined;
  let adminPort: number | undefined;
  if (s.admin.enabled) {
    admin = new AdminHttpServer({
      host: s.admin.host,
      port: s.admin.port,
      metrics,
      health: () =>
        instances.map((i) => {
          const degraded = i.degraded();
          const source = i.reading();
          return { destination: i.destination, ...i.status(), ...(degraded !== undefined ? { degraded } : {}), ...(source !== undefined ? { source } : {}) };
        }),
      snapshots: { destinations: () => instances.map((i) => i.destination), snapshots: (d) => instances.find((i) => i.destination === d)?.snapshots() },
      logger: log,
    });
    adminPort = (await admin.listen()).port;
  }

  let tls: { port: number; key: Buffer; cert: Buffer; host?: string } | undefined;
  if (s.tls) {
    tls = { port: s.tls.port, key: await readFile(s.tls.keyFile), cert: await readFile(s.tls.certFile) };
    if (s.tls.host !== undefined) tls.host = s.tls.host;
  }
  const server = new CanalServer({
    host: s.listen.host,
    port: s.listen.port,
    ...(s.auth ? { user: s.auth.user, passwordHash: s.auth.passwordHash } : {}),
    maxFrameBytes: s.maxFrameBytes,
    ...(tls ? { tls } : {}),
    destinations: new MapRegistry(instances),
    logger: log.child({ component: 'server' }),
  });
  clients.close = (d, reason) => void server.closeSessionsOf(d, reason);
  let ports;
  try {
    ports = await server.start();
  } catch (err) {
    await admin?.close();
    throw err;
  }
  // In a cluster the server registers where clients reach it, which needs the bound port.
  if (node !== undefined) await node.start(zk?.registerAddress ?? `${s.listen.host}:${ports.port}`);
  // Ports open first and instances start in the background: a source that is down keeps its
  // instance retrying (visible in /health and the lag line) without holding up the others, and
  // clients of a destination that is not running get an error naming its state.
  const ready = Promise.all(
    instances.map((i) =>
      i.start().catch((err: unknown) => {
        log.error({ err, destination: i.destination }, 'instance could not be started');
      }),
    ),
  ).then(() => undefined);
  lag.start();

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      await server.stop();
      await lag.stop();
      // In a cluster each destination writes its last cursor, then releases `running` for a standby.
      await Promise.all(instances.map((i) => i.stop()));
      await node?.stop();
      await Promise.all(probes.map((p) => p.close()));
      await admin?.close();
    })();
    await stopping;
  };
  const out: RunningSluice = { canalPort: ports.port, instances, ready, stop };
  if (ports.tlsPort !== undefined) out.tlsPort = ports.tlsPort;
  if (adminPort !== undefined) out.adminPort = adminPort;
  return out;
}

/** Gives shutdown this long before giving up with exit 1 (a source that will not close its socket). */
export const SHUTDOWN_LIMIT_MS = 30_000;

export function registerStart(program: Command): void {
  addConfigOption(
    program
      .command('start')
      .description('start the Canal-compatible server, every configured instance and the admin HTTP port (/metrics, /health)')
      .option('--pretty', 'human-readable logs (default when stdout is a terminal)')
      .option('--json', 'JSON logs even on a terminal'),
  ).action(async (opts: { config: string; pretty?: boolean; json?: boolean }) => {
    const cfg = await loadConfigOrExit(opts.config);
    const pretty = opts.json ? false : opts.pretty ? true : cfg.server.log.pretty;
    const log = createLogger({ level: cfg.server.log.level, ...(pretty !== undefined ? { pretty } : {}) });
    log.info({ configDir: cfg.dir, format: cfg.format, destinations: cfg.instances.map((i) => i.destination), dataDir: cfg.server.dataDir }, 'configuration loaded');
    if (cfg.ignoredKeys.length > 0) log.info({ keys: cfg.ignoredKeys }, 'Canal keys sluice does not use (ignored)');

    let running: RunningSluice | undefined;
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal }, 'second signal: exiting without waiting for shutdown');
        process.exit(1);
      }
      signalled = true;
      if (running === undefined) {
        log.info({ signal }, 'stopped before any instance was started');
        process.exit(0);
      }
      log.info({ signal }, 'shutting down: closing sessions, stopping parsers, writing cursors');
      const limit = setTimeout(() => {
        try {
          log.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown did not finish in time; exiting');
        } finally {
          process.exit(1);
        }
      }, SHUTDOWN_LIMIT_MS);
      limit.unref();
      running.stop().then(
        () => {
          log.info({}, 'stopped cleanly');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    try {
      running = await startSluice(cfg, log);
    } catch (err) {
      if (err instanceof ListenError) {
        // A port taken is a setting to change, not a crash: one line naming the key, the usage exit code.
        process.stderr.write(`sluice: ${err.message}; ${listenKeyHint(cfg, err)}\n`);
        process.exit(EXIT_CONFIG);
      }
      log.fatal({ err }, 'sluice could not start');
      process.exit(1);
    }
    const states = (r: RunningSluice) => Object.fromEntries(r.instances.map((i) => [i.destination, i.status().state]));
    log.info({ canalPort: running.canalPort, tlsPort: running.tlsPort, adminPort: running.adminPort, states: states(running) }, 'sluice started');
    const r = running;
    void r.ready.then(() => {
      if (!signalled) log.info({ states: states(r) }, 'every instance has started or failed');
    });
  });
}
