// What a standby must be for a switch to continue the stream: a replica that logs what it
// replicates (log_slave_updates), with the source's binlog settings, and, at the moment of the
// switch, the GTID position the stream has reached already in its binlog. `sluice check` prints
// the settings; the switch asks for the position.
import type { Connection, Pool } from 'mysql2/promise';
import { parseMariadbPosition } from '../../binlog/gtid.ts';
import type { PreflightCheck } from '../errors.ts';

type Queryable = Pick<Pool, 'query'> | Pick<Connection, 'query'>;

/** Settings both servers must share for entries from either to be the same. */
export const SHARED_SETTINGS = ['binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'binlog_checksum'] as const;

export interface BinlogSettings {
  mariadb: boolean;
  serverId: number;
  logSlaveUpdates: string;
  values: Record<(typeof SHARED_SETTINGS)[number], string>;
}

async function globals(db: Queryable, names: readonly string[]): Promise<Map<string, string>> {
  const [rows] = await db.query(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map(() => '?').join(',')})`, [...names]);
  const out = new Map<string, string>();
  for (const r of rows as { Variable_name: string; Value: unknown }[]) out.set(r.Variable_name.toLowerCase(), String(r.Value ?? ''));
  return out;
}

export async function readBinlogSettings(db: Queryable): Promise<BinlogSettings> {
  const [rows] = await db.query('SELECT VERSION() AS v, @@GLOBAL.server_id AS id');
  const r = (rows as { v: string; id: number | string }[])[0]!;
  const g = await globals(db, [...SHARED_SETTINGS, 'log_slave_updates', 'log_replica_updates']);
  const values = {} as BinlogSettings['values'];
  for (const k of SHARED_SETTINGS) values[k] = g.get(k) ?? '(not set)';
  return { mariadb: /mariadb/i.test(r.v), serverId: Number(r.id), logSlaveUpdates: g.get('log_slave_updates') ?? g.get('log_replica_updates') ?? '(not set)', values };
}

function check(name: string, value: string, ok: boolean, fix: string): PreflightCheck {
  return { name, value, ok, fix: ok ? '' : fix };
}

/** The standby's own checks, beside the ordinary source checks `sluice check` runs on it too. */
export async function checkStandby(db: Queryable, master: BinlogSettings | undefined, masterAddress: string): Promise<PreflightCheck[]> {
  const s = await readBinlogSettings(db);
  const out: PreflightCheck[] = [];
  const lsu = s.logSlaveUpdates === 'ON' || s.logSlaveUpdates === '1';
  out.push(
    check(
      'log_slave_updates',
      s.logSlaveUpdates,
      lsu,
      "set log_slave_updates=ON on the standby (server option --log-slave-updates): without it the standby's binlog lacks the source's transactions and a switch cannot continue the stream",
    ),
  );
  if (master === undefined) {
    out.push(check('same binlog settings as the source', 'source not reachable: not compared', true, ''));
  } else {
    for (const k of SHARED_SETTINGS) {
      const same = s.values[k] === master.values[k];
      out.push(check(`${k} as on the source`, `standby ${s.values[k]}, source ${master.values[k]}`, same, `set ${k}=${master.values[k]} on the standby, as on the source`));
    }
    out.push(check('server_id differs from the source', `standby ${s.serverId}, source ${master.serverId}`, s.serverId !== master.serverId, 'give the standby its own server_id'));
  }
  out.push(await replicationCheck(db, masterAddress));
  return out;
}

/** Whether the standby replicates, as far as this account may see (the check passes when it may not look). */
async function replicationCheck(db: Queryable, masterAddress: string): Promise<PreflightCheck> {
  let rows: Record<string, unknown>[];
  try {
    [rows] = (await db.query('SHOW SLAVE STATUS')) as unknown as [Record<string, unknown>[]];
  } catch {
    return check('replication from the source', 'not visible to this account (SHOW SLAVE STATUS needs SLAVE MONITOR on MariaDB, REPLICATION CLIENT on MySQL): not checked', true, '');
  }
  if (rows.length === 0) {
    return check('replication from the source', 'the standby replicates from nowhere', false, `make the standby a replica of ${masterAddress} (CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos; START SLAVE)`);
  }
  const r = rows[0]!;
  const io = String(r['Slave_IO_Running'] ?? '');
  const sql = String(r['Slave_SQL_Running'] ?? '');
  const gtid = r['Using_Gtid'] !== undefined ? `, Using_Gtid ${String(r['Using_Gtid'])}` : '';
  const value = `from ${String(r['Master_Host'] ?? '?')}:${String(r['Master_Port'] ?? '?')}, IO ${io}, SQL ${sql}${gtid}`;
  // A replica whose IO thread retries a lost source says Connecting; only a stopped thread is wrong.
  const ok = (io === 'Yes' || io === 'Connecting') && sql === 'Yes';
  return check('replication from the source', value, ok, 'START SLAVE on the standby: a standby that does not apply what the source writes falls behind, and a switch then waits for it or refuses');
}

/** Whether a MariaDB GTID position `have` includes everything in `need` (per domain, by sequence number). */
export function mariadbCovers(have: string, need: string): boolean {
  const h = new Map(parseMariadbPosition(have).map((g) => [g.domainId, BigInt(g.seqNo)]));
  for (const g of parseMariadbPosition(need)) {
    const seq = h.get(g.domainId);
    if (seq === undefined || seq < BigInt(g.seqNo)) return false;
  }
  return true;
}

export interface StandbyHas {
  /** the standby's GTID position (MariaDB gtid_binlog_pos, MySQL gtid_executed) */
  position: string;
  has: boolean;
  logSlaveUpdates: boolean;
}

/** Whether the standby's binlog holds `required` already. */
export async function standbyHas(db: Queryable, required: string): Promise<StandbyHas> {
  const s = await readBinlogSettings(db);
  const logSlaveUpdates = s.logSlaveUpdates === 'ON' || s.logSlaveUpdates === '1';
  if (s.mariadb) {
    const [rows] = await db.query('SELECT @@GLOBAL.gtid_binlog_pos AS p');
    const position = String((rows as { p: string | null }[])[0]?.p ?? '');
    return { position, has: mariadbCovers(position, required), logSlaveUpdates };
  }
  const [rows] = await db.query('SELECT @@GLOBAL.gtid_executed AS p, GTID_SUBSET(?, @@GLOBAL.gtid_executed) AS has', [required]);
  const r = (rows as { p: string; has: number | string }[])[0]!;
  return { position: String(r.p).replace(/\s+/g, ''), has: Number(r.has) === 1, logSlaveUpdates };
}
