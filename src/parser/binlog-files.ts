// Binlog file facts read from the source: the list of files, the current end, the GTID position
// at a file offset, and the search for the first transaction at or after a point in time.
import type { Pool as CallbackPool, PoolOptions } from 'mysql2';
import { BinlogDump } from '../binlog/dump.ts';
import type { Pool } from 'mysql2/promise';

export interface BinlogFile {
  name: string;
  size: number;
}

export interface FilePosition {
  file: string;
  offset: number;
}

/** SHOW BINARY LOGS, oldest first. */
export async function listBinlogs(db: Pick<Pool, 'query'>): Promise<BinlogFile[]> {
  const [rows] = await db.query('SHOW BINARY LOGS');
  return (rows as { Log_name: string; File_size: number | string }[]).map((r) => ({ name: r.Log_name, size: Number(r.File_size) }));
}

/** The source's current binlog end (SHOW MASTER STATUS): where a stream started "at the end" begins. */
export async function readBinlogEnd(db: Pick<Pool, 'query'>): Promise<FilePosition> {
  const [rows] = await db.query('SHOW MASTER STATUS');
  const r = (rows as { File: string; Position: number | string }[])[0];
  if (!r) throw new Error('SHOW MASTER STATUS returned nothing: binary logging is off on the source');
  return { file: r.File, offset: Number(r.Position) };
}

/** MariaDB's GTID position at a binlog offset ('' where the server cannot say). */
export async function gtidPositionAt(db: Pick<Pool, 'query'>, at: FilePosition): Promise<string> {
  try {
    const [rows] = await db.query('SELECT BINLOG_GTID_POS(?, ?) AS g', [at.file, at.offset]);
    const g = (rows as { g: string | null }[])[0]?.g;
    return g ?? '';
  } catch {
    return '';
  }
}

/** Compares two binlog positions in stream order (files by their numeric suffix). */
export function comparePositions(a: FilePosition, b: FilePosition): number {
  if (a.file !== b.file) {
    const ai = a.file.lastIndexOf('.');
    const bi = b.file.lastIndexOf('.');
    const base = a.file.slice(0, ai).localeCompare(b.file.slice(0, bi));
    if (base !== 0) return base;
    return Number(a.file.slice(ai + 1)) - Number(b.file.slice(bi + 1));
  }
  return a.offset - b.offset;
}

interface ScanEvent {
  name: string;
  timestamp: number;
  offset: number;
  nextPosition: number;
  query?: string;
  standalone?: boolean;
}

/**
 * Reads one binlog file from `from` through a short-lived dump, calling `visit` for each
 * transaction-starting event until it returns true or the file ends. Returns the event that
 * stopped the scan, if any.
 */
async function scanFile(
  pool: CallbackPool,
  slaveId: number,
  file: BinlogFile,
  from: number,
  visit: (e: ScanEvent) => boolean,
  onProgress: () => void,
): Promise<ScanEvent | undefined> {
  if (from >= file.size) return undefined;
  const config = (pool as unknown as { config: { connectionConfig: PoolOptions } }).config.connectionConfig;
  const dump = new BinlogDump({
    connection: { host: config.host, port: config.port, user: config.user, password: config.password, connectTimeout: config.connectTimeout },
    serverId: slaveId,
    start: { file: file.name, position: from },
    nonBlock: true,
  });
  return await new Promise<ScanEvent | undefined>((resolve, reject) => {
    let done = false;
    const finish = (err: unknown, found?: ScanEvent) => {
      if (done) return;
      done = true;
      void dump.stop((sql) => pool.promise().query(sql));
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(found);
    };
    dump.on('error', (err: Error) => finish(err));
    dump.on('end', () => finish(null));
    dump.on('event', (ev) => {
      if (done) return;
      onProgress();
      const name = ev.eventName;
      if (name === 'rotate') {
        // The dump's own first rotate has no position; a real one means the file ended.
        if (ev.nextPosition > 0) finish(null);
        return;
      }
      if (ev.nextPosition > 0) {
        const e: ScanEvent = { name, timestamp: ev.timestamp, offset: ev.nextPosition - (ev.size + dump.decoder!.overhead), nextPosition: ev.nextPosition };
        if (name === 'query') e.query = ev.query as string;
        if (name === 'mariadbgtid') e.standalone = ev.standalone as boolean;
        const isTxStart = name === 'mariadbgtid' || name === 'gtid' || (name === 'query' && !dump.mariadb && !/^\s*(COMMIT|ROLLBACK)\b/i.test(e.query ?? ''));
        if (isTxStart && visit(e)) {
          finish(null, e);
          return;
        }
        if (ev.nextPosition >= file.size) finish(null);
      }
    });
    dump.start().catch((err: unknown) => finish(err));
  });
}

/**
 * The position of the first transaction that began at or after `ms` (epoch ms), searching the
 * binlogs: binary search over the files by the time of their first transaction, then a scan
 * forward. With no such transaction, the current end of the binlog.
 */
export async function findPositionForTime(pool: CallbackPool, slaveId: number, ms: number, onProgress: () => void = () => undefined): Promise<FilePosition> {
  const db = pool.promise();
  const files = await listBinlogs(db);
  if (files.length === 0) throw new Error('the source has no binary logs (SHOW BINARY LOGS is empty)');
  // Event times have whole seconds: a transaction "at" ms is one in the same second or later.
  const wanted = Math.floor(ms / 1000) * 1000;
  const firstTime = new Map<number, number>();
  const timeOfFirst = async (i: number): Promise<number> => {
    const known = firstTime.get(i);
    if (known !== undefined) return known;
    const e = await scanFile(pool, slaveId, files[i]!, 4, () => true, onProgress);
    const t = e ? e.timestamp : Number.POSITIVE_INFINITY;
    firstTime.set(i, t);
    return t;
  };
  // Largest file whose first transaction began before the wanted time: the answer is in it or later.
  let lo = 0;
  let hi = files.length - 1;
  let start = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((await timeOfFirst(mid)) < wanted) {
      start = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  for (let i = start; i < files.length; i++) {
    const found = await scanFile(pool, slaveId, files[i]!, 4, (e) => e.timestamp >= wanted, onProgress);
    if (found) return { file: files[i]!.name, offset: found.offset };
  }
  return await readBinlogEnd(db);
}
