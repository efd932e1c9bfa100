// A private MariaDB server for one test file: its own data directory, a free loopback port,
// ROW binlogs with FULL images and metadata, and a replication account. Nothing here touches
// the system server on 3306 or any file outside the sandbox's temporary folder.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { dieWithParent } from '../../src/cli/parent-death.ts';

const execFileP = promisify(execFile);

export interface SandboxOptions {
  /** binlog_row_metadata at start-up; FULL unless a test wants to see preflight fail. */
  binlogRowMetadata?: 'FULL' | 'MINIMAL' | 'NO_LOG';
  binlogRowImage?: 'FULL' | 'MINIMAL' | 'NOBLOB';
  binlogFormat?: 'ROW' | 'STATEMENT' | 'MIXED';
  /** false starts the server without --log-bin. */
  logBin?: boolean;
  serverId?: number;
  /** Extra mariadbd arguments, appended last. */
  extraArgs?: string[];
  /** Database created for the test (default sluice_test). */
  database?: string;
  /**
   * false: the account and database are created without writing them to the binlog (a replica,
   * whose binlog must hold only what it replicates, gets them from its master's history instead).
   */
  logSetup?: boolean;
}

export interface SqlResultRow {
  [column: string]: unknown;
}

export const REPL_USER = 'sluice_repl';
export const REPL_PASSWORD = 'repl-Secret-42';

let nextServerId = 100 + (process.pid % 1000) * 10;

// Ports are drawn below the kernel's ephemeral range (32768-60999 here): a port the kernel hands out
// for bind(0) is also one it hands to outgoing connections, so with many test files connecting at once
// a port found free could be taken by someone's client socket before the server bound it (seen:
// EADDRINUSE for a sluice admin port). Within one process a port is handed out once.
const PORT_LOW = 20_000;
const PORT_HIGH = 32_000;
const handedOut = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Finds a loopback port that is free right now, outside the range outgoing connections use. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));
    if (handedOut.has(port)) continue;
    if (await tryListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found between ${PORT_LOW} and ${PORT_HIGH}`);
}

/** Polls `check` until it returns true or the deadline passes; throws with `what` on timeout. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const live = new Set<Sandbox>();
process.on('exit', () => {
  for (const s of live) s.killSync();
});

export class Sandbox {
  readonly dir: string;
  readonly datadir: string;
  readonly socket: string;
  readonly host = '127.0.0.1';
  port: number;
  readonly serverId: number;
  readonly database: string;
  private proc: ChildProcess | undefined;
  private pool: mysql.Pool | undefined;
  private readonly args: string[];

  private constructor(dir: string, port: number, opts: SandboxOptions) {
    this.dir = dir;
    this.datadir = join(dir, 'data');
    this.socket = join(dir, 'mariadbd.sock');
    this.port = port;
    this.serverId = opts.serverId ?? nextServerId++;
    this.database = opts.database ?? 'sluice_test';
    const a = [
      '--no-defaults',
      '--user=root',
      `--datadir=${this.datadir}`,
      `--socket=${this.socket}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      `--server-id=${this.serverId}`,
      `--log-error=${join(dir, 'mariadbd.err')}`,
      `--pid-file=${join(dir, 'mariadbd.pid')}`,
      // Each server clears stale #sql* files from its tmpdir at start: a shared /tmp races with other sandboxes.
      `--tmpdir=${dir}`,
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--innodb-flush-log-at-trx-commit=2',
      '--max-allowed-packet=256M',
      '--max-connections=200',
      '--performance-schema=OFF',
    ];
    if (opts.logBin !== false) {
      a.push(
        `--log-bin=${join(this.datadir, 'binlog')}`,
        `--binlog-format=${opts.binlogFormat ?? 'ROW'}`,
        `--binlog-row-image=${opts.binlogRowImage ?? 'FULL'}`,
        `--binlog-row-metadata=${opts.binlogRowMetadata ?? 'FULL'}`,
        '--sync-binlog=0',
      );
    }
    a.push(...(opts.extraArgs ?? []));
    this.args = a;
  }

  /** Creates the data directory, starts the server, and creates the replication account and test database. */
  static async start(opts: SandboxOptions = {}): Promise<Sandbox> {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-mariadb-'));
    try {
      await execFileP('mariadb-install-db', [
        '--no-defaults',
        '--user=root',
        `--datadir=${join(dir, 'data')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        `--tmpdir=${dir}`,
        '--innodb-log-file-size=16M',
        '--innodb-buffer-pool-size=32M',
      ]);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(
        `mariadb-install-db failed (${(err as Error).message}). sluice's tests need MariaDB's server binaries: ` +
          'apt-get install -y mariadb-server (the system service need not run).',
      );
    }
    // A port picked by the kernel can be taken by another test file before mariadbd binds it: retry.
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const sb = new Sandbox(dir, await freePort(), opts);
      try {
        await sb.launch();
        await sb.rootQuery(
          (opts.logSetup === false ? 'SET SESSION sql_log_bin = 0;' : '') +
          `CREATE USER '${REPL_USER}'@'%' IDENTIFIED BY '${REPL_PASSWORD}';` +
            `CREATE USER '${REPL_USER}'@'localhost' IDENTIFIED BY '${REPL_PASSWORD}';` +
            `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD ON *.* TO '${REPL_USER}'@'%';` +
            `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD ON *.* TO '${REPL_USER}'@'localhost';` +
            `CREATE DATABASE IF NOT EXISTS \`${sb.database}\`;`,
        );
        live.add(sb);
        return sb;
      } catch (err) {
        lastErr = err;
        sb.killSync();
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  /**
   * A second server replicating `master` with GTIDs (CHANGE MASTER TO ... MASTER_USE_GTID =
   * slave_pos), logging what it replicates (log_slave_updates) with the same ROW/FULL/FULL binlog
   * settings and its own server id: a standby a sluice instance can switch to. It starts after
   * the master's current GTID position (the master's own account and database are already
   * created here) and retries a lost master every second.
   */
  static async startReplica(master: Sandbox, opts: SandboxOptions = {}): Promise<Sandbox> {
    const sb = await Sandbox.start({ ...opts, logSetup: false, extraArgs: ['--log-slave-updates', ...(opts.extraArgs ?? [])] });
    try {
      const { gtid } = await master.masterStatus();
      await sb.rootQuery(
        `SET GLOBAL gtid_slave_pos = '${gtid}';` +
          `CHANGE MASTER TO MASTER_HOST = '${master.host}', MASTER_PORT = ${master.port}, MASTER_USER = '${REPL_USER}', ` +
          `MASTER_PASSWORD = '${REPL_PASSWORD}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;` +
          'START SLAVE;',
      );
    } catch (err) {
      await sb.cleanup();
      throw err;
    }
    return sb;
  }

  /** Waits until this replica has applied everything `master` has logged now. */
  async waitCaughtUp(master: Sandbox, timeoutMs = 30_000): Promise<void> {
    const { gtid } = await master.masterStatus();
    const rows = await this.sql<{ r: number | string | null }[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [gtid, timeoutMs / 1000]);
    if (Number(rows[0]?.r) !== 0) throw new Error(`replica on port ${this.port} did not reach the master's GTID position ${gtid} within ${timeoutMs} ms`);
  }

  /** STOP SLAVE (both threads), START SLAVE, or only the applier (SQL thread): the relay log still fills. */
  async stopReplication(): Promise<void> {
    await this.rootQuery('STOP SLAVE');
  }

  async startReplication(): Promise<void> {
    await this.rootQuery('START SLAVE');
  }

  async stopApplier(): Promise<void> {
    await this.rootQuery('STOP SLAVE SQL_THREAD');
  }

  async startApplier(): Promise<void> {
    await this.rootQuery('START SLAVE SQL_THREAD');
  }

  /** The replica's @@gtid_binlog_pos: what its own binlog holds. */
  async binlogGtid(): Promise<string> {
    const rows = await this.sql<{ g: string }[]>('SELECT @@GLOBAL.gtid_binlog_pos AS g');
    return rows[0]!.g;
  }

  private async launch(): Promise<void> {
    // dieWithParent: the server goes when this process goes, even by SIGKILL (a test timeout).
    const proc = spawn(...dieWithParent('mariadbd', [...this.args, `--port=${this.port}`]), { stdio: 'ignore' });
    this.proc = proc;
    let exited: string | undefined;
    proc.once('exit', (code, signal) => {
      exited = `mariadbd exited (code ${code}, signal ${signal})`;
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (exited !== undefined) {
        let log = '';
        try {
          log = (await readFile(join(this.dir, 'mariadbd.err'), 'utf8')).split('\n').slice(-15).join('\n');
        } catch {
          /* no log yet */
        }
        throw new Error(`${exited} before accepting connections; last lines of its log:\n${log}`);
      }
      try {
        const c = await mysql.createConnection({ socketPath: this.socket, user: 'root', connectTimeout: 1000 });
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`mariadbd did not accept connections within 15 s (port ${this.port})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  /** Connection options for the replication account over TCP, as sluice would use them. */
  get replConfig(): { host: string; port: number; user: string; password: string } {
    return { host: this.host, port: this.port, user: REPL_USER, password: REPL_PASSWORD };
  }

  /** Root connection options over TCP. */
  get rootConfig(): { host: string; port: number; user: string; password: string } {
    return { host: this.host, port: this.port, user: 'root', password: '' };
  }

  private getPool(): mysql.Pool {
    this.pool ??= mysql.createPool({
      socketPath: this.socket,
      user: 'root',
      database: this.database,
      multipleStatements: true,
      connectionLimit: 4,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
    return this.pool;
  }

  private async rootQuery(sql: string): Promise<void> {
    const c = await mysql.createConnection({ socketPath: this.socket, user: 'root', multipleStatements: true });
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  /** Runs SQL as root in the test database; returns the rows of a SELECT (or the result header). */
  async sql<T = SqlResultRow[]>(sql: string, params?: unknown[]): Promise<T> {
    const [rows] = await this.getPool().query(sql, params);
    return rows as T;
  }

  /** Runs several statements inside one transaction on one connection. */
  async transaction(statements: string[]): Promise<void> {
    const c = await this.getPool().getConnection();
    try {
      await c.query('START TRANSACTION');
      for (const s of statements) await c.query(s);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  }

  /**
   * PURGE BINARY LOGS TO `file`, repeated until it took effect: MariaDB keeps a file until its
   * binlog checkpoint (InnoDB durability of its transactions) has passed, so a purge right after
   * a rotation can silently remove nothing.
   */
  async purgeBinlogsTo(file: string): Promise<void> {
    await waitFor(
      async () => {
        await this.sql(`PURGE BINARY LOGS TO '${file}'`);
        const logs = await this.sql<{ Log_name: string }[]>('SHOW BINARY LOGS');
        return logs[0]?.Log_name === file;
      },
      `the binlogs before ${file} to be purged`,
      30_000,
      200,
    );
  }

  /** The current end of the binlog (SHOW MASTER STATUS). */
  async masterStatus(): Promise<{ file: string; position: number; gtid: string }> {
    const rows = await this.sql<{ File: string; Position: number | string }[]>('SHOW MASTER STATUS');
    const g = await this.sql<{ g: string }[]>('SELECT @@GLOBAL.gtid_binlog_pos AS g');
    return { file: rows[0]!.File, position: Number(rows[0]!.Position), gtid: g[0]!.g };
  }

  private async closePool(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.end().catch(() => undefined);
  }

  /** SIGKILLs the server (no clean shutdown) and waits until the process is gone. */
  async kill9(): Promise<void> {
    const proc = this.proc;
    await this.closePool();
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGKILL');
    await gone;
  }

  /** Stops the process with SIGSTOP: its sockets stay open but nothing answers (a half-open source). */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** Resumes a frozen server. */
  thaw(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Starts the server again on the same port and data directory (after kill9 or stop). */
  async restart(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) await this.kill9();
    await this.launch();
  }

  /** Clean shutdown (SIGTERM) and wait for exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    await this.closePool();
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    await gone;
  }

  killSync(): void {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
    }
  }

  /** Kills the server and removes its folder. */
  async cleanup(): Promise<void> {
    await this.kill9();
    live.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }
}
