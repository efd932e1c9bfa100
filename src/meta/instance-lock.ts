// A pid file in a destination's data folder, held while an instance of that destination runs,
// so that `sluice positions reset` (and a second sluice on the same data dir) can tell that the
// cursor file is in use. A pid file left by a killed process is taken over: its pid is dead.
import { open, readFile, unlink, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'sluice.pid';

export function lockPath(dataDir: string, destination: string): string {
  return join(dataDir, destination, LOCK_FILE);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the live process holding the destination, or undefined. */
export async function lockHolder(dataDir: string, destination: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath(dataDir, destination), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return alive(pid) ? pid : undefined;
}

export class InstanceLockError extends Error {
  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message);
    this.name = 'InstanceLockError';
  }
}

export class InstanceLock {
  private constructor(readonly path: string) {}

  /** Takes the destination's pid file; throws InstanceLockError when a live process holds it. */
  static async acquire(dataDir: string, destination: string): Promise<InstanceLock> {
    const path = lockPath(dataDir, destination);
    await mkdir(join(dataDir, destination), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o644);
        try {
          await fh.writeFile(`${process.pid}\n`);
        } finally {
          await fh.close();
        }
        return new InstanceLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await lockHolder(dataDir, destination);
      if (holder === process.pid) {
        throw new InstanceLockError(`destination "${destination}" is already running in this process (${path})`, holder);
      }
      if (holder !== undefined) {
        throw new InstanceLockError(`destination "${destination}" is in use by process ${holder} (${path})`, holder);
      }
      // Left behind by a process that died: remove it and try again.
      await unlink(path).catch(() => undefined);
    }
    throw new Error(`could not take ${path}: it keeps reappearing`);
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}
