// The two file shapes sluice reads: the server file (sluice.json) and one file per instance
// (instances/<destination>.json). Objects are strict so a misspelt key is an error, not a silent
// default; keys starting with `_` are comments and are removed before validation.
import { z } from 'zod';
import { parseColumnRules } from './column-rules.ts';
import { FilterError, TableFilter } from './table-filter.ts';
import { FAILOVER_DEFAULTS } from './failover-defaults.ts';

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);
const hostname = z.string().min(1);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const serverFileSchema = z.strictObject({
  listen: z
    .strictObject({
      host: hostname.default('127.0.0.1'),
      port: port.default(11111),
    })
    .prefault({}),
  /** Canal client ACL: both or neither. passwordHash is hex SHA1(SHA1(pw)) as `sluice passwd` prints. */
  user: z.string().min(1).optional(),
  passwordHash: z
    .string()
    .regex(/^\*?[0-9a-fA-F]{40}$/, { message: 'must be 40 hex digits: SHA1(SHA1(password)) as printed by `sluice passwd` (the plaintext does not go here)' })
    .transform((s) => s.replace(/^\*/, '').toLowerCase())
    .optional(),
  /** largest frame a client may send (requests are small; this bounds what a bad client can make us buffer) */
  maxFrameBytes: z.number().int().min(64).max(1024 * 1024 * 1024).default(1024 * 1024),
  /** a TLS listener beside the plain one, on its own port */
  tls: z
    .strictObject({
      host: hostname.optional(),
      port: port.default(11113),
      certFile: z.string().min(1),
      keyFile: z.string().min(1),
    })
    .optional(),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: hostname.default('127.0.0.1'),
      port: port.default(11112),
    })
    .prefault({}),
  dataDir: z.string().min(1).default('data'),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      pretty: z.boolean().optional(),
    })
    .prefault({}),
  lagIntervalMs: positiveInt.default(10_000),
  flushIntervalMs: positiveInt.default(1_000),
  /** high availability: several servers, one active per destination (docs/high-availability.md) */
  zookeeper: z
    .strictObject({
      /** ZooKeeper connect string, as Canal's canal.zkServers: host:port[,host:port...][/chroot] */
      connect: z.string().regex(/^[^\s,/]+:\d{1,5}(,[^\s,/]+:\d{1,5})*(\/[^\s]*)?$/, { message: 'must be host:port[,host:port...] (optionally followed by /chroot), e.g. "zk1:2181,zk2:2181,zk3:2181"' }),
      /** requested session timeout; bounds how long a crashed active keeps its destinations dark */
      sessionTimeoutMs: z.number().int().min(1_000).max(600_000).default(5_000),
      /** how long a standby that was not the last holder waits after `running` disappears */
      takeoverDelayMs: z.number().int().min(0).max(600_000).default(2_000),
      /** the address clients reach this server at (Canal's canal.register.ip:canal.port); default listen.host:listen.port */
      registerAddress: z.string().regex(/^[^\s/:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, { message: 'must be host:port, the address clients connect to, e.g. "10.0.0.5:11111"' }).optional(),
      /** Canal's canal.id, written into the running node */
      cid: z.number().int().min(0).default(1),
      /** how long start-up waits for ZooKeeper before logging and retrying (the server keeps trying) */
      connectTimeoutMs: positiveInt.default(10_000),
    })
    .optional(),
  /** 'exact': an acknowledged entry never comes again after a crash of sluice; 'periodic': Canal's, cursors written once per flushIntervalMs */
  cursorDurability: z.enum(['exact', 'periodic']).default('exact'),
});

export type ServerFile = z.output<typeof serverFileSchema>;

// Filters are compiled with the sink's own code, so what loads here is exactly what will run.
function filterProblem(compile: () => unknown): string | undefined {
  try {
    compile();
    return undefined;
  } catch (err) {
    if (err instanceof FilterError) return err.message.slice(err.key.length + 2);
    throw err;
  }
}
function tableFilter() {
  return z.string().superRefine((s, ctx) => {
    const p = filterProblem(() => TableFilter.compile(s, ''));
    if (p !== undefined) ctx.addIssue({ code: 'custom', message: p, input: s });
  });
}
function fieldFilter() {
  return z.string().superRefine((s, ctx) => {
    const p = filterProblem(() => parseColumnRules(s, ''));
    if (p !== undefined) ctx.addIssue({ code: 'custom', message: p, input: s });
  });
}

function timezoneProblem(tz: string): string | undefined {
  if (/^[+-](0\d|1[0-4]):[0-5]\d$/.test(tz)) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return 'must be an IANA zone name (e.g. "Europe/Berlin", "UTC") or an offset like "+08:00"';
  }
}

const rowValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** `{ table: "shop.orders", column: "tenant_id", in: [7] }` keeps only those rows; `notIn` drops them. */
const rowFilterSchema = z
  .strictObject({
    table: z.string().regex(/^[^.\s]+\.[^.\s]+$/, { message: 'must be schema.table (exact names, no regex)' }),
    column: z.string().min(1),
    in: z.array(rowValue).min(1).optional(),
    notIn: z.array(rowValue).min(1).optional(),
  })
  .refine((r) => (r.in === undefined) !== (r.notIn === undefined), { message: 'give exactly one of "in" (keep only rows whose value is listed) or "notIn" (drop them)' });

const startSchema = z
  .strictObject({
    file: z.string().min(1).optional(),
    position: z.number().int().min(4).optional(),
    gtid: z.string().min(1).optional(),
    /** epoch ms, or an ISO-8601 date-time */
    timestamp: z.union([z.number().int().min(0), z.iso.datetime({ offset: true })]).optional(),
  })
  .superRefine((s, ctx) => {
    const kinds = [s.file !== undefined || s.position !== undefined, s.gtid !== undefined, s.timestamp !== undefined].filter(Boolean).length;
    if (kinds > 1) ctx.addIssue({ code: 'custom', message: 'give one of {file, position}, {gtid} or {timestamp}, not several', input: s });
    if ((s.file === undefined) !== (s.position === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'file and position go together (position is the byte offset in that binlog file, at least 4)', input: s });
    }
  });

const sourceFields = {
  host: hostname,
  port: port.min(1).default(3306),
  user: z.string().min(1),
  password: z.string(),
  /** the replica server id sluice uses; must differ from every other replica of this source */
  slaveId: z.number().int().min(1).max(4294967295).optional(),
  connectTimeoutMs: positiveInt.default(10_000),
};

/** A source's name in a group: it names the source in cursors, entry props and states. */
export const SOURCE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;

/** One member of a group destination (`sources`): a source with its own name and start. */
const groupSourceSchema = z.strictObject({
  ...sourceFields,
  name: z.string().regex(SOURCE_NAME, { message: 'use letters, digits, _ . : - (at most 64)' }).optional(),
  start: startSchema.optional(),
});

export const instanceFileSchema = z.strictObject({
  source: z.strictObject(sourceFields).optional(),
  start: startSchema.optional(),
  timezone: z
    .string()
    .superRefine((s, ctx) => {
      const p = timezoneProblem(s);
      if (p !== undefined) ctx.addIssue({ code: 'custom', message: p, input: s });
    })
    .optional(),
  filter: z
    .strictObject({
      include: tableFilter().default('.*\\..*'),
      exclude: tableFilter().default(''),
      includeFields: fieldFilter().default(''),
      excludeFields: fieldFilter().default(''),
      /** row filters by content: keep or drop rows of a table by one column's value */
      rows: z.array(rowFilterSchema).default([]),
    })
    .prefault({}),
  drop: z
    .strictObject({
      insert: z.boolean().default(false),
      update: z.boolean().default(false),
      delete: z.boolean().default(false),
      /** table DDL: CREATE, ALTER, DROP, TRUNCATE, RENAME TABLE, CREATE/DROP INDEX (Canal's filter.query.ddl) */
      ddl: z.boolean().default(false),
      /** every other statement: GRANT, CREATE USER, CREATE/DROP DATABASE, ... (Canal's filter.query.dcl) */
      dcl: z.boolean().default(false),
      /** INSERT/UPDATE/DELETE written as statements (STATEMENT or MIXED binlog format; Canal's filter.query.dml) */
      queryDml: z.boolean().default(false),
      /** every row change (Canal's filter.rows) */
      rows: z.boolean().default(false),
      /** rows of tables whose metadata cannot be read because the table no longer exists (Canal's filter.table.error) */
      tableErrors: z.boolean().default(false),
      /** transaction begin/end entries, one pair let through every 5 s or 8192 transactions (Canal's filter.transaction.entry) */
      transactionEntries: z.boolean().default(false),
    })
    .prefault({}),
  store: z
    .strictObject({
      maxEntries: positiveInt.default(16_384),
      // Canal's effective default (16384 entries × 1024-byte units); the server's memory bound rests on it.
      maxBytes: positiveInt.default(16 * 1024 * 1024),
      batchMode: z.enum(['MEMSIZE', 'ITEMSIZE']).default('MEMSIZE'),
      memUnit: positiveInt.default(1024),
      ddlIsolation: z.boolean().default(false),
    })
    .prefault({}),
  heartbeatMs: positiveInt.default(5_000),
  /** a replica of `source` that takes over when the source is lost (docs/high-availability.md) */
  standby: z
    .strictObject({
      host: hostname,
      port: port.min(1).default(3306),
      user: z.string().min(1),
      password: z.string(),
      connectTimeoutMs: positiveInt.default(10_000),
      /** where to begin on the standby when nothing has been read from the source yet */
      start: startSchema.optional(),
    })
    .optional(),
  failover: z
    .strictObject({
      afterFailedReconnects: positiveInt.default(FAILOVER_DEFAULTS.afterFailedReconnects),
      afterSilenceMs: positiveInt.default(FAILOVER_DEFAULTS.afterSilenceMs),
      fallbackMs: z.number().int().min(0).default(FAILOVER_DEFAULTS.fallbackMs),
      standbyWaitMs: z.number().int().min(0).default(FAILOVER_DEFAULTS.standbyWaitMs),
    })
    .prefault({}),
  /** snapshots (docs/snapshots.md): tables loaded at the first start, and the default chunk size */
  snapshot: z
    .strictObject({
      firstStart: z.array(z.string().regex(/^[^.`\s]+\.[^.`\s]+$/, { message: 'each table must be written schema.table' })).default([]),
      chunkSize: z.number().int().min(1).max(1_000_000).default(4096),
      /** how a chunk's watermarks are taken: the read-only snapshot position (default), or rows written to a table of sluice's own */
      watermark: z.enum(['position', 'table']).default('position'),
      /** the table the `table` method writes (created if missing); its rows never reach clients */
      watermarkTable: z
        .string()
        .regex(/^[^.`\s]+\.[^.`\s]+$/, { message: 'the watermark table must be written schema.table' })
        .default('sluice.snapshot_watermarks'),
    })
    .prefault({}),
  retry: z
    .strictObject({
      initialMs: positiveInt.default(1_000),
      maxMs: positiveInt.default(30_000),
    })
    .prefault({})
    .refine((r) => r.maxMs >= r.initialMs, { message: 'retry.maxMs must be at least retry.initialMs' }),
  /** a group destination (Canal's group instance): several sources merged into one stream */
  sources: z.array(groupSourceSchema).min(2, { message: 'a group needs at least two sources; for one source use "source"' }).optional(),
  group: z
    .strictObject({
      /** how long a transaction may wait for an older one from a quieter source (binlog times are whole seconds) */
      skewMs: z.number().int().min(0).max(600_000).default(1_000),
      /** what the other sources do while one is down: keep flowing (default) or pause */
      onSourceFailure: z.enum(['continue', 'pause']).default('continue'),
    })
    .optional(),
  /** destinations on the same source share one replica connection and decode (src/fanout/) */
  reader: z
    .strictObject({
      shared: z.boolean().default(true),
      /** binlog bytes a paused destination may fall behind the shared reader before it reads on its own */
      windowBytes: positiveInt.default(8 * 1024 * 1024),
    })
    .prefault({}),
});

export type InstanceFile = z.output<typeof instanceFileSchema>;
