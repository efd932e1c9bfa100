// The on-disk form of a destination's meta: Canal's meta.dat JSON (FileMixedMetaManager), so a
// Canal data directory can be taken over and a sluice one read by Canal. We add two fields Canal
// ignores: `postion.nextPosition` (where to resume), `postion.skipEntries` (entries to drop after
// it: an acknowledgement that ended inside a transaction), a top-level `sluiceStart` (a start
// position set by `sluice positions reset`, used only while no client has a cursor), and
// `sluiceSnapshots`: the snapshots in progress with their acknowledged progress (docs/snapshots.md),
// written in the same file as the cursors so the two always agree after a crash.
import { open, readFile, rename, readdir, unlink, mkdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import type { LogPosition } from '../protocol/entry-model.ts';

export const META_FILE = 'meta.dat';

/** Where to start when there is no cursor; the same shapes as the parser's StartFrom. */
export type StartRequest =
  | { kind: 'position'; file: string; offset: number }
  | { kind: 'gtid'; gtid: string }
  | { kind: 'timestamp'; ms: number }
  | { kind: 'end' };

/** A start request in words, for log lines and `sluice positions`. */
export function describeStart(s: StartRequest): string {
  switch (s.kind) {
    case 'end':
      return 'the current end of the binlog';
    case 'position':
      return `${s.file}:${s.offset}`;
    case 'gtid':
      return `gtid ${s.gtid}`;
    case 'timestamp':
      return `the first transaction at or after ${new Date(s.ms).toISOString()}`;
  }
}

export interface ClientMeta {
  clientId: string;
  filter: string;
  cursor?: LogPosition;
  /** the server the cursor's file and offset belong to (Canal's identity.sourceAddress) */
  source?: SourceAddress;
}

/** The server an instance reads (a standby once it has taken over); written as `sluiceSource`. */
export interface ReadingRecord {
  role: 'master' | 'standby';
  address: string;
  port: number;
  /** when the standby took over (ms) */
  since?: number;
  switchedFrom?: string;
}

/** One snapshot in progress as meta.dat keeps it: where it resumes and what was acknowledged. */
export interface SnapshotRecord {
  id: string;
  /** a group destination's source whose table it reads; absent for a single-source destination */
  source?: string;
  schema: string;
  table: string;
  where?: string;
  chunkSize: number;
  /** epoch ms */
  requestedAt: number;
  reason: 'first-start' | 'request';
  /** key of the last acknowledged chunk's last row (bytes as {hex}); absent: from the first row */
  after?: (string | number | { hex: string } | null)[];
  /** rows and chunks acknowledged */
  rows: number;
  chunks: number;
  estimatedRows: number;
}

export interface MetaContent {
  destination: string;
  clients: ClientMeta[];
  /** Start position requested by `sluice positions reset`; cursors win over it. */
  start?: StartRequest;
  /** the server the instance reads or last read */
  reading?: ReadingRecord;
  /** A group destination's kept starts by source name (see MetaStore.keepSourceStart). */
  sourceStarts?: Record<string, StartRequest>;
  /** Snapshots in progress; absent when none was ever requested. */
  snapshots?: SnapshotRecord[];
}

export interface SourceAddress {
  address: string;
  port: number;
}

export class MetaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaFileError';
  }
}

/** A destination's cursor file that exists but cannot be understood (empty, garbage, cut short). */
export class CorruptMetaFileError extends MetaFileError {
  constructor(
    readonly path: string,
    readonly destination: string,
    /** what is wrong with it, without the advice */
    readonly reason: string,
  ) {
    super(`${reason}. The cursor file is damaged: to choose where ${destination} starts, run \`${resetCommand(destination)}\` (it keeps a copy of the damaged file)`);
    this.name = 'CorruptMetaFileError';
  }
}

/** The command that moves a destination's start position, for error messages. */
export function resetCommand(destination: string): string {
  return `sluice positions reset --destination ${destination} --to latest|FILE:OFFSET|GTID|TIMESTAMP`;
}

export function metaPath(dataDir: string, destination: string): string {
  return join(dataDir, destination, META_FILE);
}

// Canal's clientId is a Java short and is written as a JSON number; keep any other id as a string.
function clientIdToJson(id: string): number | string {
  return /^-?\d{1,5}$/.test(id) ? Number(id) : id;
}

/**
 * One client's cursor as Canal writes it (a LogPosition: identity and `postion`): the object inside
 * meta.dat's clientDatas[].cursor, and the content of ZooKeeper's `{clientId}/cursor` node.
 */
export function cursorToCanal(p: LogPosition, source: SourceAddress): Record<string, unknown> {
  const postion = postionJson(p);
  // A group's per-source positions, beside Canal's fields (which repeat the primary source's).
  if (p.sources !== undefined) postion.sluiceSources = p.sources.map((sc) => ({ source: sc.source, ...postionJson(sc) }));
  return { identity: { slaveId: -1, sourceAddress: { address: source.address, port: source.port } }, postion };
}

/** Canal's JSON shape; field order follows what fastjson writes (alphabetical). */
export function toCanalJson(content: MetaContent, source: SourceAddress): string {
  const clientDatas = content.clients.map((c) => {
    const out: Record<string, unknown> = {
      clientIdentity: { clientId: clientIdToJson(c.clientId), destination: content.destination, filter: c.filter },
    };
    if (c.cursor) out.cursor = cursorToCanal(c.cursor, c.source ?? source);
    return out;
  });
  const doc: Record<string, unknown> = { clientDatas, destination: content.destination };
  if (content.start) doc.sluiceStart = content.start;
  if (content.reading) doc.sluiceSource = content.reading;
  if (content.sourceStarts !== undefined && Object.keys(content.sourceStarts).length > 0) doc.sluiceSourceStarts = content.sourceStarts;
  if (content.snapshots) doc.sluiceSnapshots = content.snapshots;
  return JSON.stringify(doc);
}

function postionJson(p: Omit<LogPosition, 'sources'>): Record<string, unknown> {
  const postion: Record<string, unknown> = {
    gtid: p.gtid,
    included: false,
    journalName: p.journalName,
  };
  if (p.nextPosition !== undefined) postion.nextPosition = p.nextPosition;
  postion.position = p.position;
  postion.serverId = p.serverId;
  if (p.skip !== undefined && p.skip > 0) postion.skipEntries = p.skip;
  postion.timestamp = p.timestamp;
  return postion;
}

function parsePostion(p: Record<string, unknown>, at: string, file: string): LogPosition {
  if (typeof p.journalName !== 'string' || p.journalName === '') {
    throw new MetaFileError(`${file}: ${at}.journalName must be a binlog file name`);
  }
  const out: LogPosition = {
    journalName: p.journalName,
    position: num(p.position, `${at}.position`, file),
    serverId: p.serverId === undefined || p.serverId === null ? 0 : num(p.serverId, `${at}.serverId`, file),
    timestamp: p.timestamp === undefined || p.timestamp === null ? 0 : num(p.timestamp, `${at}.timestamp`, file),
    gtid: typeof p.gtid === 'string' ? p.gtid : '',
  };
  if (p.nextPosition !== undefined && p.nextPosition !== null) out.nextPosition = num(p.nextPosition, `${at}.nextPosition`, file);
  if (p.skipEntries !== undefined && p.skipEntries !== null) {
    const skip = num(p.skipEntries, `${at}.skipEntries`, file);
    if (!Number.isInteger(skip) || skip < 0) throw new MetaFileError(`${file}: ${at}.skipEntries must be a whole number >= 0, found ${JSON.stringify(p.skipEntries)}`);
    if (skip > 0) out.skip = skip;
  }
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, what: string, file: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new MetaFileError(`${file}: ${what} must be a number, found ${JSON.stringify(v)}`);
  return n;
}

function parseStart(v: unknown, file: string): StartRequest {
  if (!isObj(v)) throw new MetaFileError(`${file}: sluiceStart must be an object`);
  switch (v.kind) {
    case 'end':
      return { kind: 'end' };
    case 'position':
      if (typeof v.file !== 'string') throw new MetaFileError(`${file}: sluiceStart.file must be a string`);
      return { kind: 'position', file: v.file, offset: num(v.offset, 'sluiceStart.offset', file) };
    case 'gtid':
      if (typeof v.gtid !== 'string') throw new MetaFileError(`${file}: sluiceStart.gtid must be a string`);
      return { kind: 'gtid', gtid: v.gtid };
    case 'timestamp':
      return { kind: 'timestamp', ms: num(v.ms, 'sluiceStart.ms', file) };
    default:
      throw new MetaFileError(`${file}: sluiceStart.kind ${JSON.stringify(v.kind)} is not one of end, position, gtid, timestamp`);
  }
}

/** Parses one cursor object (see cursorToCanal); `at` and `file` name it in errors. */
export function cursorFromCanal(cursor: unknown, at: string, file: string): LogPosition {
  if (!isObj(cursor) || !isObj(cursor.postion)) throw new MetaFileError(`${file}: ${at}.postion is missing`);
  const p = cursor.postion;
  const where = `${at}.postion`;
  const out = parsePostion(p, where, file);
  if (p.sluiceSources !== undefined) {
    if (!Array.isArray(p.sluiceSources)) throw new MetaFileError(`${file}: ${where}.sluiceSources must be an array`);
    out.sources = p.sluiceSources.map((sc: unknown, j: number) => {
      const part = `${where}.sluiceSources[${j}]`;
      if (!isObj(sc) || typeof sc.source !== 'string') throw new MetaFileError(`${file}: ${part}.source must name a source of the group`);
      const { sources: _none, ...pos } = parsePostion(sc, part, file);
      return { source: sc.source, ...pos };
    });
  }
  return out;
}

/** The server a cursor's file and offset belong to (identity.sourceAddress), when written. */
export function cursorSourceFromCanal(cursor: unknown, at: string, file: string): SourceAddress | undefined {
  if (!isObj(cursor) || !isObj(cursor.identity) || !isObj(cursor.identity.sourceAddress)) return undefined;
  const sa = cursor.identity.sourceAddress;
  if (typeof sa.address !== 'string' || sa.port === undefined || sa.port === null) return undefined;
  return { address: sa.address, port: num(sa.port, `${at}.identity.sourceAddress.port`, file) };
}

export function parseSnapshots(v: unknown, file: string): SnapshotRecord[] {
  if (!Array.isArray(v)) throw new MetaFileError(`${file}: sluiceSnapshots must be an array`);
  return v.map((r: unknown, i: number) => {
    const at = `sluiceSnapshots[${i}]`;
    if (!isObj(r) || typeof r.id !== 'string' || typeof r.schema !== 'string' || typeof r.table !== 'string') {
      throw new MetaFileError(`${file}: ${at} must hold id, schema and table strings`);
    }
    if (r.after !== undefined && !Array.isArray(r.after)) throw new MetaFileError(`${file}: ${at}.after must be an array of key values`);
    const rec: SnapshotRecord = {
      id: r.id,
      schema: r.schema,
      table: r.table,
      chunkSize: num(r.chunkSize, `${at}.chunkSize`, file),
      requestedAt: num(r.requestedAt, `${at}.requestedAt`, file),
      reason: r.reason === 'first-start' ? 'first-start' : 'request',
      rows: num(r.rows ?? 0, `${at}.rows`, file),
      chunks: num(r.chunks ?? 0, `${at}.chunks`, file),
      estimatedRows: num(r.estimatedRows ?? 0, `${at}.estimatedRows`, file),
    };
    if (typeof r.where === 'string') rec.where = r.where;
    if (typeof r.source === 'string') rec.source = r.source;
    if (Array.isArray(r.after)) rec.after = r.after as SnapshotRecord['after'];
    return rec;
  });
}

/** Parses meta.dat text written by Canal or by sluice. `file` names the file in errors. */
export function parseCanalJson(text: string, file: string, expectDestination?: string): MetaContent {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MetaFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObj(doc)) throw new MetaFileError(`${file}: expected a JSON object with clientDatas and destination`);
  const destination = typeof doc.destination === 'string' ? doc.destination : (expectDestination ?? '');
  if (expectDestination !== undefined && destination !== expectDestination) {
    throw new MetaFileError(`${file}: holds destination "${destination}", expected "${expectDestination}"`);
  }
  const list = doc.clientDatas ?? [];
  if (!Array.isArray(list)) throw new MetaFileError(`${file}: clientDatas must be an array`);
  const clients: ClientMeta[] = list.map((cd: unknown, i: number) => {
    if (!isObj(cd) || !isObj(cd.clientIdentity)) throw new MetaFileError(`${file}: clientDatas[${i}].clientIdentity is missing`);
    const ident = cd.clientIdentity;
    if (typeof ident.clientId !== 'number' && typeof ident.clientId !== 'string') {
      throw new MetaFileError(`${file}: clientDatas[${i}].clientIdentity.clientId must be a number`);
    }
    const c: ClientMeta = { clientId: String(ident.clientId), filter: typeof ident.filter === 'string' ? ident.filter : '' };
    if (cd.cursor !== undefined && cd.cursor !== null) {
      c.cursor = cursorFromCanal(cd.cursor, `clientDatas[${i}].cursor`, file);
      const from = cursorSourceFromCanal(cd.cursor, `clientDatas[${i}].cursor`, file);
      if (from !== undefined) c.source = from;
    }
    return c;
  });
  const out: MetaContent = { destination, clients };
  if (doc.sluiceStart !== undefined) out.start = parseStart(doc.sluiceStart, file);
  const r = doc.sluiceSource;
  if (isObj(r) && (r.role === 'master' || r.role === 'standby') && typeof r.address === 'string') {
    out.reading = { role: r.role, address: r.address, port: num(r.port, 'sluiceSource.port', file) };
    if (r.since !== undefined) out.reading.since = num(r.since, 'sluiceSource.since', file);
    if (typeof r.switchedFrom === 'string') out.reading.switchedFrom = r.switchedFrom;
  }
  if (doc.sluiceSourceStarts !== undefined) {
    const starts = doc.sluiceSourceStarts;
    if (!isObj(starts)) throw new MetaFileError(`${file}: sluiceSourceStarts must be an object`);
    out.sourceStarts = Object.fromEntries(Object.entries(starts).map(([k, v]) => [k, parseStart(v, file)]));
  }
  if (doc.sluiceSnapshots !== undefined) out.snapshots = parseSnapshots(doc.sluiceSnapshots, file);
  return out;
}

/** Reads a destination's meta.dat; undefined when there is none. */
export async function readMetaFile(dataDir: string, destination: string): Promise<MetaContent | undefined> {
  const path = metaPath(dataDir, destination);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return parseCanalJson(text, path, destination);
  } catch (err) {
    if (err instanceof MetaFileError) throw new CorruptMetaFileError(path, destination, err.message);
    throw err;
  }
}

const TMP_PREFIX = `.${META_FILE}.tmp-`;
let tmpSeq = 0;

/**
 * Replaces `path` with `text` so that a crash at any instant leaves either the old or the new
 * file: write a temporary file beside it, fsync it, rename it over, fsync the folder (so the
 * rename itself survives a power loss).
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${TMP_PREFIX}${process.pid}-${tmpSeq++}`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Removes temporary files left by a writer that died before its rename. */
export async function removeStaleTemps(dataDir: string, destination: string): Promise<void> {
  const dir = join(dataDir, destination);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(TMP_PREFIX)) await unlink(join(dir, n)).catch(() => undefined);
}

export async function writeMetaFile(dataDir: string, content: MetaContent, source: SourceAddress): Promise<void> {
  await writeFileAtomic(metaPath(dataDir, content.destination), toCanalJson(content, source));
}
