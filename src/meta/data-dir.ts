// The data directory (dataDir) must take files before an instance can keep its cursors there.
// Checked up front so that the failure names the setting and the cause (a read-only file system,
// a missing parent, a file where a folder should be) instead of a bare errno from the first
// mkdir; `sluice check` runs the same test.
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class DataDirError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DataDirError';
  }
}

const CAUSES: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied for the user sluice runs as',
  EPERM: 'the operation is not permitted for the user sluice runs as',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOENT: 'a part of the path does not exist and cannot be created',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EEXIST: 'a file stands where the folder should be',
};

/** Creates <dataDir>/<destination> if needed and writes and removes a probe file there. */
export async function assertDataDirWritable(dataDir: string, destination: string): Promise<void> {
  const dir = join(dataDir, destination);
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.sluice-write-test-${process.pid}`);
    const fh = await open(probe, 'w', 0o600);
    await fh.close();
    await unlink(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const cause = (e.code !== undefined ? CAUSES[e.code] : undefined) ?? 'see the error';
    throw new DataDirError(
      `the data directory (dataDir ${dataDir}) cannot be written for destination ${destination}: ${cause} (${e.message}); ` +
        'set dataDir in sluice.json (Canal form: canal.file.data.dir) to a folder this user can write',
      { cause: err },
    );
  }
}
