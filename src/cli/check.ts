// `sluice check`: connects to each instance's source and prints every preflight setting as OK or
// FAIL with the fix, before anyone relies on the stream. Exit 1 when any check fails.
import type { Command } from 'commander';
import { slaveIdFor, type InstanceConfig } from '../config/index.ts';
import mysql from 'mysql2/promise';
import { checkSourceWith } from '../parser/preflight.ts';
import { checkStandby, readBinlogSettings, type BinlogSettings } from '../parser/failover/standby-check.ts';
import type { PreflightCheck } from '../parser/errors.ts';
import { addConfigOption, EXIT_CONFIG, loadConfigOrExit } from './config-option.ts';
import { stateChecks } from './check-state.ts';

export interface CheckReport {
  destination: string;
  source: string;
  checks: PreflightCheck[];
}

/** The source's settings, then (given the data directory) the state a start would use. */
export async function checkInstance(inst: InstanceConfig, dataDir?: string): Promise<CheckReport> {
  const report = await checkSourceOf(inst);
  if (dataDir !== undefined) report.checks.push(...(await stateChecks(inst, dataDir)));
  return report;
}

async function checkSourceOf(inst: InstanceConfig): Promise<CheckReport> {
  const source = `${inst.source.user}@${inst.source.host}:${inst.source.port}`;
  try {
    const checks = await checkSourceWith(
      { host: inst.source.host, port: inst.source.port, user: inst.source.user, password: inst.source.password, connectTimeout: inst.source.connectTimeoutMs },
      slaveIdFor(inst),
    );
    return { destination: inst.destination, source, checks };
  } catch (err) {
    const fix = 'check source.host/port/user/password in ' + inst.file + ' and that the server accepts connections from here';
    return { destination: inst.destination, source, checks: [{ name: 'connection', value: (err as Error).message, ok: false, fix }] };
  }
}

async function masterSettings(inst: InstanceConfig): Promise<BinlogSettings | undefined> {
  const s = inst.source;
  try {
    const c = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, connectTimeout: s.connectTimeoutMs });
    try {
      return await readBinlogSettings(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch {
    return undefined;
  }
}

/**
 * The standby's report: every ordinary source check (it is read the same way once it takes
 * over), then what a standby needs besides: log_slave_updates, the source's binlog settings,
 * running replication.
 */
export async function checkStandbyOf(inst: InstanceConfig): Promise<CheckReport | undefined> {
  const sb = inst.standby;
  if (sb === undefined) return undefined;
  const source = `${sb.user}@${sb.host}:${sb.port}`;
  const destination = `${inst.destination} standby`;
  const conn = { host: sb.host, port: sb.port, user: sb.user, password: sb.password, connectTimeout: sb.connectTimeoutMs };
  try {
    const checks = await checkSourceWith(conn, slaveIdFor(inst));
    const c = await mysql.createConnection(conn);
    try {
      checks.push(...(await checkStandby(c, await masterSettings(inst), `${inst.source.host}:${inst.source.port}`)));
    } finally {
      await c.end().catch(() => undefined);
    }
    return { destination, source, checks };
  } catch (err) {
    const fix = 'check standby.host/port/user/password in ' + inst.file + ' and that the standby accepts connections from here';
    return { destination, source, checks: [{ name: 'connection', value: (err as Error).message, ok: false, fix }] };
  }
}

export function formatReport(r: CheckReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = [`${r.destination} (${r.source})`];
  for (const c of r.checks) {
    const head = `  ${c.ok ? 'OK  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.value}`;
    lines.push(c.ok ? head : `${head}\n        fix: ${c.fix}`);
  }
  return lines.join('\n');
}

export function registerCheck(program: Command): void {
  addConfigOption(
    program
      .command('check')
      .description("connect to each instance's source (and standby) and report every preflight setting as OK or FAIL with the fix; exits 1 on any FAIL")
      .option('-d, --destination <name>', 'check only this destination'),
  ).action(async (opts: { config: string; destination?: string }) => {
    const cfg = await loadConfigOrExit(opts.config);
    let instances = cfg.instances;
    if (opts.destination !== undefined) {
      instances = instances.filter((i) => i.destination === opts.destination);
      if (instances.length === 0) {
        process.stderr.write(`sluice check: no destination ${JSON.stringify(opts.destination)} in ${cfg.dir}; configured: ${cfg.instances.map((i) => i.destination).join(', ')}\n`);
        process.exit(EXIT_CONFIG);
      }
    }
    let failed = 0;
    for (const inst of instances) {
      const reports = [await checkInstance(inst, cfg.server.dataDir)];
      const standby = await checkStandbyOf(inst);
      if (standby) reports.push(standby);
      for (const r of reports) {
        process.stdout.write(formatReport(r) + '\n');
        failed += r.checks.filter((c) => !c.ok).length;
      }
    }
    process.stdout.write(failed === 0 ? 'all checks passed\n' : `${failed} check(s) failed\n`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
}
