// The shapes exchanged between bench/run.ts and its measured worker processes.

/** What-if store bounds (bench --store-max-mib / --store-max-entries); empty: the config defaults. */
export interface StoreOverrides {
  maxBytes?: number;
  maxEntries?: number;
}

export interface SourceConn {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Decode one workload's binlog file from offset 4 until the sentinel row. */
export interface DecodeJob {
  conn: SourceConn;
  serverId: number;
  file: string;
  table: string;
  sentinelTable: string;
}

export interface DecodeResult {
  /** rows of the benchmark table seen before the sentinel */
  rows: number;
  events: number;
  /** from start to the sentinel */
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

/** Where a pipeline measurement cuts the data path (each includes every stage before it). */
export type Stage = 'parser' | 'sink' | 'store' | 'wire';

export interface StageJob extends DecodeJob {
  stage: Stage;
  /** for the store stage's consumer: GET size (KiB in the default MEMSIZE mode) and wait */
  batchSize: number;
  getTimeoutMs: number;
  /** store settings instead of the config defaults */
  store: StoreOverrides;
  /** fan-out bench: this many destinations on the source (named destination-1...), default 1 */
  copies?: number;
  /** fan-out bench: the instances' reader.shared (default: the config default, shared) */
  sharedReader?: boolean;
}

export interface StageResult extends DecodeResult {
  stage: Stage;
  entries: number;
}

/** The server process of the end-to-end runs. */
export interface ServerJob {
  conn: SourceConn;
  serverId: number;
  /** where the destination starts reading */
  start: { file: string; offset: number };
  destination: string;
  canalUser: string;
  canalPassword: string;
  /** store settings instead of the config defaults */
  store: StoreOverrides;
  /** fan-out bench: this many destinations on the source (named destination-1...), default 1 */
  copies?: number;
  /** fan-out bench: the instances' reader.shared (default: the config default, shared) */
  sharedReader?: boolean;
}

export type ServerMsg =
  | { kind: 'loaded' }
  | { kind: 'started'; wallMs: number; port: number }
  /** cpuSeconds: since sluice was started ('go') */
  | { kind: 'rss'; peakRssBytes: number; cpuSeconds: number }
  | { kind: 'error'; message: string };

/** The consuming client of the end-to-end runs. */
export interface ClientJob {
  destination: string;
  user: string;
  password: string;
  clientId: number;
  /** GET size: KiB in the default MEMSIZE batch mode */
  batchSize: number;
  /** how long a GET waits on the server for a full batch, ms */
  getTimeoutMs: number;
  table: string;
  sentinelTable: string;
  /** live mode: record the receive time of each transaction (rows grouped by id) */
  live?: { firstId: number; rowsPerTx: number; transactions: number };
}

export interface ClientResult {
  rows: number;
  entries: number;
  batches: number;
  /** wall clock (performance.timeOrigin + now) when the sentinel arrived */
  sentinelWallMs: number;
  /** wall clock when the first non-empty batch arrived: start-up cost is what precedes it */
  firstDataWallMs: number;
  /** wall clock when the subscription was acknowledged */
  subscribedWallMs: number;
  cpuSeconds: number;
  /** client mode: total and longest wait for the next batch after handling one */
  waitedMs?: number;
  longestWaitMs?: number;
  /** live mode: wall-clock receive ms per transaction index, NaN where never seen */
  receivedMs?: number[];
}

/** The store alone: put, get and ack of `entries` items of `itemBytes` bytes each. */
export interface StoreThroughputJob {
  entries: number;
  itemBytes: number;
  batchSize: number;
}

export interface StoreThroughputResult {
  entries: number;
  batches: number;
  seconds: number;
  cpuSeconds: number;
}
