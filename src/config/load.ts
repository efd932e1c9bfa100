// Entry point of the config stage: reads a config directory in either form, validates all of it,
// and returns a typed SluiceConfig, or throws one ConfigError listing every problem. Nothing
// else runs before this returns, so a bad file never leaves half the instances started.
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { buildInstance, buildServer, crossCheckInstances } from './build.ts';
import { CANAL_PROPERTIES, importCanalDir } from './canal-import.ts';
import { ConfigError, IssueList } from './errors.ts';
import { resolveJsonTree, type Env } from './secrets.ts';
import type { InstanceConfig, ServerConfig, SluiceConfig } from './types.ts';

export const SERVER_FILE = 'sluice.json';
export const INSTANCES_DIR = 'instances';

export interface LoadOptions {
  /** environment for secrets; process.env by default */
  env?: Env;
  /**
   * true: a secret (a password or its hash) whose environment variable is unset is not an error
   * and gets a stand-in value. For commands that read only the rest, such as `sluice positions`.
   */
  secretsOptional?: boolean;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** " at line L, column C" for a JSON.parse error that names a character offset, else "". */
function jsonErrorPlace(text: string, err: Error): string {
  const m = /at position (\d+)/.exec(err.message);
  const at = m ? Number(m[1]) : /Unexpected end of JSON input/.test(err.message) ? text.length : undefined;
  if (at === undefined) return '';
  const before = text.slice(0, at).split('\n');
  return ` (at line ${before.length}, column ${before[before.length - 1]!.length + 1})`;
}

async function readJson(path: string, display: string, env: Env, issues: IssueList): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    issues.add(display, '', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    issues.add(display, '', `is not valid JSON: ${(err as Error).message}${jsonErrorPlace(text, err as Error)}`);
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    issues.add(display, '', 'must hold one JSON object', parsed);
    return undefined;
  }
  return resolveJsonTree(parsed, env, issues, display);
}

async function loadJsonDir(dir: string, env: Env, issues: IssueList): Promise<{ server?: ServerConfig; instances: InstanceConfig[] }> {
  const serverPath = join(dir, SERVER_FILE);
  const rawServer = (await exists(serverPath)) ? await readJson(serverPath, SERVER_FILE, env, issues) : {};
  const server = rawServer === undefined ? undefined : buildServer(rawServer, SERVER_FILE, dir, issues);

  const instDir = join(dir, INSTANCES_DIR);
  let names: string[] = [];
  try {
    names = (await readdir(instDir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    issues.add(INSTANCES_DIR, '', `folder not found in ${dir}: put one <destination>.json per source database there`);
  }
  if (names.length === 0 && (await exists(instDir))) {
    issues.add(INSTANCES_DIR, '', `holds no <destination>.json file in ${dir}: sluice needs at least one instance`);
  }
  const instances: InstanceConfig[] = [];
  for (const name of names) {
    const display = join(INSTANCES_DIR, name);
    const raw = await readJson(join(instDir, name), display, env, issues);
    if (raw === undefined) continue;
    const inst = buildInstance(raw, basename(name, '.json'), display, issues);
    if (inst) instances.push(inst);
  }
  const out: { server?: ServerConfig; instances: InstanceConfig[] } = { instances };
  if (server) out.server = server;
  return out;
}

async function checkTlsFiles(server: ServerConfig, file: string, issues: IssueList): Promise<void> {
  if (!server.tls) return;
  for (const k of ['certFile', 'keyFile'] as const) {
    const p = server.tls[k];
    try {
      await readFile(p);
    } catch (err) {
      issues.add(file, `tls.${k}`, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, p);
    }
  }
}

/** Loads and validates a config directory; throws ConfigError naming every file and key at fault. */
export async function loadConfig(dirArg: string, opts: LoadOptions = {}): Promise<SluiceConfig> {
  const env = opts.env ?? process.env;
  const dir = resolve(dirArg);
  const issues = new IssueList();
  issues.secretsOptional = opts.secretsOptional === true;
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new ConfigError([{ file: dir, key: '', problem: `config directory cannot be used (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass --config DIR holding ${SERVER_FILE} and ${INSTANCES_DIR}/, or a Canal conf folder with ${CANAL_PROPERTIES}` }]);
  }
  const canal = await exists(join(dir, CANAL_PROPERTIES));
  let server: ServerConfig | undefined;
  let instances: InstanceConfig[];
  let ignoredKeys: string[] = [];
  if (canal) {
    const r = await importCanalDir(dir, env, issues);
    server = r.server;
    instances = r.instances;
    ignoredKeys = r.ignoredKeys;
  } else {
    if (!(await exists(join(dir, SERVER_FILE))) && !(await exists(join(dir, INSTANCES_DIR)))) {
      throw new ConfigError([{ file: dir, key: '', problem: `holds neither ${SERVER_FILE} with ${INSTANCES_DIR}/ nor ${CANAL_PROPERTIES}; see config/ in the sluice repository for examples` }]);
    }
    ({ server, instances } = await loadJsonDir(dir, env, issues));
  }
  if (server) await checkTlsFiles(server, canal ? CANAL_PROPERTIES : SERVER_FILE, issues);
  crossCheckInstances(instances, issues);
  issues.throwIfAny();
  return { format: canal ? 'canal-properties' : 'sluice-json', dir, server: server!, instances, ignoredKeys };
}
