// The benchmark's table and the three workloads of issue 6 (mariadb-and-zongji.md §5):
// A = batched DML (1000-row INSERTs, 10 per transaction), B = single-row transactions,
// C = a paced live load whose commit times the latency figure is measured against.
// Each workload ends with one row in `bench_end` (its tag): every decoder stops at that sentinel,
// so "time to sentinel" is the time to decode the whole workload.
import type { Sandbox } from '../test/support/sandbox.ts';

export const TABLE = 'bench_t';
export const SENTINEL_TABLE = 'bench_end';

export const CREATE_TABLES = [
  `CREATE TABLE ${TABLE} (id INT PRIMARY KEY, b BIGINT, s VARCHAR(64), d DECIMAL(12,2), dt DATETIME(3),
     t TINYINT, tx TEXT, j JSON) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE ${SENTINEL_TABLE} (tag VARCHAR(16) PRIMARY KEY) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

const DT_BASE_MS = Date.UTC(2024, 0, 1);

/** One row's VALUES tuple; the same values the stored procedure of workload B produces. */
export function rowTuple(id: number): string {
  const dt = new Date(DT_BASE_MS + (id % 86_400_000)).toISOString().replace('T', ' ').slice(0, 23);
  const d = `${id % 100_000}.${String(id % 100).padStart(2, '0')}`;
  return `(${id},${9_000_000_000_000 + id},'name-${id}-abcdefgh',${d},'${dt}',${id % 128},'text value for row ${id}','{"k":${id},"v":"x"}')`;
}

// Equivalent of rowTuple in SQL, so that B can be loaded server-side at tens of thousands of
// transactions per second (its load time is not what is measured).
const PROCEDURE = `CREATE PROCEDURE bench_single_rows(IN first_id INT, IN n INT)
BEGIN
  DECLARE i INT DEFAULT first_id;
  WHILE i < first_id + n DO
    INSERT INTO ${TABLE} VALUES (i, 9000000000000 + i, CONCAT('name-', i, '-abcdefgh'),
      (i MOD 100000) + (i MOD 100) / 100, TIMESTAMPADD(MICROSECOND, (i MOD 86400000) * 1000, '2024-01-01 00:00:00.000'),
      i MOD 128, CONCAT('text value for row ', i), CONCAT('{"k":', i, ',"v":"x"}'));
    SET i = i + 1;
  END WHILE;
END`;

export interface BinlogSpan {
  /** binlog file that holds the whole workload (and nothing else) */
  file: string;
  /** rows of bench_t written */
  rows: number;
  /** bytes of the binlog file */
  bytes: number;
}

export async function createSchema(sb: Sandbox): Promise<void> {
  for (const stmt of CREATE_TABLES) await sb.sql(stmt);
  await sb.sql(PROCEDURE);
}

/** Starts a fresh binlog file, so that each workload can be decoded alone from its offset 4. */
export async function rotate(sb: Sandbox): Promise<string> {
  await sb.sql('FLUSH BINARY LOGS');
  return (await sb.masterStatus()).file;
}

async function fileSize(sb: Sandbox, file: string): Promise<number> {
  const rows = await sb.sql<{ Log_name: string; File_size: number | string }[]>('SHOW BINARY LOGS');
  const row = rows.find((r) => r.Log_name === file);
  if (!row) throw new Error(`binlog file ${file} is not listed by SHOW BINARY LOGS`);
  return Number(row.File_size);
}

export async function writeSentinel(sb: Sandbox, tag: string): Promise<void> {
  await sb.sql(`INSERT INTO ${SENTINEL_TABLE} VALUES (?)`, [tag]);
}

/**
 * Workload A: `rows` rows from id `firstId`, as 1000-row INSERTs, 10 per transaction, on two
 * connections at once (each transaction stays whole; their order does not matter to a decoder).
 */
export async function loadBatched(sb: Sandbox, firstId: number, rows: number, tag: string): Promise<BinlogSpan> {
  const file = await rotate(sb);
  const perInsert = 1000;
  const perTx = 10;
  const txRows = perInsert * perTx;
  const txCount = Math.ceil(rows / txRows);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < txCount) {
      const tx = next++;
      const start = firstId + tx * txRows;
      const end = Math.min(start + txRows, firstId + rows);
      const stmts: string[] = [];
      for (let s = start; s < end; s += perInsert) {
        const tuples: string[] = [];
        for (let id = s; id < Math.min(s + perInsert, end); id++) tuples.push(rowTuple(id));
        stmts.push(`INSERT INTO ${TABLE} VALUES ${tuples.join(',')}`);
      }
      await sb.transaction(stmts);
    }
  };
  await Promise.all([worker(), worker()]);
  await writeSentinel(sb, tag);
  const bytes = await fileSize(sb, file);
  await rotate(sb);
  return { file, rows, bytes };
}

/** Workload B: `rows` single-row autocommit transactions, loaded by a stored procedure on 4 connections. */
export async function loadSingleRowTx(sb: Sandbox, firstId: number, rows: number, tag: string): Promise<BinlogSpan> {
  const file = await rotate(sb);
  const parts = 4;
  const per = Math.ceil(rows / parts);
  const calls: Promise<unknown>[] = [];
  for (let p = 0; p < parts; p++) {
    const start = firstId + p * per;
    const n = Math.max(0, Math.min(per, firstId + rows - start));
    if (n > 0) calls.push(sb.sql('CALL bench_single_rows(?, ?)', [start, n]));
  }
  await Promise.all(calls);
  await writeSentinel(sb, tag);
  const bytes = await fileSize(sb, file);
  await rotate(sb);
  return { file, rows, bytes };
}

export async function countRows(sb: Sandbox, firstId: number, lastId: number): Promise<number> {
  const r = await sb.sql<{ n: number | string }[]>(`SELECT COUNT(*) AS n FROM ${TABLE} WHERE id BETWEEN ? AND ?`, [firstId, lastId]);
  return Number(r[0]!.n);
}

export interface LiveLoadResult {
  rows: number;
  transactions: number;
  rowsPerTx: number;
  firstId: number;
  /** wall-clock ms (performance.timeOrigin + now) at which each transaction's COMMIT was acknowledged */
  commitMs: Float64Array;
  /** rows per second actually achieved over the load */
  achievedRate: number;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Workload C: `rate` rows/s for `seconds`, as autocommit multi-row INSERTs of `rowsPerTx` rows,
 * paced against the clock (a late loader catches up rather than drifting) with at most
 * `inFlight` transactions outstanding. Records when each transaction's commit was acknowledged.
 */
export async function loadLive(
  sb: Sandbox,
  opts: { firstId: number; rate: number; seconds: number; rowsPerTx: number; inFlight: number },
): Promise<LiveLoadResult> {
  const { firstId, rate, seconds, rowsPerTx, inFlight } = opts;
  const transactions = Math.round((rate * seconds) / rowsPerTx);
  const commitMs = new Float64Array(transactions);
  const t0 = performance.now();
  let issued = 0;
  let active = 0;
  let failed = false;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (failed) return;
      const due = Math.min(transactions, Math.floor(((performance.now() - t0) / 1000) * (rate / rowsPerTx)) + 1);
      while (issued < due && active < inFlight) {
        const tx = issued++;
        active++;
        const start = firstId + tx * rowsPerTx;
        const tuples: string[] = [];
        for (let id = start; id < start + rowsPerTx; id++) tuples.push(rowTuple(id));
        sb.sql(`INSERT INTO ${TABLE} VALUES ${tuples.join(',')}`).then(
          () => {
            commitMs[tx] = wallMs();
            active--;
            if (issued === transactions && active === 0) resolve();
          },
          (err: unknown) => {
            failed = true;
            reject(new Error(`live load: INSERT of ids ${start}..${start + rowsPerTx - 1} failed: ${(err as Error).message}`));
          },
        );
      }
      if (issued < transactions) setTimeout(pump, 1);
    };
    pump();
  });
  const elapsed = (performance.now() - t0) / 1000;
  return { rows: transactions * rowsPerTx, transactions, rowsPerTx, firstId, commitMs, achievedRate: (transactions * rowsPerTx) / elapsed };
}
