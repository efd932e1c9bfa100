// A private ZooKeeper for one test file: Debian's zookeeper package (3.8, Java) started directly
// with QuorumPeerMain on free loopback ports and its own temporary data folder, as a standalone
// server or a three-node ensemble on this machine. Never the system service, never port 2181.
// Each java process is an OwnedProcess: it dies with this process whatever ends it.
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnedProcess } from './owned-process.ts';
import { freePort } from './sandbox.ts';

const JAVA_DIR = '/usr/share/java';
const CLASSPATH = [`${JAVA_DIR}/zookeeper.jar`, `${JAVA_DIR}/slf4j-simple.jar`].join(':');
const MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

export interface ZooKeeperOptions {
  /** ZooKeeper's tick (default 500 ms): session expiry is checked once per tick. */
  tickTimeMs?: number;
  /** The shortest session a client may negotiate (default 2 ticks). */
  minSessionTimeoutMs?: number;
  /** The longest session a client may negotiate (default 120 s, so tests can ask for Canal's 90 s). */
  maxSessionTimeoutMs?: number;
  /** How long start and restart wait for the node(s) to serve (default 30 s). */
  readyTimeoutMs?: number;
}

/** Sends a four-letter word and returns the whole answer ('' when nothing answers). */
export async function fourLetter(port: number, word: string, timeoutMs = 2_000): Promise<string> {
  return await new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(word));
    const done = (): void => {
      s.destroy();
      resolve(out);
    };
    s.setTimeout(timeoutMs, done);
    s.on('data', (b: Buffer) => (out += b.toString()));
    s.on('end', done);
    s.on('error', done);
  });
}

interface NodePorts {
  client: number;
  quorum: number;
  election: number;
}

export class ZooKeeperNode {
  private proc: OwnedProcess | undefined;

  constructor(
    /** myid: 1.. in an ensemble, 0 when standalone */
    readonly id: number,
    readonly dir: string,
    readonly ports: NodePorts,
    private readonly readyTimeoutMs: number,
  ) {}

  get port(): number {
    return this.ports.client;
  }

  get address(): string {
    return `127.0.0.1:${this.ports.client}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Starts java; does not wait (an ensemble member cannot serve before a quorum is up). */
  launch(): void {
    if (this.running) throw new Error(`ZooKeeper node ${this.id} is already running`);
    const log = openSync(join(this.dir, 'zookeeper.log'), 'a');
    this.proc = new OwnedProcess(
      'java',
      [
        '-Xmx96m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-Dzookeeper.admin.enableServer=false',
        '-cp',
        CLASSPATH,
        MAIN,
        join(this.dir, 'zoo.cfg'),
      ],
      ['ignore', log, log],
    );
    closeSync(log);
  }

  /** Answer to `srvr`, '' when the node does not answer. */
  async srvr(): Promise<string> {
    return await fourLetter(this.ports.client, 'srvr');
  }

  /** 'standalone' | 'leader' | 'follower', or undefined while it does not serve. */
  async mode(): Promise<string | undefined> {
    return /^Mode: (\w+)/m.exec(await this.srvr())?.[1];
  }

  /** Waits until this node serves clients (it is in a quorum, or standalone). */
  async waitServing(timeoutMs = this.readyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`ZooKeeper node ${this.id} exited before serving; its log:\n${await this.logTail()}`);
      if ((await this.mode()) !== undefined) return;
      if (Date.now() > deadline) throw new Error(`ZooKeeper node ${this.id} (port ${this.port}) did not serve within ${timeoutMs} ms; its log:\n${await this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async logTail(lines = 20): Promise<string> {
    try {
      return (await readFile(join(this.dir, 'zookeeper.log'), 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Clean stop (SIGTERM), waiting for the process to exit. */
  async stop(): Promise<void> {
    await this.proc?.terminate();
  }

  /** SIGKILL, waiting for the process to exit. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /** SIGSTOP: sockets stay open, nothing answers. */
  freeze(): void {
    this.proc?.freeze();
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    this.proc?.thaw();
  }

  /** Starts the node again on the same ports and data (after stop or kill); waits until it serves unless told not to. */
  async restart(wait = true): Promise<void> {
    await this.kill();
    this.launch();
    if (wait) await this.waitServing();
  }

}

export class ZooKeeper {
  private constructor(
    readonly dir: string,
    readonly nodes: ZooKeeperNode[],
    readonly options: Required<ZooKeeperOptions>,
  ) {}

  /** The client connect string: every node, comma-separated. */
  get connectString(): string {
    return this.nodes.map((n) => n.address).join(',');
  }

  /** One standalone server. */
  static async standalone(opts: ZooKeeperOptions = {}): Promise<ZooKeeper> {
    return await ZooKeeper.start(1, opts);
  }

  /** A three-node (or `size`-node) ensemble on loopback; resolves once every node serves. */
  static async ensemble(size = 3, opts: ZooKeeperOptions = {}): Promise<ZooKeeper> {
    return await ZooKeeper.start(size, opts);
  }

  private static async start(size: number, opts: ZooKeeperOptions): Promise<ZooKeeper> {
    const tick = opts.tickTimeMs ?? 500;
    const o: Required<ZooKeeperOptions> = {
      tickTimeMs: tick,
      minSessionTimeoutMs: opts.minSessionTimeoutMs ?? 2 * tick,
      maxSessionTimeoutMs: opts.maxSessionTimeoutMs ?? 120_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
    };
    // A port the kernel picked can be taken by another test before java binds it: try again.
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-zk-'));
      const zk = new ZooKeeper(dir, [], o);
      try {
        await zk.create(size);
        return zk;
      } catch (err) {
        lastErr = err;
        await zk.cleanup();
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  private async create(size: number): Promise<void> {
    const ports: NodePorts[] = [];
    const taken = new Set<number>();
    const pick = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    for (let i = 0; i < size; i++) ports.push({ client: await pick(), quorum: await pick(), election: await pick() });
    const o = this.options;
    for (let i = 0; i < size; i++) {
      const id = size === 1 ? 0 : i + 1;
      const dir = join(this.dir, `node${i + 1}`);
      await mkdir(join(dir, 'data'), { recursive: true });
      const lines = [
        `tickTime=${o.tickTimeMs}`,
        `dataDir=${join(dir, 'data')}`,
        `clientPort=${ports[i]!.client}`,
        'clientPortAddress=127.0.0.1',
        `minSessionTimeout=${o.minSessionTimeoutMs}`,
        `maxSessionTimeout=${o.maxSessionTimeoutMs}`,
        '4lw.commands.whitelist=srvr,ruok,stat,mntr,cons',
        'admin.enableServer=false',
        'maxClientCnxns=0',
        'autopurge.purgeInterval=0',
      ];
      if (size > 1) {
        lines.push('initLimit=10', 'syncLimit=5', 'cnxTimeout=1000');
        for (let j = 0; j < size; j++) lines.push(`server.${j + 1}=127.0.0.1:${ports[j]!.quorum}:${ports[j]!.election}`);
        await writeFile(join(dir, 'data', 'myid'), `${id}\n`);
      }
      await writeFile(join(dir, 'zoo.cfg'), lines.join('\n') + '\n');
      this.nodes.push(new ZooKeeperNode(id, dir, ports[i]!, o.readyTimeoutMs));
    }
    for (const n of this.nodes) n.launch();
    await Promise.all(this.nodes.map((n) => n.waitServing()));
  }

  /** Kills every node and removes the data folder. */
  async cleanup(): Promise<void> {
    for (const n of this.nodes) await n.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
