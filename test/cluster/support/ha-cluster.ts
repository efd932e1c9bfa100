// sluice servers of one ZooKeeper cluster, each a real `sluice start` child process with its own
// config folder, data folder, Canal port and admin port, all replicating one sandbox. Started
// as OwnedProcesses, so they die with the test process whatever ends it.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OwnedProcess } from '../../support/owned-process.ts';
import { freePort, waitFor, type Sandbox } from '../../support/sandbox.ts';
import type { ZooKeeper } from '../../support/zookeeper.ts';
import type { ZkSession } from '../../../src/coord/zk-session.ts';
import { serverRunningPath } from '../../../src/coord/paths.ts';
import { parseServerRunning } from '../../../src/coord/running-data.ts';
import type { HealthBody } from '../../../src/observe/admin-http.ts';
import type { DestinationStatus } from '../../../src/instance/destination.ts';

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

export interface HaServerOptions {
  zookeeper: string;
  sessionTimeoutMs: number;
  takeoverDelayMs: number;
  flushIntervalMs: number;
  destination: string;
  /** where the instance starts when ZooKeeper has no cursor */
  start: { file: string; position: number };
}

export class HaServer {
  private proc: OwnedProcess | undefined;
  private out = '';

  private constructor(
    readonly name: string,
    readonly dir: string,
    public port: number,
    public adminPort: number,
    private readonly o: HaServerOptions,
  ) {}

  private serverFile(): Record<string, unknown> {
    const o = this.o;
    return {
      listen: { host: '127.0.0.1', port: this.port },
      admin: { host: '127.0.0.1', port: this.adminPort },
      dataDir: 'data',
      log: { level: 'info' },
      lagIntervalMs: 60_000,
      flushIntervalMs: o.flushIntervalMs,
      zookeeper: { connect: o.zookeeper, sessionTimeoutMs: o.sessionTimeoutMs, takeoverDelayMs: o.takeoverDelayMs },
    };
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Writes the config folder and starts the process; resolves once its admin port answers. */
  static async start(name: string, root: string, sb: Sandbox, o: HaServerOptions): Promise<HaServer> {
    const dir = join(root, name);
    await mkdir(join(dir, 'instances'), { recursive: true });
    const s = new HaServer(name, dir, await freePort(), await freePort(), o);
    await writeFile(
      join(dir, 'instances', `${o.destination}.json`),
      JSON.stringify({
        source: { host: sb.host, port: sb.port, user: sb.replConfig.user, password: sb.replConfig.password, connectTimeoutMs: 5_000 },
        start: o.start,
        filter: { include: `${sb.database}\\..*` },
        store: { maxEntries: 4096, batchMode: 'ITEMSIZE' },
        heartbeatMs: 2_000,
        retry: { initialMs: 100, maxMs: 1_000 },
      }),
    );
    await s.launch();
    return s;
  }

  private async writeServerFile(): Promise<void> {
    await writeFile(join(this.dir, 'sluice.json'), JSON.stringify(this.serverFile()));
  }

  /** Starts the process; a port another test took meanwhile is replaced by a free one (the address changes then). */
  async launch(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.writeServerFile();
      try {
        await this.launchOnce();
        return;
      } catch (err) {
        if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
        this.port = await freePort();
        this.adminPort = await freePort();
        this.out = '';
      }
    }
  }

  private async launchOnce(): Promise<void> {
    const p = new OwnedProcess(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', this.dir, '--json'], ['ignore', 'pipe', 'pipe']);
    this.proc = p;
    p.proc.stdout!.on('data', (b: Buffer) => (this.out += b.toString()));
    p.proc.stderr!.on('data', (b: Buffer) => (this.out += b.toString()));
    await waitFor(async () => {
      if (!this.running) throw new Error(`${this.name} exited before serving:\n${this.logTail()}`);
      return (await this.health()) !== undefined;
    }, `${this.name}'s admin port`, 60_000, 100);
  }

  /** The JSON log lines so far. */
  logLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* a partial line */
      }
    }
    return out;
  }

  logTail(n = 40): string {
    return this.out.split('\n').slice(-n).join('\n');
  }

  /** /health's body, or undefined when the process does not answer within a second. */
  async health(): Promise<HealthBody | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.adminPort}/health`, { signal: AbortSignal.timeout(1_000) });
      return (await res.json()) as HealthBody;
    } catch {
      return undefined;
    }
  }

  async status(destination: string): Promise<DestinationStatus | undefined> {
    return (await this.health())?.instances[destination];
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.adminPort}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return await res.text();
  }

  async kill9(): Promise<void> {
    await this.proc?.kill();
  }

  freeze(): void {
    this.proc?.freeze();
  }

  thaw(): void {
    this.proc?.thaw();
  }

  /** SIGTERM and wait for the exit code. */
  async terminate(): Promise<number | null> {
    return (await this.proc?.terminate()) ?? null;
  }

  /** Starts the same server again (same ports, config and data) after kill9 or terminate. */
  async restart(): Promise<void> {
    await this.kill9();
    this.out = '';
    await this.launch();
  }
}

/** The servers whose /health says they are active for the destination right now. */
export async function activeServers(servers: HaServer[], destination: string): Promise<HaServer[]> {
  const st = await Promise.all(servers.map(async (s) => (s.running ? await s.status(destination) : undefined)));
  return servers.filter((_, i) => st[i]?.ha?.role === 'active');
}

/** The server ZooKeeper's running node names for the destination, if any of `servers`. */
export async function runningServer(zk: ZkSession, servers: HaServer[], destination: string): Promise<HaServer | undefined> {
  const n = await zk.get(serverRunningPath(destination));
  const address = n === undefined ? undefined : parseServerRunning(n.data).address;
  return servers.find((s) => s.address === address);
}

/** What a cluster test starts; any part may be missing when its start failed. */
export interface ClusterParts {
  consumer?: { stop(): Promise<void> } | undefined;
  watcher?: ZkSession | undefined;
  servers: HaServer[];
  zk?: ZooKeeper | undefined;
  sb?: Sandbox | undefined;
  root?: string | undefined;
}

/** A cluster test's after-hook: consumer, watcher, servers, ZooKeeper, MariaDB, then the folder. */
export async function tearDownCluster(p: ClusterParts): Promise<void> {
  await p.consumer?.stop();
  await p.watcher?.close();
  for (const s of p.servers) await s.kill9();
  await p.zk?.cleanup();
  await p.sb?.cleanup();
  if (p.root !== undefined) await rm(p.root, { recursive: true, force: true });
}
