// A private PostgreSQL server for one test file: its own data directory and socket folder, a
// free loopback port, trust authentication, and durability switched off (the data is thrown
// away). Nothing here touches the system server on 5432.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, chown, constants, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './sandbox.ts';
import { dieWithParent } from '../../src/cli/parent-death.ts';

const execFileP = promisify(execFile);

export interface PostgresSandboxOptions {
  /** Database created for the test (default sluice_test). */
  database?: string;
  /** Extra `-c name=value` settings for the server, appended last. */
  settings?: Record<string, string>;
}

export interface PostgresConfig {
  host: string;
  port: number;
  user: string;
  database: string;
}

const INSTALL_HINT = 'apt-get install -y postgresql (the system service need not run)';

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holding both initdb and postgres: PATH first (so a caller can pick a version),
 * then Debian's /usr/lib/postgresql/<version>/bin, newest version first. Debian does not put
 * the server binaries on PATH, which is why the versioned folders are searched at all.
 */
export async function findPostgresBin(): Promise<string> {
  const candidates = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  try {
    const versions = (await readdir('/usr/lib/postgresql')).filter((v) => /^\d+(\.\d+)?$/.test(v));
    versions.sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join('/usr/lib/postgresql', v, 'bin')));
  } catch {
    /* no Debian layout: PATH is all there is */
  }
  for (const dir of candidates) {
    if ((await isExecutable(join(dir, 'initdb'))) && (await isExecutable(join(dir, 'postgres')))) return dir;
  }
  throw new Error(`PostgreSQL server binaries (initdb, postgres) not found on PATH or under /usr/lib/postgresql/*/bin. Install them: ${INSTALL_HINT}.`);
}

/**
 * PostgreSQL refuses to run as root. Under root, initdb and postgres run as the `postgres`
 * system user (spawned with its uid/gid, so the child pid is the postmaster itself and signals
 * reach it directly); under any other user they run as that user.
 */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let line: string;
  try {
    line = (await execFileP('getent', ['passwd', 'postgres'])).stdout.trim();
  } catch {
    throw new Error(`running as root, and there is no 'postgres' system user to run PostgreSQL as (it refuses root). ${INSTALL_HINT} creates it.`);
  }
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

const live = new Set<PostgresSandbox>();
process.on('exit', () => {
  for (const s of live) s.killSync();
});

export class PostgresSandbox {
  readonly dir: string;
  readonly datadir: string;
  /** The folder holding the server's Unix socket (`-k`). */
  readonly socketDir: string;
  readonly host = '127.0.0.1';
  readonly user = 'postgres';
  readonly database: string;
  port: number;
  private proc: ChildProcess | undefined;
  private pool: pg.Pool | undefined;
  private readonly logFile: string;

  private constructor(
    dir: string,
    port: number,
    private readonly bin: string,
    private readonly identity: { uid: number; gid: number } | undefined,
    private readonly opts: PostgresSandboxOptions,
  ) {
    this.dir = dir;
    this.datadir = join(dir, 'data');
    this.socketDir = dir;
    this.logFile = join(dir, 'postgres.log');
    this.port = port;
    this.database = opts.database ?? 'sluice_test';
  }

  /** Creates the cluster, starts the server, and creates the test database. */
  static async start(opts: PostgresSandboxOptions = {}): Promise<PostgresSandbox> {
    const bin = await findPostgresBin();
    const identity = await serverIdentity();
    const dir = await mkdtemp(join(tmpdir(), 'sluice-postgres-'));
    try {
      if (identity) await chown(dir, identity.uid, identity.gid);
      await execFileP(
        join(bin, 'initdb'),
        ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
        { cwd: dir, ...identity },
      );
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      const e = err as Error & { stderr?: string };
      throw new Error(`initdb (${bin}) failed: ${e.stderr?.trim() || e.message}`);
    }
    // A port picked by the kernel can be taken by another test file before postgres binds it: retry.
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const sb = new PostgresSandbox(dir, await freePort(), bin, identity, opts);
      try {
        await sb.launch();
        await sb.adminQuery(`CREATE DATABASE "${sb.database}"`);
        live.add(sb);
        return sb;
      } catch (err) {
        lastErr = err;
        await sb.kill();
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  private async launch(): Promise<void> {
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '16MB',
      max_connections: '50',
      ...this.opts.settings,
    };
    const args = ['-D', this.datadir, '-p', String(this.port), '-k', this.socketDir];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const log = openSync(this.logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(...dieWithParent(join(this.bin, 'postgres'), args), { cwd: this.dir, stdio: ['ignore', log, log], ...this.identity });
    } finally {
      closeSync(log);
    }
    this.proc = proc;
    let exited: string | undefined;
    proc.once('exit', (code, signal) => {
      exited = `postgres exited (code ${code}, signal ${signal})`;
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exited !== undefined) {
        let tail = '';
        try {
          tail = (await readFile(this.logFile, 'utf8')).split('\n').slice(-15).join('\n');
        } catch {
          /* no log yet */
        }
        throw new Error(`${exited} before accepting connections on port ${this.port}; last lines of its log:\n${tail}`);
      }
      const c = new pg.Client({ host: this.host, port: this.port, user: this.user, database: 'postgres', connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 20 s (port ${this.port}, log ${this.logFile})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private async adminQuery(sql: string): Promise<void> {
    const c = new pg.Client({ host: this.host, port: this.port, user: this.user, database: 'postgres' });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  /** Connection options (TCP, trust auth) for the test database, ready for `new pg.Client(...)`. */
  get config(): PostgresConfig {
    return { host: this.host, port: this.port, user: this.user, database: this.database };
  }

  /** Runs SQL in the test database; returns its rows. */
  async sql<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]> {
    this.pool ??= new pg.Pool({ ...this.config, max: 4 });
    return (await this.pool.query<T>(sql, params)).rows;
  }

  /**
   * Stops the server: SIGQUIT is PostgreSQL's immediate shutdown (the postmaster takes its
   * backends down and releases shared memory, with no checkpoint); SIGKILL if it hangs.
   */
  private async kill(): Promise<void> {
    const proc = this.proc;
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.end().catch(() => undefined);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGQUIT');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }

  killSync(): void {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }

  /** Stops the server and removes its folder. */
  async cleanup(): Promise<void> {
    await this.kill();
    live.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }
}
