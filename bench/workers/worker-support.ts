// The worker side of bench/child.ts: reads the config from argv, bounds the process in time,
// exits when the parent goes away, and reports one result or error over IPC.

export function workerConfig<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('bench worker started without its JSON config argument');
  return JSON.parse(raw) as T;
}

/** Exits by itself after the deadline the parent gave, or as soon as the parent disconnects. */
export function boundWorker(onStop?: () => Promise<void> | void): void {
  const deadline = Number(process.env.BENCH_WORKER_DEADLINE_MS ?? '120000');
  const stop = async (code: number): Promise<void> => {
    try {
      await onStop?.();
    } finally {
      process.exit(code);
    }
  };
  setTimeout(() => {
    process.stderr.write(`bench worker ${process.argv[1]} hit its ${deadline} ms deadline\n`);
    void stop(3);
  }, deadline).unref();
  process.on('disconnect', () => void stop(0));
  process.on('message', (m) => {
    if ((m as { kind?: string }).kind === 'stop') void stop(0);
  });
}

export function send(m: unknown): void {
  process.send?.(m);
}

/** Runs the job, sends its result, and leaves the process to the parent's stop message. */
export async function runJob<R>(job: () => Promise<R>): Promise<void> {
  try {
    send({ kind: 'result', result: await job() });
  } catch (err) {
    send({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

/** Peak resident set size of this process in bytes (maxRSS is in KiB). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** CPU seconds (user + system) spent by this process so far. */
export function cpuSeconds(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
}
