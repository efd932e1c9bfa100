// dieWithParent: a grandchild started through it is gone once its parent is SIGKILLed, which no
// 'exit' handler in the parent can arrange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/sandbox.ts';

const MODULE = fileURLToPath(new URL('../../src/cli/parent-death.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a child started with dieWithParent dies when its parent is killed with SIGKILL', { skip: process.platform !== 'linux' }, async () => {
  const parentCode = `
    import { spawn } from 'node:child_process';
    import { dieWithParent } from ${JSON.stringify(MODULE)};
    const [cmd, args] = dieWithParent('sleep', ['300']);
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.once('spawn', () => process.stdout.write(String(c.pid) + '\\n'));
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', parentCode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitFor(() => /\d+\n/.test(out), 'the child pid', 30_000);
    const child = Number(out.trim());
    assert.ok(alive(child), 'the child runs');
    // setpriv sets the death signal and then execs; a parent killed before that (possible on a loaded
    // machine) would leave no signal set, so wait until the pid runs the command itself.
    await waitFor(() => comm(child) === 'sleep', 'setpriv to exec the command', 30_000);
    parent.kill('SIGKILL');
    await waitFor(() => !alive(child) || isZombieGone(child), 'the child to die with its parent', 30_000);
  } finally {
    if (parent.exitCode === null) parent.kill('SIGKILL');
  }
});

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

// A killed child of a dead parent is reaped by init; until then kill(pid, 0) still succeeds.
function isZombieGone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
