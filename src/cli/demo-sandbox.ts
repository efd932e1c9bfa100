// A throw-away MariaDB for `npm run demo`: its own data directory under the OS temp folder, a
// kernel-chosen loopback port, ROW binlogs with FULL images and metadata, and a replication
// account. It never touches a system server or its files.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { dieWithParent } from './parent-death.ts';

const execFileP = promisify(execFile);

export const DEMO_REPL_USER = 'sluice_demo';

export const INSTALL_HINT =
  'The demo runs its own MariaDB server and needs its binaries (mariadbd and mariadb-install-db). ' +
  'Install them with `sudo apt-get install -y mariadb-server` (Debian/Ubuntu), `sudo dnf install mariadb-server` (Fedora), ' +
  'or `brew install mariadb` (macOS); the system service does not need to run. /usr/sbin must be on PATH.';

export class MissingMariaDbError extends Error {
  constructor(detail: string) {
    super(`${detail}. ${INSTALL_HINT}`);
    this.name = 'MissingMariaDbError';
  }
}

async function onPath(cmd: string): Promise<boolean> {
  const dirs = (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/usr/local/bin']);
  for (const d of dirs) {
    try {
      await execFileP('test', ['-x', join(d, cmd)]);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

async function pickPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class DemoMariaDb {
  readonly host = '127.0.0.1';
  private proc: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
  ) {}

  get socket(): string {
    return join(this.dir, 'mariadbd.sock');
  }

  /** Installs a data directory and starts the server; throws MissingMariaDbError without the binaries. */
  static async start(): Promise<DemoMariaDb> {
    for (const bin of ['mariadbd', 'mariadb-install-db']) {
      if (!(await onPath(bin))) throw new MissingMariaDbError(`${bin} was not found`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'sluice-demo-'));
    const env = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/usr/local/sbin` };
    try {
      const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
      await execFileP('mariadb-install-db', ['--no-defaults', ...asRoot, `--datadir=${join(dir, 'data')}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { env });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new MissingMariaDbError(`mariadb-install-db failed (${(err as Error).message.split('\n')[0]})`);
    }
    const db = new DemoMariaDb(dir, await pickPort(), 'demo-' + Math.random().toString(36).slice(2, 10));
    try {
      await db.launch(env);
      const c = await mysql.createConnection({ socketPath: db.socket, user: 'root', multipleStatements: true });
      try {
        await c.query(
          `CREATE USER '${DEMO_REPL_USER}'@'%' IDENTIFIED BY '${db.password}';` +
            `CREATE USER '${DEMO_REPL_USER}'@'localhost' IDENTIFIED BY '${db.password}';` +
            `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '${DEMO_REPL_USER}'@'%';` +
            `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '${DEMO_REPL_USER}'@'localhost';`,
        );
      } finally {
        await c.end();
      }
      return db;
    } catch (err) {
      await db.cleanup();
      throw err;
    }
  }

  private async launch(env: NodeJS.ProcessEnv): Promise<void> {
    const datadir = join(this.dir, 'data');
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${this.socket}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--server-id=1',
      `--log-error=${join(this.dir, 'mariadbd.err')}`,
      `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
      `--log-bin=${join(datadir, 'binlog')}`,
      '--binlog-format=ROW',
      '--binlog-row-image=FULL',
      '--binlog-row-metadata=FULL',
      '--innodb-buffer-pool-size=32M',
      '--performance-schema=OFF',
    ];
    if (process.getuid?.() === 0) args.push('--user=root');
    const proc = spawn(...dieWithParent('mariadbd', args), { stdio: 'ignore', env });
    this.proc = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (exited) {
        const log = await readFile(join(this.dir, 'mariadbd.err'), 'utf8').catch(() => '');
        throw new Error(`mariadbd exited during start-up; the end of its log:\n${log.split('\n').slice(-10).join('\n')}`);
      }
      try {
        const c = await mysql.createConnection({ socketPath: this.socket, user: 'root', connectTimeout: 1000 });
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`mariadbd did not accept connections within 120 s (log: ${join(this.dir, 'mariadbd.err')})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** A root connection for the workload (over the socket, not counted against the replica). */
  async rootConnection(database?: string): Promise<mysql.Connection> {
    return await mysql.createConnection({ socketPath: this.socket, user: 'root', multipleStatements: true, ...(database ? { database } : {}) });
  }

  /** Stops the server and deletes its folder. */
  async cleanup(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Last-resort cleanup from a process 'exit' handler (synchronous). */
  killSync(): void {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
