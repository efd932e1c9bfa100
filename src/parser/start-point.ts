// Start resolution: the configured start of a stream (a file position, a GTID, a time, the end,
// or an acknowledged cursor) turned into the concrete point the first dump begins at.
import type { Pool as CallbackPool } from 'mysql2';
import type { LogPosition } from '../protocol/entry-model.ts';
import { findPositionForTime, gtidPositionAt, readBinlogEnd, type FilePosition } from './binlog-files.ts';

export type StartFrom =
  | { kind: 'position'; file: string; offset: number }
  /** skip: entries to drop after that point (an acknowledgement that ended inside a transaction) */
  | { kind: 'gtid'; gtid: string; skip?: number }
  | { kind: 'timestamp'; ms: number }
  | { kind: 'end' }
  /** cursor.skip: entries to drop after the cursor's resume point */
  | { kind: 'cursor'; cursor: LogPosition };

/** Where a connect begins: a boundary (file/offset with its GTID position) or a GTID position. */
export interface ResumePoint {
  file?: string;
  offset?: number;
  gtid?: string;
  gtidSet: string;
}

export interface ResolvedStart {
  point: ResumePoint;
  /**
   * A Canal meta.dat cursor names the acknowledged boundary event itself, which the stream reads
   * again: entries up to this position were handed on before and must be dropped.
   */
  handedOn?: FilePosition;
}

/**
 * Resolves `start` against the source. `onProgress` is called while a time search reads binlogs
 * (a long search is progress, not silence, for a watchdog).
 */
export async function resolveStart(pool: CallbackPool, mariadb: boolean, slaveId: number, start: StartFrom, onProgress: () => void): Promise<ResolvedStart> {
  const db = pool.promise();
  const seedAt = async (p: FilePosition) => (mariadb ? await gtidPositionAt(db, p) : '');
  switch (start.kind) {
    case 'position':
      return { point: { file: start.file, offset: start.offset, gtidSet: await seedAt(start) } };
    case 'gtid':
      return { point: { gtid: start.gtid, gtidSet: start.gtid } };
    case 'end': {
      const end = await readBinlogEnd(db);
      return { point: { file: end.file, offset: end.offset, gtidSet: await seedAt(end) } };
    }
    case 'timestamp': {
      const p = await findPositionForTime(pool, slaveId, start.ms, onProgress);
      return { point: { file: p.file, offset: p.offset, gtidSet: await seedAt(p) } };
    }
    case 'cursor': {
      const c = start.cursor;
      if (c.nextPosition !== undefined && c.nextPosition > 0) {
        return { point: { file: c.journalName, offset: c.nextPosition, gtidSet: c.gtid } };
      }
      const at = { file: c.journalName, offset: c.position };
      return { point: { ...at, gtidSet: c.gtid !== '' ? c.gtid : await seedAt(at) }, handedOn: at };
    }
  }
}
