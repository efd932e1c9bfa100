// `npm run demo`: a throw-away MariaDB, sluice serving it, a small bank ledger changing in it, and
// `sluice tail` showing each change as it happens. Ctrl-C stops everything and deletes the files.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { DEMO_REPL_USER, DemoMariaDb, MissingMariaDbError } from './demo-sandbox.ts';
import { dieWithParent } from './parent-death.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const DESTINATION = 'demo';
const OWNERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

// Dim text on a terminal only: piped to `tee` or a file, escape codes are noise.
const dim = process.stderr.isTTY === true ? (t: string) => `\x1b[2m${t}\x1b[0m` : (t: string) => t;

function say(text: string): void {
  process.stderr.write(dim(`[demo] ${text}`) + '\n');
}

// `npm run demo 2>&1 | tee log` and Ctrl-C: the terminal sends SIGINT to tee as well, so the
// demo's last lines meet a closed pipe. That must not end the demo before it has cleaned up.
for (const out of [process.stdout, process.stderr]) {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

function sluice(args: string[], stdio: 'inherit' | 'pipe', env: Record<string, string> = {}): ChildProcess {
  return spawn(...dieWithParent(process.execPath, ['--import', 'tsx', MAIN, ...args]), { stdio: ['ignore', stdio, stdio], env: { ...process.env, ...env } });
}

async function writeConfig(db: DemoMariaDb): Promise<string> {
  const dir = join(db.dir, 'config');
  await mkdir(join(dir, 'instances'), { recursive: true });
  await writeFile(
    join(dir, 'sluice.json'),
    JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, admin: { port: 0 }, dataDir: join(db.dir, 'sluice-data'), lagIntervalMs: 10_000 }, null, 2),
  );
  await writeFile(
    join(dir, 'instances', `${DESTINATION}.json`),
    JSON.stringify({ source: { host: db.host, port: db.port, user: DEMO_REPL_USER, password: { env: 'SLUICE_DEMO_DB_PASSWORD' }, slaveId: 9001 }, filter: { include: 'bank\\..*' } }, null, 2),
  );
  return dir;
}

async function createBank(db: DemoMariaDb): Promise<mysql.Connection> {
  const c = await db.rootConnection();
  await c.query(`CREATE DATABASE bank;
    USE bank;
    CREATE TABLE accounts (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(12,2) NOT NULL DEFAULT 0, opened_at DATETIME NOT NULL);
    CREATE TABLE ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id INT NOT NULL, kind ENUM('open','deposit','withdraw','transfer_in','transfer_out') NOT NULL, amount DECIMAL(12,2) NOT NULL, at DATETIME NOT NULL);`);
  return c;
}

const money = () => (Math.floor(Math.random() * 20_000) / 100 + 1).toFixed(2);
const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)]!;

/** One business operation, in its own transaction, as an application would write it. */
async function step(c: mysql.Connection): Promise<string> {
  const [rows] = await c.query('SELECT id, owner, balance FROM accounts');
  const accounts = rows as { id: number; owner: string; balance: string }[];
  const op = accounts.length < 3 ? 'open' : pick(['open', 'deposit', 'deposit', 'withdraw', 'transfer', 'transfer']);
  await c.beginTransaction();
  try {
    let what: string;
    if (op === 'open' && accounts.length < OWNERS.length) {
      const owner = OWNERS.find((o) => !accounts.some((a) => a.owner === o))!;
      const amount = money();
      const [r] = await c.query('INSERT INTO accounts (owner, balance, opened_at) VALUES (?, ?, NOW())', [owner, amount]);
      await c.query("INSERT INTO ledger (account_id, kind, amount, at) VALUES (?, 'open', ?, NOW())", [(r as { insertId: number }).insertId, amount]);
      what = `open an account for ${owner} with ${amount}`;
    } else if (op === 'withdraw') {
      const a = pick(accounts);
      const amount = Math.min(Number(money()), Number(a.balance)).toFixed(2);
      await c.query('UPDATE accounts SET balance = balance - ? WHERE id = ?', [amount, a.id]);
      await c.query("INSERT INTO ledger (account_id, kind, amount, at) VALUES (?, 'withdraw', ?, NOW())", [a.id, amount]);
      what = `${a.owner} withdraws ${amount}`;
    } else if (op === 'transfer') {
      const from = pick(accounts);
      const to = pick(accounts.filter((a) => a.id !== from.id));
      const amount = Math.min(Number(money()), Number(from.balance)).toFixed(2);
      await c.query('UPDATE accounts SET balance = balance - ? WHERE id = ?', [amount, from.id]);
      await c.query('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, to.id]);
      await c.query("INSERT INTO ledger (account_id, kind, amount, at) VALUES (?, 'transfer_out', ?, NOW()), (?, 'transfer_in', ?, NOW())", [from.id, amount, to.id, amount]);
      what = `transfer ${amount} from ${from.owner} to ${to.owner}`;
    } else {
      const a = pick(accounts);
      const amount = money();
      await c.query('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, a.id]);
      await c.query("INSERT INTO ledger (account_id, kind, amount, at) VALUES (?, 'deposit', ?, NOW())", [a.id, amount]);
      what = `${a.owner} deposits ${amount}`;
    }
    await c.commit();
    return what;
  } catch (err) {
    await c.rollback();
    throw err;
  }
}

/** Starts `sluice start` and resolves with its ports once it logs that it has started. */
async function startSluice(configDir: string, password: string, logFile: string): Promise<{ proc: ChildProcess; canalPort: number; adminPort: number }> {
  const proc = sluice(['start', '--config', configDir, '--json'], 'pipe', { SLUICE_DEMO_DB_PASSWORD: password });
  const log = createWriteStream(logFile);
  proc.stderr!.pipe(log);
  return await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      log.write(d);
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line) as { msg?: string; canalPort?: number; adminPort?: number };
          if (j.msg === 'sluice started') resolve({ proc, canalPort: j.canalPort!, adminPort: j.adminPort! });
        } catch {
          // not a log line
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`sluice start exited with code ${code} before it started; see ${logFile}`)));
  });
}

// Generous: a loaded machine can take a while, and the demo should not give up on it.
const START_LIMIT_MS = 120_000;

async function waitHealthy(adminPort: number): Promise<void> {
  const deadline = Date.now() + START_LIMIT_MS;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${adminPort}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`instance ${DESTINATION} did not reach state running within ${START_LIMIT_MS / 1000} s (http://127.0.0.1:${adminPort}/health)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  say('starting a private MariaDB (ROW binlogs, FULL row metadata)...');
  let db: DemoMariaDb;
  try {
    db = await DemoMariaDb.start();
  } catch (err) {
    if (err instanceof MissingMariaDbError) {
      process.stderr.write(`sluice demo: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let sluiceProc: ChildProcess | undefined;
  let tail: ChildProcess | undefined;
  // If the demo dies without its shutdown (an uncaught error), take the children and the files
  // with it. (Killed outright, the children still die: they are started with dieWithParent.)
  process.on('exit', () => {
    for (const p of [tail, sluiceProc]) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    db.killSync();
    rmSync(db.dir, { recursive: true, force: true });
  });
  let conn: mysql.Connection | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (timer) clearInterval(timer);
    say('stopping: tail, sluice (SIGTERM: cursors are written), MariaDB; deleting the demo files');
    if (tail && tail.exitCode === null && tail.signalCode === null) {
      const gone = new Promise((r) => tail!.once('exit', r));
      tail.kill('SIGINT');
      await gone;
    }
    if (sluiceProc && sluiceProc.exitCode === null) {
      const gone = new Promise((r) => sluiceProc!.once('exit', r));
      sluiceProc.kill('SIGTERM');
      await gone;
    }
    await conn?.end().catch(() => undefined);
    await db.cleanup();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGHUP', () => void shutdown(0));

  try {
    say(`MariaDB on 127.0.0.1:${db.port} (data in ${db.dir})`);
    conn = await createBank(db);
    const configDir = await writeConfig(db);
    const logFile = join(db.dir, 'sluice.log');
    say(`starting sluice with ${join(configDir, 'instances', DESTINATION + '.json')} (logs: ${logFile})`);
    const s = await startSluice(configDir, db.password, logFile);
    sluiceProc = s.proc;
    sluiceProc.once('exit', (code) => {
      if (!stopping) {
        say(`sluice exited unexpectedly (code ${code}); see ${logFile}`);
        void shutdown(1);
      }
    });
    await waitHealthy(s.adminPort);
    say(`sluice is serving destination "${DESTINATION}" on 127.0.0.1:${s.canalPort}; metrics and health on http://127.0.0.1:${s.adminPort}/metrics and /health`);
    say(`tailing it with: sluice tail --host 127.0.0.1 --port ${s.canalPort} --destination ${DESTINATION}`);
    tail = sluice(['tail', '--host', '127.0.0.1', '--port', String(s.canalPort), '--destination', DESTINATION], 'inherit');
    tail.once('exit', (code) => {
      if (!stopping) {
        say(`sluice tail exited (code ${code})`);
        void shutdown(1);
      }
    });
    say('running a bank-ledger workload: one operation every 1.5 s. Ctrl-C stops the demo.');
    const c = conn;
    let busy = false;
    timer = setInterval(() => {
      if (busy || stopping) return;
      busy = true;
      step(c)
        .then((what) => say(`app: ${what}`))
        .catch((err: Error) => say(`app: operation failed: ${err.message}`))
        .finally(() => (busy = false));
    }, 1500);
  } catch (err) {
    process.stderr.write(`sluice demo: ${(err as Error).message}\n`);
    await shutdown(1);
  }
}

await main();
