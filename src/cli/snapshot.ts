// `sluice snapshot`: asks the running server, through the admin HTTP port its configuration
// names, to snapshot a table (returns once the snapshot is accepted), to show every snapshot
// (--status) or to stop them (--stop). docs/snapshots.md.
import type { Command } from 'commander';
import { ConfigError, loadConfig, type SluiceConfig } from '../config/index.ts';
import { addConfigOption, EXIT_CONFIG } from './config-option.ts';

/**
 * The configuration without its secrets: this command reads only the admin port and the
 * destination names, so it runs where the source passwords are not in the environment.
 */
async function loadWithoutSecrets(dir: string): Promise<SluiceConfig> {
  const env = new Proxy(process.env, { get: (target, name) => (typeof name === 'string' ? (target[name] ?? 'unused') : undefined) });
  try {
    return await loadConfig(dir, { env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

interface SnapshotOpts {
  config: string;
  destination?: string;
  table?: string;
  where?: string;
  chunkSize?: string;
  status?: boolean;
  stop?: boolean;
  json?: boolean;
}

interface StatusLine {
  id: string;
  table: string;
  source?: string;
  state: string;
  rowsEmitted: number;
  rowsAcked: number;
  chunksAcked: number;
  estimatedRows: number;
  retries: number;
  error?: string;
  where?: string;
}

function describe(s: StatusLine): string {
  const pct = s.estimatedRows > 0 ? ` (~${Math.min(100, Math.round((100 * s.rowsAcked) / s.estimatedRows))}% of ~${s.estimatedRows})` : '';
  const where = s.where !== undefined ? ` where ${s.where}` : '';
  const err = s.error !== undefined ? `: ${s.error}` : '';
  const source = s.source !== undefined ? ` on ${s.source}` : '';
  return `${s.table}${source}${where}  ${s.state}  ${s.rowsAcked} rows acknowledged${pct}, ${s.rowsEmitted} emitted, ${s.chunksAcked} chunks, ${s.retries} re-reads  [${s.id}]${err}`;
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ code: number; json: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach the sluice admin port at ${base} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is \`sluice start\` running with this configuration?`);
  }
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`the admin port at ${base} answered ${res.status} with ${JSON.stringify(text.slice(0, 200))}; is it a sluice with snapshots?`);
  }
  return { code: res.status, json };
}

export function registerSnapshot(program: Command): void {
  addConfigOption(
    program
      .command('snapshot')
      .description('load the rows already in a table into the stream of a running server (consistent with the stream), or show or stop snapshots')
      .option('-d, --destination <name>', 'the destination (instance) whose stream receives the rows; optional with --status when there is one')
      .option('-t, --table <schema.table>', 'the table to snapshot (with --stop: stop only that table)')
      .option('-w, --where <condition>', 'an SQL condition: only rows matching it are read')
      .option('--chunk-size <rows>', 'rows per chunk (default: the instance setting snapshot.chunkSize, 4096)')
      .option('--status', 'show every snapshot with its progress')
      .option('--stop', 'stop the destination’s snapshots (or only --table’s)')
      .option('--json', 'print the server’s JSON answer'),
  ).action(async (opts: SnapshotOpts) => {
    const cfg = await loadWithoutSecrets(opts.config);
    const admin = cfg.server.admin;
    if (!admin.enabled) {
      process.stderr.write(`sluice: the admin HTTP port is disabled in ${cfg.dir} (admin.enabled: false); snapshots are requested through it\n`);
      process.exit(2);
    }
    const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '[::1]' : admin.host.includes(':') ? `[${admin.host}]` : admin.host;
    const base = `http://${host}:${admin.port}`;
    const names = cfg.instances.map((i) => i.destination);
    const dest = opts.destination ?? (names.length === 1 && (opts.status === true || opts.stop === true) ? names[0] : undefined);
    const fail = (msg: string, code = 1): never => {
      process.stderr.write(`sluice: ${msg}\n`);
      process.exit(code);
    };
    try {
      if (opts.destination !== undefined && !names.includes(opts.destination)) fail(`no destination ${opts.destination} in ${cfg.dir}; it has ${names.join(', ') || 'none'}`, 2);
      if (opts.status === true) {
        const q = opts.destination !== undefined ? `?destination=${encodeURIComponent(opts.destination)}` : '';
        const { code, json } = await call(base, 'GET', `/snapshots${q}`);
        if (code !== 200) fail(String(json.error ?? `admin port answered ${code}`));
        if (opts.json === true) {
          process.stdout.write(JSON.stringify(json) + '\n');
          return;
        }
        for (const [d, list] of Object.entries(json.destinations as Record<string, StatusLine[]>)) {
          process.stdout.write(`${d}: ${list.length === 0 ? 'no snapshots' : ''}\n`);
          for (const s of list) process.stdout.write(`  ${describe(s)}\n`);
        }
        return;
      }
      if (dest === undefined) fail(`give --destination (one of ${names.join(', ')})`, 2);
      const q = `?destination=${encodeURIComponent(dest!)}`;
      if (opts.stop === true) {
        const { code, json } = await call(base, 'POST', `/snapshots/stop${q}`, opts.table !== undefined ? { table: opts.table } : {});
        if (code !== 200) fail(String(json.error ?? `admin port answered ${code}`));
        const stopped = json.stopped as StatusLine[];
        if (opts.json === true) process.stdout.write(JSON.stringify(json) + '\n');
        else process.stdout.write(stopped.length === 0 ? 'no snapshot was running\n' : stopped.map((s) => `stopped ${describe(s)}\n`).join(''));
        return;
      }
      if (opts.table === undefined) fail('give --table schema.table (or --status, or --stop)', 2);
      const body: Record<string, unknown> = { table: opts.table };
      if (opts.where !== undefined) body.where = opts.where;
      if (opts.chunkSize !== undefined) {
        const n = Number(opts.chunkSize);
        if (!Number.isInteger(n) || n < 1) fail(`--chunk-size ${opts.chunkSize} must be a positive integer`, 2);
        body.chunkSize = n;
      }
      const { code, json } = await call(base, 'POST', `/snapshots${q}`, body);
      if (code !== 202) fail(String(json.error ?? `admin port answered ${code}`));
      // one per source the table was accepted on (a group destination's sources that have it)
      const accepted = json.accepted as StatusLine[];
      if (opts.json === true) process.stdout.write(JSON.stringify(json) + '\n');
      else process.stdout.write(`${accepted.map((s) => `accepted: ${describe(s)}\n`).join('')}follow it with: sluice snapshot --config ${opts.config} --status\n`);
    } catch (err) {
      fail((err as Error).message);
    }
  });
}
