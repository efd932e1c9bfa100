// The validated configuration every other module receives. Paths are absolute; secrets are resolved.
import type { LOG_LEVELS } from './schema.ts';
import type { FailoverSettings } from './failover-defaults.ts';

export type { FailoverSettings } from './failover-defaults.ts';

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where an instance starts when no cursor is persisted (same shapes as the parser's StartFrom). */
export type StartRequest =
  | { kind: 'position'; file: string; offset: number }
  | { kind: 'gtid'; gtid: string }
  | { kind: 'timestamp'; ms: number }
  | { kind: 'end' };

export interface ServerConfig {
  listen: { host: string; port: number };
  /** Canal client ACL; absent: no authentication */
  auth?: { user: string; passwordHash: string };
  maxFrameBytes: number;
  /** PEM files, absolute paths; the listener runs beside the plain one */
  tls?: { host?: string; port: number; certFile: string; keyFile: string };
  admin: { enabled: boolean; host: string; port: number };
  dataDir: string;
  log: { level: LogLevel; pretty?: boolean };
  lagIntervalMs: number;
  flushIntervalMs: number;
  cursorDurability: 'exact' | 'periodic';
  /** absent: standalone, exactly as without high availability */
  zookeeper?: ZooKeeperConfig;
}

export interface ZooKeeperConfig {
  connect: string;
  sessionTimeoutMs: number;
  takeoverDelayMs: number;
  /** host:port clients use; absent: listen.host and the port the Canal listener bound */
  registerAddress?: string;
  cid: number;
  connectTimeoutMs: number;
}

export interface SourceConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  slaveId?: number;
  connectTimeoutMs: number;
}

/** One source of a group destination, with the name its cursor, entries and state carry. */
export interface GroupSourceConfig extends SourceConfig {
  name: string;
  start: StartRequest;
}

/** A row filter by content: rows of `table` kept (`in`) or dropped (`notIn`) by `column`'s value. */
export interface RowFilterConfig {
  table: string;
  column: string;
  mode: 'in' | 'notIn';
  values: (string | number | boolean | null)[];
}

export interface InstanceConfig {
  destination: string;
  /** the file it came from, for messages */
  file: string;
  /** the source; for a group, its first (primary) source, whose position is the cursor's Canal fields */
  source: SourceConfig;
  /** a group destination's sources (two or more, the first is `source`); absent for one source */
  sources?: GroupSourceConfig[];
  /** how a group merges its sources */
  group?: { skewMs: number; onSourceFailure: 'continue' | 'pause' };
  start: StartRequest;
  timezone?: string;
  filter: { include: string; exclude: string; includeFields: string; excludeFields: string; rows?: RowFilterConfig[] };
  /** share one replica connection and decode with the other destinations on the same source */
  reader?: { shared: boolean; windowBytes: number };
  drop: { insert: boolean; update: boolean; delete: boolean; ddl: boolean; dcl: boolean; queryDml: boolean; rows: boolean; tableErrors: boolean; transactionEntries: boolean };
  store: { maxEntries: number; maxBytes: number; batchMode: 'MEMSIZE' | 'ITEMSIZE'; memUnit: number; ddlIsolation: boolean };
  heartbeatMs: number;
  retry: { initialMs: number; maxMs: number };
  /**
   * tables snapshotted at the first start (no cursor yet), the default chunk size, and how chunk
   * watermarks are taken (docs/snapshots.md); absent: none, 4096, the read-only position
   */
  snapshot?: { firstStart: string[]; chunkSize: number; watermark?: 'position' | 'table'; watermarkTable?: string };
  /** a replica of `source` that takes over when the source is lost; its own account */
  standby?: StandbyConfig;
  /** when the source counts as lost; defaults (FAILOVER_DEFAULTS) where absent */
  failover?: FailoverSettings;
}

export interface StandbyConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs: number;
  /** where to begin on the standby when nothing was read from the source (Canal's standby.* position keys) */
  start?: Exclude<StartRequest, { kind: 'end' }>;
}

export interface SluiceConfig {
  format: 'sluice-json' | 'canal-properties';
  /** the config directory, absolute */
  dir: string;
  server: ServerConfig;
  instances: InstanceConfig[];
  /** keys present in the files that sluice does not use (Canal import), for one log line at start-up */
  ignoredKeys: string[];
}
