// Starts test/faults/support/sluice-runner.ts as a child process and kills it.
import { spawn, type ChildProcess } from 'node:child_process';
import { dieWithParent } from '../../../src/cli/parent-death.ts';
import { join } from 'node:path';
import type { InstanceConfig } from '../../../src/config/types.ts';

const runner = join(import.meta.dirname, 'sluice-runner.ts');

export interface ChildSluice {
  proc: ChildProcess;
  port: number;
  state: string;
  error?: string;
  /** what the child wrote on stderr so far */
  stderr(): string;
  kill9(): Promise<void>;
  terminate(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function startChild(config: InstanceConfig, dataDir: string, flushIntervalMs: number): Promise<ChildSluice> {
  const proc = spawn(...dieWithParent(process.execPath, ['--import', 'tsx', runner, JSON.stringify({ config, dataDir, flushIntervalMs })]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => {
    live.delete(proc);
    r(code);
  }));
  const ready = await new Promise<{ port: number; state: string; error?: string }>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        proc.stdout!.off('data', onData);
        try {
          resolve(JSON.parse(out.slice(0, nl)));
        } catch (e) {
          reject(new Error(`sluice runner printed ${JSON.stringify(out)}: ${(e as Error).message}`));
        }
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`sluice runner exited (code ${code}) before it was ready; stderr:\n${err}`)));
  });
  const child: ChildSluice = {
    proc,
    port: ready.port,
    state: ready.state,
    stderr: () => err,
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return await exited;
    },
  };
  if (ready.error !== undefined) child.error = ready.error;
  return child;
}
