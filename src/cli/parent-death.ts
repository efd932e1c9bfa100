// Children that die with the process that started them, however it ends. An 'exit' handler
// covers a normal exit, but not SIGKILL (a test runner's timeout, the OOM killer) or a crash:
// then a MariaDB or sluice started by the demo or a test would run on unowned. On Linux the
// kernel can signal a child when its parent dies (PR_SET_PDEATHSIG); node cannot set that
// itself, so the child is started through util-linux's `setpriv --pdeathsig KILL`, which sets
// it and then execs the command (same pid, so signals sent to the child still reach it).
// Elsewhere, or without setpriv, the command runs unchanged and the 'exit' handlers remain.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

let setpriv: string | null | undefined;

function findSetpriv(): string | null {
  if (process.platform !== 'linux') return null;
  const dirs = (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/bin', '/usr/sbin', '/sbin']);
  for (const d of dirs) {
    if (d === '') continue;
    try {
      accessSync(join(d, 'setpriv'), constants.X_OK);
      return join(d, 'setpriv');
    } catch {
      // keep looking
    }
  }
  return null;
}

/** `[command, args]` that run `cmd args` and deliver SIGKILL to it when this process dies. */
export function dieWithParent(cmd: string, args: readonly string[]): [string, string[]] {
  if (setpriv === undefined) setpriv = findSetpriv();
  if (setpriv === null) return [cmd, [...args]];
  return [setpriv, ['--pdeathsig', 'KILL', '--', cmd, ...args]];
}
