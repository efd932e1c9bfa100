// What `sluice check` verifies besides the source's settings: the state a start would read and
// write. The data directory must take files, the destination's cursor file must parse, and the
// binlog file its cursor resumes in must still be on the source: each of these otherwise only
// shows up as a failed instance after `start`.
import mysql from 'mysql2/promise';
import type { InstanceConfig } from '../config/index.ts';
import { assertDataDirWritable } from '../meta/data-dir.ts';
import { minCursor, describeCursor } from '../meta/cursor-order.ts';
import { CorruptMetaFileError, metaPath, readMetaFile, resetCommand, type MetaContent } from '../meta/meta-file.ts';
import { listBinlogs } from '../parser/binlog-files.ts';
import type { PreflightCheck } from '../parser/errors.ts';

export async function stateChecks(inst: InstanceConfig, dataDir: string): Promise<PreflightCheck[]> {
  const dest = inst.destination;
  const out: PreflightCheck[] = [];
  try {
    await assertDataDirWritable(dataDir, dest);
    out.push({ name: 'dataDir writable', value: dataDir, ok: true, fix: '' });
  } catch (err) {
    out.push({ name: 'dataDir writable', value: (err as Error).message, ok: false, fix: 'set dataDir in sluice.json (Canal: canal.file.data.dir) to a folder this user can write' });
    return out;
  }
  let meta: MetaContent | undefined;
  try {
    meta = await readMetaFile(dataDir, dest);
  } catch (err) {
    const value = err instanceof CorruptMetaFileError ? err.reason : (err as Error).message;
    out.push({ name: 'cursor file', value, ok: false, fix: `the file is damaged; choose where ${dest} starts: ${resetCommand(dest)} (keeps a copy of the damaged file)` });
    return out;
  }
  const cursor = minCursor((meta?.clients ?? []).map((c) => c.cursor));
  if (cursor === undefined) {
    out.push({ name: 'cursor file', value: meta ? `${metaPath(dataDir, dest)}: no cursor yet` : 'none yet: starts from the configured position', ok: true, fix: '' });
    return out;
  }
  out.push({ name: 'cursor file', value: `${metaPath(dataDir, dest)}: resumes after ${describeCursor(cursor)}`, ok: true, fix: '' });
  let files: string[];
  try {
    const c = await mysql.createConnection({ host: inst.source.host, port: inst.source.port, user: inst.source.user, password: inst.source.password, connectTimeout: inst.source.connectTimeoutMs });
    try {
      files = (await listBinlogs(c)).map((f) => f.name);
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch (err) {
    out.push({ name: 'cursor binlog on source', value: `cannot list the source's binlogs: ${(err as Error).message}`, ok: false, fix: 'grant REPLICATION CLIENT (MariaDB: BINLOG MONITOR) to the source user' });
    return out;
  }
  const present = files.includes(cursor.journalName);
  out.push({
    name: 'cursor binlog on source',
    value: present ? cursor.journalName : `${cursor.journalName} is no longer on the source (purged?); the oldest is ${files[0] ?? 'none'}`,
    ok: present,
    fix: `the stream cannot resume without skipping changes; to start elsewhere on purpose: ${resetCommand(dest)}`,
  });
  return out;
}
