// `npm run demo` as a newcomer runs it. Every wait is on something the demo prints, with limits
// meant for a heavily loaded machine: only a demo that is stuck fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, readdir, readFile, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/sandbox.ts';

const DEMO = fileURLToPath(new URL('../../src/cli/demo.ts', import.meta.url));

interface Demo {
  child: ChildProcessByStdio<null, Readable, Readable>;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  /** the demo's temporary folder, once it has said it */
  dir: () => string | undefined;
}

function startDemo(): Demo {
  // Its own process group, so that the test's last-resort cleanup can take every process of the demo.
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, out: () => out, err: () => err, exited, dir: () => /data in (\S+)\)/.exec(err)?.[1] };
}

/** Pids of the processes whose command line names `text`. */
async function processesNaming(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      const state = /^State:\s+(\S)/m.exec(await readFile(`/proc/${name}/status`, 'utf8'))?.[1];
      if (cmd.includes(text) && state !== 'Z') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Pids of the children of `pid` and of their children. */
async function descendants(pid: number): Promise<number[]> {
  const parentOf = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ...", comm may hold spaces: split after the last ')'.
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parentOf) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function lastResort(d: Demo): Promise<void> {
  try {
    process.kill(-d.child.pid!, 'SIGKILL');
  } catch {
    // the group is gone
  }
  const dir = d.dir();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

const ROWS = (out: string) => /INSERT bank\.accounts/.test(out) && /UPDATE bank\.accounts|INSERT bank\.ledger/.test(out);

test('npm run demo shows ledger rows through sluice tail; SIGINT with the stderr pipe closed (| tee, Ctrl-C) cleans everything up', async () => {
  const d = startDemo();
  try {
    await waitFor(() => /tailing it with/.test(d.err()) || d.child.exitCode !== null, 'the demo to start sluice and its tail', 240_000, 50);
    await waitFor(() => ROWS(d.out()) || d.child.exitCode !== null, 'ledger rows printed by sluice tail', 120_000, 50);
    assert.ok(ROWS(d.out()), `rows printed; stderr: ${d.err()}`);
    assert.match(d.out(), /BEGIN/);
    assert.match(d.out(), /COMMIT/);
    assert.ok(!(d.err() + d.out()).includes('\u001b['), 'no terminal escape codes when the output is not a terminal');
    const dir = d.dir();
    assert.ok(dir, `the demo names its data folder: ${d.err()}`);
    // Ctrl-C in a terminal signals the whole pipeline: `tee` goes away with the demo's stderr.
    d.child.stderr.destroy();
    d.child.kill('SIGINT');
    const code = await Promise.race([d.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 120_000).unref())]);
    assert.equal(code, 0, `the demo exits 0 after cleaning up; stderr: ${d.err()}`);
    await assert.rejects(access(dir), /ENOENT/, 'the demo folder is deleted');
    assert.deepEqual(await processesNaming(dir), [], 'no MariaDB or sluice of the demo is left');
  } finally {
    await lastResort(d);
  }
});

test('a demo killed with SIGKILL (a test timeout) leaves no MariaDB and no sluice running', { skip: process.platform !== 'linux' }, async () => {
  const d = startDemo();
  try {
    await waitFor(() => /tailing it with/.test(d.err()) || d.child.exitCode !== null, 'the demo to start sluice and its tail', 240_000, 50);
    const dir = d.dir();
    assert.ok(dir, d.err());
    const children = await descendants(d.child.pid!);
    assert.ok(children.length >= 3, `MariaDB, sluice start and sluice tail run under the demo: ${children.join(', ')}`);
    assert.ok((await processesNaming(dir)).length >= 2, 'MariaDB and sluice run with the demo folder in their command lines');
    d.child.kill('SIGKILL'); // the demo alone, not its group: no handler of the demo runs
    await d.exited;
    await waitFor(() => children.every((p) => !alive(p)), 'the demo’s MariaDB, sluice start and sluice tail to die with it', 30_000, 50);
    assert.deepEqual(await processesNaming(dir), []);
  } finally {
    await lastResort(d);
  }
});
