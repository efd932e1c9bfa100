// Validation shared by both config forms: a raw object (parsed JSON, or what the Canal importer
// assembled from properties) goes through the zod schema and comes out as the typed config.
// `locate` maps a JSON key path back to where the user wrote it (a Canal property key and file).
import { isAbsolute, resolve } from 'node:path';
import { IssueList } from './errors.ts';
import { instanceFileSchema, serverFileSchema, type InstanceFile } from './schema.ts';
import type { GroupSourceConfig, InstanceConfig, ServerConfig, StartRequest } from './types.ts';
import { addZodIssues } from './zod-issues.ts';

export type Locate = (key: string) => { file: string; key: string };

export const DESTINATION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

function relocate(from: IssueList, to: IssueList, locate: Locate): void {
  for (const i of from.issues) {
    const where = locate(i.key);
    to.issues.push({ ...i, file: where.file, key: where.key });
  }
}

export function buildServer(raw: unknown, file: string, configDir: string, issues: IssueList, locate: Locate = (key) => ({ file, key })): ServerConfig | undefined {
  const local = new IssueList();
  const r = serverFileSchema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    addZodIssues(local, file, serverFileSchema, r.error);
    relocate(local, issues, locate);
    return undefined;
  }
  const s = r.data;
  if ((s.user === undefined) !== (s.passwordHash === undefined)) {
    const missing = s.user === undefined ? 'user' : 'passwordHash';
    local.add(file, missing, 'user and passwordHash go together: give both to require client authentication, or neither to accept any client');
  }
  if (s.zookeeper !== undefined && s.zookeeper.registerAddress === undefined && ['0.0.0.0', '::', ''].includes(s.listen.host)) {
    local.add(file, 'zookeeper.registerAddress', `listen.host ${JSON.stringify(s.listen.host)} is not an address clients can connect to: set zookeeper.registerAddress (Canal: canal.register.ip) to this server's reachable host:port`);
  }
  relocate(local, issues, locate);
  if (!local.empty) return undefined;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const out: ServerConfig = {
    listen: s.listen,
    maxFrameBytes: s.maxFrameBytes,
    admin: s.admin,
    dataDir: abs(s.dataDir),
    log: s.log,
    lagIntervalMs: s.lagIntervalMs,
    flushIntervalMs: s.flushIntervalMs,
    cursorDurability: s.cursorDurability,
  };
  if (s.zookeeper !== undefined) out.zookeeper = s.zookeeper;
  if (s.user !== undefined && s.passwordHash !== undefined) out.auth = { user: s.user, passwordHash: s.passwordHash };
  if (s.tls) {
    out.tls = { port: s.tls.port, certFile: abs(s.tls.certFile), keyFile: abs(s.tls.keyFile) };
    if (s.tls.host !== undefined) out.tls.host = s.tls.host;
  }
  return out;
}

function toStart(s: InstanceFile['start']): StartRequest {
  if (s === undefined) return { kind: 'end' };
  if (s.file !== undefined && s.position !== undefined) return { kind: 'position', file: s.file, offset: s.position };
  if (s.gtid !== undefined) return { kind: 'gtid', gtid: s.gtid };
  if (s.timestamp !== undefined) return { kind: 'timestamp', ms: typeof s.timestamp === 'number' ? s.timestamp : Date.parse(s.timestamp) };
  return { kind: 'end' };
}

export function buildInstance(raw: unknown, destination: string, file: string, issues: IssueList, locate: Locate = (key) => ({ file, key })): InstanceConfig | undefined {
  if (!DESTINATION_NAME.test(destination)) {
    issues.add(file, '', `destination name ${JSON.stringify(destination)} is not allowed: use letters, digits, _ . - (at most 64, not starting with . or -); it names a folder in dataDir`);
    return undefined;
  }
  const local = new IssueList();
  const r = instanceFileSchema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    addZodIssues(local, file, instanceFileSchema, r.error);
    relocate(local, issues, locate);
    return undefined;
  }
  const d = r.data;
  const sources = groupSources(d, file, local);
  relocate(local, issues, locate);
  if (!local.empty) return undefined;
  const primary = sources?.[0] ?? d.source!;
  const { rows, ...tables } = d.filter;
  const out: InstanceConfig = {
    destination,
    file,
    source: { host: primary.host, port: primary.port, user: primary.user, password: primary.password, connectTimeoutMs: primary.connectTimeoutMs },
    start: sources?.[0]?.start ?? toStart(d.start),
    filter: { ...tables, rows: rows.map((f) => ({ table: f.table, column: f.column, mode: f.in !== undefined ? 'in' : 'notIn', values: f.in ?? f.notIn ?? [] })) },
    drop: d.drop,
    store: d.store,
    heartbeatMs: d.heartbeatMs,
    retry: d.retry,
    failover: d.failover,
    reader: d.reader,
    snapshot: d.snapshot,
  };
  if (primary.slaveId !== undefined) out.source.slaveId = primary.slaveId;
  if (sources !== undefined) {
    out.sources = sources;
    out.group = d.group ?? { skewMs: 1_000, onSourceFailure: 'continue' };
  }
  if (d.timezone !== undefined) out.timezone = d.timezone;
  if (d.standby !== undefined) {
    const { start, ...standby } = d.standby;
    out.standby = standby;
    const s = toStart(start);
    if (s.kind !== 'end') out.standby.start = s;
    if (standby.host === primary.host && standby.port === primary.port) {
      local.add(file, 'standby.host', `the standby must be another server than source (${primary.host}:${primary.port}); name a replica of it`, `${standby.host}:${standby.port}`);
      relocate(local, issues, locate);
      return undefined;
    }
  }
  return out;
}

/** A group's sources, named and with their starts; undefined for a one-source destination. Problems go to `issues`. */
function groupSources(d: InstanceFile, file: string, issues: IssueList): GroupSourceConfig[] | undefined {
  if ((d.source === undefined) === (d.sources === undefined)) {
    issues.add(file, d.source === undefined ? 'source' : 'sources', 'give either "source" (one database) or "sources" (a group: two or more databases merged into one stream), not both or neither');
    return undefined;
  }
  if (d.sources === undefined) {
    if (d.group !== undefined) issues.add(file, 'group', '"group" settings apply only to a destination with "sources"');
    return undefined;
  }
  if (d.start !== undefined) issues.add(file, 'start', 'a group destination starts each source on its own: move "start" into each entry of "sources"');
  if (d.standby !== undefined) issues.add(file, 'standby', 'a standby applies to a one-source destination ("source"); the sources of a group have none');
  const seen = new Set<string>();
  return d.sources.map((s, i) => {
    const name = s.name ?? `${s.host}:${s.port}`;
    if (seen.has(name)) issues.add(file, `sources.${i}.name`, `source name ${JSON.stringify(name)} is used twice; give each source its own "name"`, name);
    seen.add(name);
    const out: GroupSourceConfig = { name, host: s.host, port: s.port, user: s.user, password: s.password, connectTimeoutMs: s.connectTimeoutMs, start: toStart(s.start) };
    if (s.slaveId !== undefined) out.slaveId = s.slaveId;
    return out;
  });
}

/** Checks that span files: two instances replicating one source with the same server id would evict each other. */
export function crossCheckInstances(instances: InstanceConfig[], issues: IssueList): void {
  const seen = new Map<string, InstanceConfig>();
  for (const inst of instances) {
    const members = inst.sources?.map((s, i) => ({ s, key: `sources.${i}.slaveId` })) ?? [{ s: inst.source, key: 'source.slaveId' }];
    for (const { s, key } of members) {
      if (s.slaveId === undefined) continue;
      const k = `${s.host}:${s.port}/${s.slaveId}`;
      const prev = seen.get(k);
      if (prev) {
        issues.add(inst.file, key, `${prev.destination} (${prev.file}) already uses server id ${s.slaveId} on ${s.host}:${s.port}; each replica of a source needs its own`, s.slaveId);
      } else seen.set(k, inst);
    }
  }
}

/**
 * The server id an instance uses toward its source: the configured one, else a stable id derived
 * from the destination name (Canal's slaveId 0 means "pick one"), in a range ordinary replicas
 * rarely use so it does not collide with hand-numbered servers.
 */
export function slaveIdFor(inst: Pick<InstanceConfig, 'destination' | 'source'>): number {
  if (inst.source.slaveId !== undefined) return inst.source.slaveId;
  return derivedSlaveId(inst.destination);
}

/** A group member's server id: its configured one, else one derived from destination and source name. */
export function groupSlaveIdFor(destination: string, source: GroupSourceConfig): number {
  return source.slaveId ?? derivedSlaveId(`${destination}/${source.name}`);
}

/** A stable server id derived from a name, in the range slaveIdFor uses. */
export function derivedSlaveId(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return 0x50000000 + (h % 0x0fffffff);
}
