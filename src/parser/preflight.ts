// Checks of the source before any event is read (docs/configuration.md, `sluice check` in docs/operations.md): every setting under which the
// stream could be wrong or incomplete, each with the fix. `sluice check` prints all of them;
// EventParser.start() refuses with a PreflightError listing the failing ones.
import mysql from 'mysql2/promise';
import type { Pool, Connection } from 'mysql2/promise';
import { PreflightError, type PreflightCheck } from './errors.ts';

type Queryable = Pick<Pool, 'query'> | Pick<Connection, 'query'>;

async function variable(db: Queryable, name: string): Promise<string | undefined> {
  const [rows] = await db.query(`SHOW GLOBAL VARIABLES LIKE ?`, [name]);
  const r = (rows as { Value?: unknown; value?: unknown }[])[0];
  if (!r) return undefined;
  return String(r.Value ?? r.value ?? '');
}

function check(name: string, value: string | undefined, ok: boolean, fix: string): PreflightCheck {
  return { name, value: value ?? '(not set)', ok, fix: ok ? '' : fix };
}

/** Privileges granted globally (ON *.*) and anywhere, from SHOW GRANTS. */
async function grants(db: Queryable): Promise<{ global: Set<string>; any: Set<string> }> {
  const [rows] = await db.query('SHOW GRANTS FOR CURRENT_USER()');
  const global = new Set<string>();
  const any = new Set<string>();
  for (const r of rows as Record<string, unknown>[]) {
    const line = String(Object.values(r)[0] ?? '');
    const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s/i.exec(line);
    if (!m) continue;
    const privs = m[1]!.split(',').map((p) => p.trim().toUpperCase());
    for (const p of privs) {
      any.add(p);
      if (m[2] === '*.*') global.add(p);
    }
  }
  return { global, any };
}

/**
 * Runs every check against the source and returns one result per check (passing ones too).
 * `slaveId` is the server id this stream will use toward the source.
 */
export async function checkSource(db: Queryable, slaveId: number): Promise<PreflightCheck[]> {
  const out: PreflightCheck[] = [];
  const [verRows] = await db.query('SELECT VERSION() AS v, @@GLOBAL.server_id AS id');
  const ver = (verRows as { v: string; id: number | string }[])[0]!;
  const mariadb = /mariadb/i.test(ver.v);
  const sourceId = Number(ver.id);

  const logBin = await variable(db, 'log_bin');
  out.push(check('log_bin', logBin, logBin === 'ON' || logBin === '1', 'start the source with --log-bin (binary logging is off)'));
  const format = await variable(db, 'binlog_format');
  out.push(check('binlog_format', format, format === 'ROW', 'set binlog_format=ROW on the source (server option --binlog-format=ROW)'));
  const image = await variable(db, 'binlog_row_image');
  out.push(check('binlog_row_image', image, image === 'FULL', 'set binlog_row_image=FULL on the source (--binlog-row-image=FULL)'));
  const metadata = await variable(db, 'binlog_row_metadata');
  out.push(
    check(
      'binlog_row_metadata',
      metadata,
      metadata === 'FULL',
      metadata === undefined
        ? 'the source is too old to log column metadata: use MariaDB 10.5+ or MySQL 8.0+ with binlog_row_metadata=FULL'
        : 'set binlog_row_metadata=FULL on the source (server option --binlog-row-metadata=FULL, so it survives restarts); ' +
            'binlogs written before the change still lack column names',
    ),
  );
  const compression = await variable(db, 'binlog_transaction_compression');
  if (compression !== undefined) {
    out.push(check('binlog_transaction_compression', compression, compression === 'OFF' || compression === '0', 'set binlog_transaction_compression=OFF on the source'));
  }
  const valueOptions = await variable(db, 'binlog_row_value_options');
  if (valueOptions !== undefined) {
    out.push(check('binlog_row_value_options', valueOptions, !/PARTIAL_JSON/i.test(valueOptions), "set binlog_row_value_options='' on the source"));
  }

  const g = await grants(db);
  const all = g.global.has('ALL PRIVILEGES') || g.global.has('ALL');
  const has = (p: string) => all || g.global.has(p);
  out.push(check('privilege REPLICATION SLAVE', has('REPLICATION SLAVE') ? 'granted' : 'missing', has('REPLICATION SLAVE'), 'GRANT REPLICATION SLAVE ON *.* TO the replication account'));
  const monitorName = mariadb ? 'BINLOG MONITOR' : 'REPLICATION CLIENT';
  const monitor = has('REPLICATION CLIENT') || has('BINLOG MONITOR');
  out.push(check(`privilege ${monitorName}`, monitor ? 'granted' : 'missing', monitor, `GRANT ${monitorName} ON *.* TO the replication account (needed for SHOW BINARY LOGS and SHOW MASTER STATUS)`));
  const select = all || g.any.has('SELECT') || g.any.has('ALL PRIVILEGES');
  out.push(check('privilege SELECT', select ? 'granted' : 'missing', select, 'GRANT SELECT ON the captured schemas (or *.*) TO the replication account (table metadata)'));

  out.push(
    check('server_id', `source ${sourceId}, replica ${slaveId}`, sourceId !== slaveId, `choose a slaveId different from the source's server_id ${sourceId}`),
  );
  let hosts: { Server_id: number | string }[] | undefined;
  try {
    const [rows] = await db.query('SHOW SLAVE HOSTS');
    hosts = rows as { Server_id: number | string }[];
  } catch {
    // Not permitted for this account: the duplicate-id check then happens at connect time (errno 4052).
    hosts = undefined;
  }
  if (hosts !== undefined) {
    const clash = hosts.some((h) => Number(h.Server_id) === slaveId);
    out.push(check('replica server ids', clash ? `${slaveId} already registered` : 'no clash', !clash, `another replica uses server id ${slaveId}: choose another slaveId`));
  }
  return out;
}

/** Opens a connection, runs every check, closes it. */
export async function checkSourceWith(conn: mysql.ConnectionOptions, slaveId: number): Promise<PreflightCheck[]> {
  const c = await mysql.createConnection(conn);
  try {
    return await checkSource(c, slaveId);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Throws a PreflightError naming every failing check. */
export async function assertSourceReady(db: Queryable, slaveId: number): Promise<PreflightCheck[]> {
  const results = await checkSource(db, slaveId);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new PreflightError(failed);
  return results;
}
