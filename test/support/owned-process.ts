// A child process a test owns: started through `setpriv --pdeathsig KILL`, so the kernel kills it
// when the test process dies by any signal, and killed on a normal exit too. Stop, kill, freeze
// (SIGSTOP) and thaw (SIGCONT) wait where waiting makes sense.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
});

export class OwnedProcess {
  readonly proc: ChildProcess;
  /** resolves with the exit code (null after a signal) */
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[], stdio: StdioOptions, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    const proc = spawn('setpriv', ['--pdeathsig', 'KILL', command, ...args], { stdio, ...opts });
    this.proc = proc;
    live.add(proc);
    this.exited = new Promise((r) =>
      proc.once('exit', (code) => {
        live.delete(proc);
        r(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGTERM (after SIGCONT, in case it is frozen); resolves with the exit code. */
  async terminate(): Promise<number | null> {
    if (this.running) {
      this.proc.kill('SIGCONT');
      this.proc.kill('SIGTERM');
    }
    return await this.exited;
  }

  /** SIGKILL; resolves once it is gone. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  killNow(): void {
    if (this.running) {
      this.proc.kill('SIGCONT');
      this.proc.kill('SIGKILL');
    }
  }

  /** SIGSTOP: its sockets stay open, nothing answers. */
  freeze(): void {
    if (this.running) this.proc.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    if (this.running) this.proc.kill('SIGCONT');
  }
}
