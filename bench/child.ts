// Runs one measured process: a bench/workers/ script in its own Node process (compiled by
// build-workers.ts, or through tsx), so that each figure has its own heap, GC state and RSS, and so that the server measured
// end to end is a separate process as in production. Messages go over the IPC channel; every
// worker is bounded by a deadline after which it is killed (it also bounds itself).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WorkerHandle<Msg> {
  proc: ChildProcess;
  /** Resolves with the first message that satisfies `pred` (or rejects if the worker exits first). */
  next(pred: (m: Msg) => boolean, what: string, timeoutMs: number): Promise<Msg>;
  send(m: unknown): void;
  /** Resolves when the process has exited (with its code and any stderr tail). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  /** the last few KiB the process wrote to stderr */
  stderrTail(): string;
}

let compiledDir: string | undefined;

/** Runs workers from compiled JavaScript in `dir` (see build-workers.ts) instead of through tsx. */
export function useCompiledWorkers(dir: string | undefined): void {
  compiledDir = dir;
}

function workerEntry(name: string): { file: string; execArgv: string[] } {
  if (compiledDir !== undefined) return { file: join(compiledDir, `${name}.js`), execArgv: [] };
  return { file: fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url)), execArgv: ['--import', 'tsx'] };
}

export function startWorker<Msg>(name: string, config: unknown, opts: { deadlineMs: number; nodeFlags?: string[] }): WorkerHandle<Msg> {
  const entry = workerEntry(name);
  const proc = fork(entry.file, [JSON.stringify(config)], {
    execArgv: [...entry.execArgv, ...(opts.nodeFlags ?? [])],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, BENCH_WORKER_DEADLINE_MS: String(opts.deadlineMs) },
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const inbox: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  proc.on('message', (m) => {
    const msg = m as Msg;
    const i = waiters.findIndex((w) => w.pred(msg));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(msg);
    else inbox.push(msg);
  });
  const killTimer = setTimeout(() => proc.kill('SIGKILL'), opts.deadlineMs + 5_000);
  killTimer.unref();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      clearTimeout(killTimer);
      resolve({ code, signal });
    });
  });
  return {
    proc,
    stderrTail: () => stderr,
    send: (m) => {
      if (proc.connected) proc.send(m as never);
    },
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
    exited,
    next(pred, what, timeoutMs) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
      return new Promise<Msg>((resolve, reject) => {
        const w = { pred, resolve: (m: Msg): void => (clearTimeout(t), resolve(m)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`worker ${name}: no ${what} within ${timeoutMs} ms${stderr ? `; stderr:\n${stderr}` : ''}`));
        }, timeoutMs);
        waiters.push(w);
        void exited.then(({ code, signal }) => {
          if (!waiters.includes(w)) return;
          clearTimeout(t);
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`worker ${name} exited (code ${code}, signal ${signal}) before sending ${what}${stderr ? `; stderr:\n${stderr}` : ''}`));
        });
      });
    },
  };
}

/** A worker that does one job and sends one `{ kind: 'result' }` message (or `{ kind: 'error' }`). */
export async function runWorker<R>(name: string, config: unknown, opts: { deadlineMs: number; nodeFlags?: string[] }): Promise<R> {
  const w = startWorker<{ kind: string; result?: R; message?: string }>(name, config, opts);
  try {
    const m = await w.next((x) => x.kind === 'result' || x.kind === 'error', 'result', opts.deadlineMs);
    if (m.kind === 'error') throw new Error(`worker ${name}: ${m.message ?? 'failed'}`);
    return m.result as R;
  } finally {
    w.send({ kind: 'stop' });
    const done = await Promise.race([w.exited, new Promise((r) => setTimeout(r, 5_000, 'late'))]);
    if (done === 'late') w.kill();
  }
}
