// `sluice positions show` and `sluice positions reset`: read and move the persisted cursors of
// destinations without starting them. Reset drops every client cursor of the destination
// (subscriptions stay) and records where the next start begins; it refuses while an instance
// of that destination runs, because the running one would overwrite the file at its next flush.
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { copyFile } from 'node:fs/promises';
import { CorruptMetaFileError, writeMetaFile, describeStart, metaPath, type MetaContent, type ReadingRecord, type StartRequest } from '../meta/meta-file.ts';
import { readMetaState } from '../meta/meta-store.ts';
import { removeJournals } from '../meta/cursor-journal.ts';
import { lockHolder } from '../meta/instance-lock.ts';
import { describeCursor } from '../meta/cursor-order.ts';
import { loadConfig } from '../config/index.ts';
import { DEFAULT_CONFIG_DIR } from './config-option.ts';

// MySQL GTID sets (uuid:interval[,...]) and MariaDB GTID positions (domain-server-seq[,...]).
const MYSQL_GTID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:\d+(-\d+)?)+(,\s*[0-9a-f-]{36}(:\d+(-\d+)?)+)*$/i;
const MARIADB_GTID = /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/;

/** Parses the --to value: latest | FILE:OFFSET | GTID | TIMESTAMP (epoch ms or an ISO-8601 date). */
export function parseResetTarget(text: string): StartRequest {
  const t = text.trim();
  if (t === 'latest') return { kind: 'end' };
  if (MARIADB_GTID.test(t) || MYSQL_GTID.test(t)) return { kind: 'gtid', gtid: t };
  const fileOffset = /^([^:\s/]+\.\d+):(\d+)$/.exec(t);
  if (fileOffset) {
    const offset = Number(fileOffset[2]);
    if (offset < 4) throw new Error(`--to ${t}: a binlog offset is at least 4 (the file header comes first)`);
    return { kind: 'position', file: fileOffset[1]!, offset };
  }
  if (/^\d{10,}$/.test(t)) return { kind: 'timestamp', ms: Number(t) };
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return { kind: 'timestamp', ms };
  }
  throw new Error(
    `--to ${JSON.stringify(text)} is not a position: use latest, FILE:OFFSET (binlog.000003:4), a GTID (0-1-94), ` +
      'or a time (epoch milliseconds, or ISO 8601 such as 2026-01-31T12:00:00Z)',
  );
}

/** Destinations with a folder under the data dir. */
async function destinationsIn(dataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch (err) {
    throw new Error(`data dir ${dataDir} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const out: string[] = [];
  for (const n of names.sort()) if ((await stat(join(dataDir, n))).isDirectory()) out.push(n);
  return out;
}

export interface PositionsIo {
  out: (line: string) => void;
}

export async function showPositions(dataDir: string, only: string | string[] | undefined, io: PositionsIo): Promise<void> {
  const names = typeof only === 'string' ? [only] : (only ?? (await destinationsIn(dataDir)));
  if (names.length === 0) io.out(`no destinations under ${dataDir}`);
  const damaged: string[] = [];
  for (const d of names) {
    const holder = await lockHolder(dataDir, d);
    io.out(`${d}: ${holder !== undefined ? `running (pid ${holder})` : 'not running'}; ${metaPath(dataDir, d)}`);
    let meta: MetaContent | undefined;
    try {
      meta = await readMetaState(dataDir, d);
    } catch (err) {
      if (!(err instanceof CorruptMetaFileError)) throw err;
      io.out(`  cannot be read: ${err.message}`);
      damaged.push(d);
      continue;
    }
    if (!meta) {
      io.out('  no cursor file: starts from the configured position');
      continue;
    }
    if (meta.reading) io.out(`  ${describeReading(meta.reading, holder !== undefined)}`);
    if (meta.clients.length === 0) io.out('  no subscribed clients');
    for (const c of meta.clients) {
      const at = c.cursor ? `${describeCursor(c.cursor)}${c.cursor.timestamp ? ` at ${new Date(c.cursor.timestamp).toISOString()}` : ''}` : 'no cursor yet';
      // Only a standby's cursor is worth naming the server of: its file and offset are the standby's.
      const on = c.cursor && c.source && meta.reading && (meta.reading.role === 'standby' || meta.reading.switchedFrom !== undefined) ? ` on ${c.source.address}:${c.source.port}` : '';
      io.out(`  client ${c.clientId}: ${at}${on}${c.filter ? `; filter ${c.filter}` : ''}`);
    }
    if (meta.start) io.out(`  next start (until the first ack): ${describeStart(meta.start)}`);
  }
  if (damaged.length > 0) throw new Error(`the cursor file of ${damaged.join(', ')} is damaged (see above)`);
}

/** "reading the standby 10.0.0.2:3306 since ... (switched from 10.0.0.1:3306)" */
function describeReading(r: ReadingRecord, running: boolean): string {
  const verb = running ? 'reading' : 'last read';
  const what = r.role === 'standby' ? 'the standby' : 'the source';
  const since = r.since !== undefined ? ` since ${new Date(r.since).toISOString()}` : '';
  const from = r.switchedFrom !== undefined ? ` (switched from ${r.switchedFrom}; a restart reads the source again)` : '';
  return `${verb} ${what} ${r.address}:${r.port}${since}${from}`;
}

export async function resetPositions(dataDir: string, destination: string, target: StartRequest, io: PositionsIo): Promise<void> {
  const holder = await lockHolder(dataDir, destination);
  if (holder !== undefined) {
    throw new Error(`destination "${destination}" is running (pid ${holder}); stop it before resetting its position, or it would overwrite the reset`);
  }
  let old: MetaContent | undefined;
  try {
    old = await readMetaState(dataDir, destination);
  } catch (err) {
    // The documented way out of a damaged file: keep it for a post-mortem, start from --to.
    if (!(err instanceof CorruptMetaFileError)) throw err;
    const copy = `${err.path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await copyFile(err.path, copy);
    io.out(`${destination}: the damaged cursor file (${err.reason}) is kept as ${copy}; its subscriptions and cursors are dropped`);
  }
  // A group's position is one per source: one file:offset or GTID cannot say where each resumes.
  if (old?.sourceStarts !== undefined || old?.clients.some((c) => c.cursor?.sources !== undefined) === true) {
    throw new Error(`destination "${destination}" is a group (one position per source); positions reset moves one-source destinations only: set each source's "start" in its config and remove ${dataDir}/${destination}/meta.dat to start every source there`);
  }
  const content: MetaContent = {
    destination,
    clients: (old?.clients ?? []).map((c) => ({ clientId: c.clientId, filter: c.filter })),
    start: target,
  };
  // No cursor is left, so no source address is written.
  await writeMetaFile(dataDir, content, { address: '', port: 0 });
  // Cursor moves journaled since the last meta.dat write would otherwise be replayed over the reset.
  await removeJournals(dataDir, destination);
  for (const c of old?.clients ?? []) if (c.cursor) io.out(`${destination}: client ${c.clientId} cursor ${describeCursor(c.cursor)} dropped`);
  io.out(`${destination}: next start from ${describeStart(target)}`);
}

interface CommonOpts {
  config?: string;
  dataDir?: string;
}

interface Target {
  dataDir: string;
  /** the configured destinations, when read from a config */
  destinations?: string[];
}

/** The data dir from --data-dir, or from the config in --config (sluice JSON or a Canal conf dir). */
async function resolveTarget(opts: CommonOpts): Promise<Target> {
  if (opts.dataDir !== undefined) return { dataDir: resolve(opts.dataDir) };
  // Only dataDir and the destinations are needed: the source passwords need not be set.
  const cfg = await loadConfig(opts.config ?? DEFAULT_CONFIG_DIR, { secretsOptional: true });
  return { dataDir: cfg.server.dataDir, destinations: cfg.instances.map((i) => i.destination) };
}

// Errors become one line on stderr and exit code 1, not a stack trace.
function failing<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`sluice positions: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  };
}

export function registerPositions(program: Command): void {
  const positions = program.command('positions').description('show or reset the persisted cursors of destinations');
  positions
    .command('show')
    .description('print each destination\'s client cursors and whether it is running')
    .option('-c, --config <dir>', 'config directory (sluice.json + instances/, or a Canal conf dir); its dataDir is used ($SLUICE_CONFIG, default ./config)')
    .option('--data-dir <dir>', 'data folder holding <destination>/meta.dat (instead of --config)')
    .option('--destination <name>', 'only this destination')
    .action(
      failing(async (opts: CommonOpts & { destination?: string }) => {
        const t = await resolveTarget(opts);
        const only = opts.destination ?? (t.destinations !== undefined && t.destinations.length > 0 ? t.destinations : undefined);
        await showPositions(t.dataDir, only, { out: (l) => process.stdout.write(l + '\n') });
      }),
    );
  positions
    .command('reset')
    .description('drop the cursors of a stopped destination and set where it starts next')
    .requiredOption('--destination <name>', 'the destination to reset')
    .requiredOption('--to <where>', 'latest | FILE:OFFSET | GTID | TIMESTAMP (epoch ms or ISO 8601)')
    .option('-c, --config <dir>', 'config directory (sluice.json + instances/, or a Canal conf dir); its dataDir is used ($SLUICE_CONFIG, default ./config)')
    .option('--data-dir <dir>', 'data folder holding <destination>/meta.dat (instead of --config)')
    .action(
      failing(async (opts: CommonOpts & { destination: string; to: string }) => {
        const target = parseResetTarget(opts.to);
        const t = await resolveTarget(opts);
        if (t.destinations !== undefined && !t.destinations.includes(opts.destination)) {
          throw new Error(`destination "${opts.destination}" is not in the config (configured: ${t.destinations.join(', ') || 'none'})`);
        }
        await resetPositions(t.dataDir, opts.destination, target, { out: (l) => process.stdout.write(l + '\n') });
      }),
    );
}
