// Validation shared by both config forms: a raw object (parsed JSON, or what the Canal importer
// assembled from properties) goes through the zod schema and comes out as the typed config.
// `locate` maps a JSON key path back to where the user wrote it (a Canal property key and file).
import { isAbsolute, resolve } from 'node:path';
import { IssueList } from './errors.ts';
import { instanceFileSchema, serverFileSchema, type InstanceFile } from './schema.ts';
import type { InstanceConfig, ServerConfig, StartRequest } from './types.ts';
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
  const out: InstanceConfig = {
    destination,
    file,
    source: d.source,
    start: toStart(d.start),
    filter: d.filter,
    drop: d.drop,
    store: d.store,
    heartbeatMs: d.heartbeatMs,
    retry: d.retry,
    failover: d.failover,
  };
  if (d.timezone !== undefined) out.timezone = d.timezone;
  if (d.standby !== undefined) {
    const { start, ...standby } = d.standby;
    out.standby = standby;
    const s = toStart(start);
    if (s.kind !== 'end') out.standby.start = s;
    if (standby.host === d.source.host && standby.port === d.source.port) {
      local.add(file, 'standby.host', `the standby must be another server than source (${d.source.host}:${d.source.port}); name a replica of it`, `${standby.host}:${standby.port}`);
      relocate(local, issues, locate);
      return undefined;
    }
  }
  return out;
}

/** Checks that span files: two instances replicating one source with the same server id would evict each other. */
export function crossCheckInstances(instances: InstanceConfig[], issues: IssueList): void {
  const seen = new Map<string, InstanceConfig>();
  for (const inst of instances) {
    if (inst.source.slaveId === undefined) continue;
    const k = `${inst.source.host}:${inst.source.port}/${inst.source.slaveId}`;
    const prev = seen.get(k);
    if (prev) {
      issues.add(inst.file, 'source.slaveId', `${prev.destination} (${prev.file}) already uses server id ${inst.source.slaveId} on ${inst.source.host}:${inst.source.port}; each replica of a source needs its own`, inst.source.slaveId);
    } else seen.set(k, inst);
  }
}

/**
 * The server id an instance uses toward its source: the configured one, else a stable id derived
 * from the destination name (Canal's slaveId 0 means "pick one"), in a range ordinary replicas
 * rarely use so it does not collide with hand-numbered servers.
 */
export function slaveIdFor(inst: Pick<InstanceConfig, 'destination' | 'source'>): number {
  if (inst.source.slaveId !== undefined) return inst.source.slaveId;
  let h = 2166136261;
  for (let i = 0; i < inst.destination.length; i++) {
    h ^= inst.destination.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return 0x50000000 + (h % 0x0fffffff);
}
