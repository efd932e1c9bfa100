// What observability needs from an instance. The instance implements InstanceStatsSource; logs,
// metrics and health read it when they report, so nothing here sits on the data path.
import type { DestinationStateName, HaStatus } from './destination-status.ts';

export interface InstanceStats {
  state: DestinationStateName;
  /** the last error, for failed/retrying */
  error?: string;
  /** binlog file and offset read so far (the next event starts there) */
  file?: string;
  offset?: number;
  /** executed GTID position of the last complete transaction read */
  gtid?: string;
  /** source timestamp (ms) of the last event read */
  lastEventTimestamp?: number;
  /** counters since the process started */
  events: number;
  rows: number;
  bytes: number;
  reconnects: number;
  errors: number;
  batches: number;
  acks: number;
  rollbacks: number;
  store: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  outstandingBatches: number;
  clients: number;
  /** failed writes of the cursor file (meta.dat), also counted in errors */
  cursorWriteErrors?: number;
  /** row changes that arrived as statements (binlog_format STATEMENT or MIXED) */
  statementDml?: number;
  /** role in a high-availability cluster; absent when standalone */
  ha?: HaStatus;
  /** instances with a standby: the server read now */
  source?: { role: 'master' | 'standby'; address: string; port: number; since?: number; switchedFrom?: string; resumedAt?: string };
  /** instances with a standby: 1 once the standby has taken over (until a restart) */
  sourceSwitches?: number;
  /** a group destination's sources: each one's state and read position */
  sources?: { name: string; state: string; error?: string; file: string; offset: number }[];
  /** snapshots of this run (docs/snapshots.md) */
  snapshots?: SnapshotStats[];
}

export interface SnapshotStats {
  table: string;
  state: string;
  rowsEmitted: number;
  rowsAcked: number;
  chunksEmitted: number;
  chunksAcked: number;
  estimatedRows: number;
}

/** One binlog file on the source, as SHOW BINARY LOGS lists it. */
export interface BinlogFileSize {
  name: string;
  size: number;
}

export interface InstanceStatsSource {
  readonly destination: string;
  stats(): InstanceStats;
  /** the source's binlog files with sizes; optional: the lag reporter can probe the source itself */
  binaryLogs?(): Promise<BinlogFileSize[]>;
}

/**
 * Bytes between the read position and the end of the source's binlog, across files. Undefined
 * when the file read is no longer listed (purged, or the list is from another server).
 */
export function bytesBehind(file: string | undefined, offset: number | undefined, logs: BinlogFileSize[]): number | undefined {
  if (file === undefined || offset === undefined) return undefined;
  const i = logs.findIndex((l) => l.name === file);
  if (i < 0) return undefined;
  let behind = Math.max(0, logs[i]!.size - offset);
  for (const l of logs.slice(i + 1)) behind += l.size;
  return behind;
}
