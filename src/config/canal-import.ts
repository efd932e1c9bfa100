// Reads a Canal configuration directory (canal.properties + <destination>/instance.properties)
// into the same raw shapes as sluice's JSON files, so both forms pass the same validation. Every
// issue is reported against the property key and file the user wrote. Keys sluice has no use
// for are returned as a list; keys whose meaning sluice cannot provide are errors.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildInstance, buildServer, type Locate } from './build.ts';
import { deliberatelyIgnored, ignoredKeyNames, unknownKeyProblem } from './canal-known-keys.ts';
import type { IssueList } from './errors.ts';
import { parseProperties, type PropertyEntry } from './properties.ts';
import { interpolate, type Env } from './secrets.ts';
import type { InstanceConfig, ServerConfig } from './types.ts';

export const CANAL_PROPERTIES = 'canal.properties';
export const INSTANCE_PROPERTIES = 'instance.properties';

type Props = Map<string, PropertyEntry>;

/** Server keys: property -> JSON path in the server file. */
const SERVER_KEYS: Record<string, string> = {
  'canal.ip': 'listen.host',
  'canal.port': 'listen.port',
  'canal.user': 'user',
  'canal.passwd': 'passwordHash',
  'canal.file.data.dir': 'dataDir',
  'canal.file.flush.period': 'flushIntervalMs',
  'canal.metrics.pull.port': 'admin.port',
  'canal.zkServers': 'zookeeper.connect',
};
/** Read only with canal.zkServers: the address registered in ZooKeeper, and the server id in `running`. */
const REGISTER_IP_KEY = 'canal.register.ip';
const CANAL_ID_KEY = 'canal.id';

/** Instance keys: property -> JSON path in an instance file (address is split separately). */
const INSTANCE_KEYS: Record<string, string> = {
  'canal.instance.dbUsername': 'source.user',
  'canal.instance.dbPassword': 'source.password',
  'canal.instance.mysql.slaveId': 'source.slaveId',
  'canal.instance.master.journal.name': 'start.file',
  'canal.instance.master.position': 'start.position',
  'canal.instance.master.timestamp': 'start.timestamp',
  'canal.instance.master.gtid': 'start.gtid',
  'canal.instance.filter.regex': 'filter.include',
  'canal.instance.filter.black.regex': 'filter.exclude',
  'canal.instance.filter.field': 'filter.includeFields',
  'canal.instance.filter.black.field': 'filter.excludeFields',
  'canal.instance.filter.dml.insert': 'drop.insert',
  'canal.instance.filter.dml.update': 'drop.update',
  'canal.instance.filter.dml.delete': 'drop.delete',
  'canal.instance.filter.query.ddl': 'drop.ddl',
  'canal.instance.filter.query.dcl': 'drop.dcl',
  'canal.instance.filter.query.dml': 'drop.queryDml',
  'canal.instance.filter.rows': 'drop.rows',
  'canal.instance.filter.table.error': 'drop.tableErrors',
  'canal.instance.filter.transaction.entry': 'drop.transactionEntries',
  'canal.instance.memory.buffer.size': 'store.maxEntries',
  'canal.instance.memory.buffer.memunit': 'store.memUnit',
  'canal.instance.memory.batch.mode': 'store.batchMode',
  'canal.instance.get.ddl.isolation': 'store.ddlIsolation',
  'canal.instance.standby.journal.name': 'standby.start.file',
  'canal.instance.standby.position': 'standby.start.position',
  'canal.instance.standby.timestamp': 'standby.start.timestamp',
  'canal.instance.standby.gtid': 'standby.start.gtid',
  'canal.instance.detecting.retry.threshold': 'failover.afterFailedReconnects',
  'canal.instance.fallbackIntervalInSeconds': 'failover.fallbackMs',
};
const ADDRESS_KEY = 'canal.instance.master.address';
const STANDBY_ADDRESS_KEY = 'canal.instance.standby.address';
const GTID_ON_KEY = 'canal.instance.gtidon';

/** Keys read for their meaning but not copied: the destination list and the conf dir placeholder. */
const CONSUMED = new Set(['canal.destinations', 'canal.conf.dir', ADDRESS_KEY, STANDBY_ADDRESS_KEY, GTID_ON_KEY, REGISTER_IP_KEY, CANAL_ID_KEY]);

/**
 * Keys sluice cannot honour when set to anything but the harmless value. Returns the problem,
 * or undefined when the value is one sluice behaves the same way under.
 */
function unhonourable(key: string, value: string, zookeeper = false): string | undefined {
  const v = value.trim().toLowerCase();
  if (key === 'canal.serverMode' && v !== 'tcp') {
    return 'sluice serves only the Canal TCP protocol; set canal.serverMode = tcp (MQ delivery is not supported)';
  }
  if (key === 'canal.instance.global.mode' && v !== 'spring') {
    return 'sluice reads instances from this directory only; set canal.instance.global.mode = spring (canal-admin managed configs are not supported)';
  }
  if (key === 'canal.instance.global.spring.xml' && !v.endsWith('file-instance.xml') && !v.endsWith('group-instance.xml') && !(zookeeper && v.endsWith('default-instance.xml'))) {
    if (v.endsWith('default-instance.xml')) return 'default-instance.xml keeps cursors in ZooKeeper: set canal.zkServers too, or use classpath:spring/file-instance.xml';
    return 'sluice persists cursors to files in dataDir (file-instance.xml, or group-instance.xml for a group), or in ZooKeeper with canal.zkServers (default-instance.xml); memory instances are not supported';
  }
  if (/^canal\.instance\.standby\d+\./.test(key) && v !== '') {
    return 'standby sources of a group member are not supported: remove the canal.instance.standbyN.* keys';
  }
  if (key === 'canal.instance.tsdb.enable' && v === 'true') {
    return 'set it to false: sluice takes column names from binlog_row_metadata=FULL, not from a table-schema history database';
  }
  if (key === 'canal.instance.connectionCharset' && !['utf-8', 'utf8', 'utf8mb4'].includes(v)) {
    return 'sluice decodes text as UTF-8 only; set canal.instance.connectionCharset = UTF-8';
  }
  if (key === 'canal.instance.multi.stream.on' && v === 'true') {
    return 'multi-stream parsing is not supported; set it to false';
  }
  if (/^canal\.instance\.master\.ssl/i.test(key) && v !== '' && v !== 'disabled') {
    return 'TLS to the source is not supported by sluice; remove it or set canal.instance.master.sslMode = DISABLED';
  }
  return undefined;
}

/** Every key sluice knows by name, for the closest-key suggestion on a typo. */
function knownKeys(): string[] {
  return [...Object.keys(SERVER_KEYS), ...Object.keys(INSTANCE_KEYS), ...CONSUMED, ...JUDGED_KEYS, 'canal.instance.master.sslMode', ...ignoredKeyNames()];
}

/** A `canal.` key neither used nor deliberately ignored is a typo: refusing it beats failing open. */
function unknownCanalKey(key: string): boolean {
  return key.startsWith('canal.') && !deliberatelyIgnored(key);
}

/** Keys unhonourable() judges: with a value sluice behaves the same under, they count as used, not ignored. */
const JUDGED_KEYS = ['canal.serverMode', 'canal.instance.global.mode', 'canal.instance.global.spring.xml', 'canal.instance.tsdb.enable', 'canal.instance.connectionCharset', 'canal.instance.multi.stream.on'];
function judged(key: string): boolean {
  return (
    JUDGED_KEYS.includes(key) ||
    /^canal\.instance\.standby\d+\./.test(key) ||
    /^canal\.instance\.master\.ssl/i.test(key)
  );
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    o[p] ??= {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]!] = value;
}

/** Numbers and booleans as zod expects them; anything else stays a string so the error shows it. */
function typed(value: string): unknown {
  if (/^-?\d+$/.test(value)) return Number(value);
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return value;
}

async function readProps(file: string, display: string, issues: IssueList): Promise<Props | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    issues.add(display, '', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
  return parseProperties(text);
}

/** `${canal.conf.dir}`-style references to other properties; canal.conf.dir is this directory. */
function resolveRefs(value: string, lookup: (k: string) => string | undefined, dir: string): string {
  return value.replace(/\$\{([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+)\}/g, (m, k: string) => {
    if (k === 'canal.conf.dir') return dir;
    return lookup(k) ?? m;
  });
}

export interface CanalImport {
  server: ServerConfig | undefined;
  instances: InstanceConfig[];
  ignoredKeys: string[];
}

export async function importCanalDir(dir: string, env: Env, issues: IssueList): Promise<CanalImport> {
  const serverFile = CANAL_PROPERTIES;
  const ignored = new Set<string>();
  const global = await readProps(join(dir, CANAL_PROPERTIES), serverFile, issues);
  if (!global) return { server: undefined, instances: [], ignoredKeys: [] };

  const value = (props: Props, key: string, file: string): string | undefined => {
    const e = props.get(key);
    if (!e || e.value === '') return undefined;
    const refs = resolveRefs(e.value, (k) => global.get(k)?.value, dir);
    return interpolate(refs, env, issues, file, key);
  };

  const zookeeper = value(global, 'canal.zkServers', serverFile) !== undefined;
  // Server file.
  const rawServer: Record<string, unknown> = {};
  const serverLocate = new Map<string, string>();
  for (const key of global.keys()) {
    if (key.startsWith('canal.instance.')) continue; // judged per destination, after instance.properties overrides
    const problem = unhonourable(key, global.get(key)!.value, zookeeper);
    if (problem) {
      issues.add(serverFile, key, problem, global.get(key)!.value);
      continue;
    }
    const path = SERVER_KEYS[key];
    if (path !== undefined) {
      const v = value(global, key, serverFile);
      if (v !== undefined) setPath(rawServer, path, key === 'canal.passwd' || key === 'canal.ip' || key === 'canal.user' || key === 'canal.file.data.dir' ? v : typed(v));
      serverLocate.set(path, key);
    } else if (!CONSUMED.has(key) && !judged(key)) {
      if (unknownCanalKey(key)) issues.add(serverFile, key, unknownKeyProblem(key, knownKeys()), global.get(key)!.value);
      else ignored.add(key);
    }
  }
  if (zookeeper) {
    // Canal registers canal.register.ip (else canal.ip) with canal.port; an empty ip means the listen address.
    const ip = value(global, REGISTER_IP_KEY, serverFile);
    if (ip !== undefined) {
      setPath(rawServer, 'zookeeper.registerAddress', `${ip}:${value(global, 'canal.port', serverFile) ?? '11111'}`);
      serverLocate.set('zookeeper.registerAddress', REGISTER_IP_KEY);
    }
    const id = value(global, CANAL_ID_KEY, serverFile);
    if (id !== undefined) {
      setPath(rawServer, 'zookeeper.cid', typed(id));
      serverLocate.set('zookeeper.cid', CANAL_ID_KEY);
    }
  } else {
    for (const k of [REGISTER_IP_KEY, CANAL_ID_KEY]) if (global.has(k)) ignored.add(k);
  }
  const locateServer: Locate = (k) => ({ file: serverFile, key: serverLocate.get(k) ?? (k === 'user' ? 'canal.user' : k === 'passwordHash' ? 'canal.passwd' : k) });
  const server = buildServer(rawServer, serverFile, dir, issues, locateServer);

  // Instances.
  const destinations = (value(global, 'canal.destinations', serverFile) ?? 'example')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  const instances: InstanceConfig[] = [];
  const reported = new Set<string>();
  for (const dest of destinations) {
    const instFile = join(dest, INSTANCE_PROPERTIES);
    const local = await readPropsOptional(join(dir, instFile));
    if (!local) {
      issues.add(serverFile, 'canal.destinations', `names destination ${JSON.stringify(dest)} but ${instFile} does not exist in ${dir}; create it or remove ${dest} from the list`, dest);
      continue;
    }
    // Instance keys from canal.properties are defaults that instance.properties overrides.
    const merged: Props = new Map();
    const origin = new Map<string, string>();
    for (const [k, e] of global) {
      if (k.startsWith('canal.instance.')) {
        merged.set(k, e);
        origin.set(k, serverFile);
      }
    }
    for (const [k, e] of local) {
      merged.set(k, e);
      origin.set(k, instFile);
    }
    const raw: Record<string, unknown> = {};
    const where = new Map<string, { file: string; key: string }>();
    const gtidOn = value(merged, GTID_ON_KEY, instFile)?.toLowerCase() === 'true';
    for (const key of merged.keys()) {
      const file = origin.get(key)!;
      const problem = unhonourable(key, merged.get(key)!.value, zookeeper);
      if (problem) {
        if (!reported.has(file + '\0' + key)) issues.add(file, key, problem, merged.get(key)!.value);
        reported.add(file + '\0' + key);
        continue;
      }
      const path = INSTANCE_KEYS[key];
      if (path === undefined) {
        if (CONSUMED.has(key) || judged(key) || GROUP_MEMBER_KEY.test(key)) continue;
        if (!unknownCanalKey(key)) ignored.add(key);
        else if (!reported.has(file + '\0' + key)) {
          issues.add(file, key, unknownKeyProblem(key, knownKeys()), merged.get(key)!.value);
          reported.add(file + '\0' + key);
        }
        continue;
      }
      where.set(path, { file, key });
      if ((path === 'start.gtid' || path === 'standby.start.gtid') && !gtidOn) {
        if (merged.get(key)!.value !== '') ignored.add(key + ' (canal.instance.gtidon is false)');
        continue;
      }
      const v = value(merged, key, file);
      if (v === undefined) continue;
      if (path === 'source.slaveId' && v === '0') continue; // Canal: 0 means pick one automatically
      const keepString = path === 'source.user' || path === 'source.password' || path.endsWith('start.file') || path.endsWith('start.gtid') || path.startsWith('filter.') || path === 'store.batchMode';
      // Canal gives the fallback in seconds; sluice keeps milliseconds.
      const val = path === 'failover.fallbackMs' && /^\d+$/.test(v) ? Number(v) * 1000 : keepString ? v : typed(v);
      setPath(raw, path, val);
    }
    // A timestamp beside a journal name means "search this file by time" in Canal; sluice searches by time.
    const start = raw['start'] as Record<string, unknown> | undefined;
    if (start && start['timestamp'] !== undefined && start['file'] !== undefined && start['position'] === undefined) delete start['file'];
    if (start && start['position'] !== undefined && start['timestamp'] !== undefined) delete start['timestamp'];

    const springXml = value(merged, 'canal.instance.global.spring.xml', origin.get('canal.instance.global.spring.xml') ?? instFile) ?? '';
    if (springXml.trim().toLowerCase().endsWith('group-instance.xml')) {
      importGroupSources(raw, merged, origin, where, instFile, (k, f) => value(merged, k, f), issues);
      const inst = buildInstance(raw, dest, instFile, issues, locateIn(where, instFile));
      if (inst) instances.push(inst);
      continue;
    }
    const addressFile = origin.get(ADDRESS_KEY) ?? instFile;
    const address = value(merged, ADDRESS_KEY, addressFile);
    for (const p of ['source.host', 'source.port']) where.set(p, { file: addressFile, key: ADDRESS_KEY });
    if (address !== undefined) {
      const m = /^(.+):(\d+)$/.exec(address);
      if (!m) issues.add(addressFile, ADDRESS_KEY, 'must be host:port of the MySQL/MariaDB source', address);
      else {
        setPath(raw, 'source.host', m[1]!);
        setPath(raw, 'source.port', Number(m[2]));
      }
    }
    if (!where.has('source.user')) where.set('source.user', { file: instFile, key: 'canal.instance.dbUsername' });
    if (!where.has('source.password')) where.set('source.password', { file: instFile, key: 'canal.instance.dbPassword' });
    if ((raw['source'] as Record<string, unknown> | undefined)?.['password'] === undefined && (raw['source'] as Record<string, unknown> | undefined)?.['user'] !== undefined) {
      setPath(raw, 'source.password', ''); // Canal allows an account without a password
    }
    importStandby(raw, merged, origin, where, instFile, (props, key, file) => value(props, key, file), issues);
    const inst = buildInstance(raw, dest, instFile, issues, locateIn(where, instFile));
    if (inst) instances.push(inst);
  }
  return { server, instances, ignoredKeys: [...ignored].sort() };
}

/**
 * canal.instance.standby.address names a replica of the master that takes over when the master is
 * lost; Canal uses the master's account for it. Its journal/position/timestamp keys (already
 * copied to standby.start) follow the same rules as the master's start keys.
 */
function importStandby(
  raw: Record<string, unknown>,
  merged: Props,
  origin: Map<string, string>,
  where: Map<string, { file: string; key: string }>,
  instFile: string,
  value: (props: Props, key: string, file: string) => string | undefined,
  issues: IssueList,
): void {
  const file = origin.get(STANDBY_ADDRESS_KEY) ?? instFile;
  const address = value(merged, STANDBY_ADDRESS_KEY, file);
  const standby = raw['standby'] as Record<string, unknown> | undefined;
  if (address === undefined) {
    // Start keys without an address mean nothing: Canal ignores them too.
    delete raw['standby'];
    return;
  }
  for (const p of ['standby.host', 'standby.port']) where.set(p, { file, key: STANDBY_ADDRESS_KEY });
  const m = /^(.+):(\d+)$/.exec(address);
  if (!m) {
    issues.add(file, STANDBY_ADDRESS_KEY, 'must be host:port of a replica of the master (it must log what it replicates: log_slave_updates=ON)', address);
    return;
  }
  setPath(raw, 'standby.host', m[1]!);
  setPath(raw, 'standby.port', Number(m[2]));
  const src = raw['source'] as Record<string, unknown> | undefined;
  if (src?.['user'] !== undefined) setPath(raw, 'standby.user', src['user']);
  if (src?.['password'] !== undefined) setPath(raw, 'standby.password', src['password']);
  for (const p of ['standby.user', 'standby.password']) where.set(p, { file: instFile, key: p === 'standby.user' ? 'canal.instance.dbUsername' : 'canal.instance.dbPassword' });
  const start = (standby ?? (raw['standby'] as Record<string, unknown>))['start'] as Record<string, unknown> | undefined;
  if (start && start['timestamp'] !== undefined && start['file'] !== undefined && start['position'] === undefined) delete start['file'];
  if (start && start['position'] !== undefined && start['timestamp'] !== undefined) delete start['timestamp'];
}

function locateIn(where: Map<string, { file: string; key: string }>, instFile: string): Locate {
  return (k) => {
    const direct = where.get(k);
    if (direct) return direct;
    // "start" problems span keys: name the start keys that were given.
    for (const [p, w] of where) if (p.startsWith(k + '.') || k.startsWith(p + '.')) return w;
    return { file: instFile, key: k };
  };
}

/** canal.instance.masterN.* of Canal's group-instance.xml: one member of a group per N. */
const GROUP_MEMBER_KEY = /^canal\.instance\.master(\d+)\.(address|journal\.name|position|timestamp|gtid)$/;

/**
 * Canal's group instance (spring/group-instance.xml): one parser per canal.instance.masterN.address
 * (N = 1, 2, ...), each with its own masterN.journal.name / position / timestamp and the shared
 * dbUsername / dbPassword / slaveId. Becomes the JSON form's `sources`, named master1, master2...
 */
function importGroupSources(
  raw: Record<string, unknown>,
  merged: Props,
  origin: Map<string, string>,
  where: Map<string, { file: string; key: string }>,
  instFile: string,
  value: (key: string, file: string) => string | undefined,
  issues: IssueList,
): void {
  const shared = (raw['source'] as Record<string, unknown> | undefined) ?? {};
  delete raw['source'];
  delete raw['start'];
  delete raw['standby'];
  if ((merged.get(STANDBY_ADDRESS_KEY)?.value ?? '') !== '') {
    issues.add(origin.get(STANDBY_ADDRESS_KEY) ?? instFile, STANDBY_ADDRESS_KEY, 'a group instance has no standby (group-instance.xml reads canal.instance.masterN.address only): remove it');
  }
  const numbers = new Set<number>();
  for (const k of merged.keys()) {
    const m = GROUP_MEMBER_KEY.exec(k);
    if (m && merged.get(k)!.value !== '') numbers.add(Number(m[1]));
  }
  const sorted = [...numbers].sort((a, b) => a - b);
  const sources: Record<string, unknown>[] = [];
  sorted.forEach((n, i) => {
    const key = (field: string): string => `canal.instance.master${n}.${field}`;
    const fileOf = (field: string): string => origin.get(key(field)) ?? instFile;
    const at = `sources.${i}`;
    const src: Record<string, unknown> = { ...shared, name: `master${n}` };
    if (shared['user'] !== undefined && shared['password'] === undefined) src['password'] = '';
    const address = value(key('address'), fileOf('address'));
    for (const p of ['host', 'port', '']) where.set(p === '' ? at : `${at}.${p}`, { file: fileOf('address'), key: key('address') });
    if (address === undefined) issues.add(fileOf('address'), key('address'), `is missing: the group's members are numbered 1, 2, ... without gaps (found ${sorted.map((x) => `master${x}`).join(', ')})`);
    else {
      const m = /^(.+):(\d+)$/.exec(address);
      if (!m) issues.add(fileOf('address'), key('address'), 'must be host:port of the MySQL/MariaDB source', address);
      else {
        src['host'] = m[1]!;
        src['port'] = Number(m[2]);
      }
    }
    const start: Record<string, unknown> = {};
    const file = value(key('journal.name'), fileOf('journal.name'));
    const position = value(key('position'), fileOf('position'));
    const timestamp = value(key('timestamp'), fileOf('timestamp'));
    if (file !== undefined && position !== undefined) {
      start['file'] = file;
      start['position'] = typed(position);
    } else if (timestamp !== undefined) start['timestamp'] = typed(timestamp);
    else if (file !== undefined || position !== undefined) {
      start['file'] = file;
      start['position'] = position === undefined ? undefined : typed(position);
    }
    for (const f of ['journal.name', 'position', 'timestamp']) if (merged.has(key(f))) where.set(`${at}.start`, { file: fileOf(f), key: key(f) });
    if (Object.keys(start).length > 0) src['start'] = start;
    sources.push(src);
  });
  if (sorted.length !== sorted[sorted.length - 1]) {
    issues.add(instFile, 'canal.instance.master1.address', `a group instance needs canal.instance.master1.address, master2.address, ... numbered without gaps (found ${sorted.map((x) => `master${x}`).join(', ') || 'none'})`);
  }
  raw['sources'] = sources;
  where.set('sources', { file: instFile, key: 'canal.instance.master1.address' });
}

async function readPropsOptional(file: string): Promise<Props | undefined> {
  try {
    return parseProperties(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}
