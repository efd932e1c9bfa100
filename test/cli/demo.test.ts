import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/sandbox.ts';

const DEMO = fileURLToPath(new URL('../../src/cli/demo.ts', import.meta.url));

test('npm run demo shows ledger rows through sluice tail, and SIGINT cleans everything up', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  try {
    // The demo's promise to a newcomer: rows within 30 s of the command.
    await waitFor(() => /INSERT bank\.accounts/.test(out) && /UPDATE bank\.accounts|INSERT bank\.ledger/.test(out), 'ledger rows printed by sluice tail', 30_000, 50);
    assert.match(out, /BEGIN/);
    assert.match(out, /COMMIT/);
    const dataDir = /data in (\S+)\)/.exec(err)?.[1];
    assert.ok(dataDir, `the demo names its data folder: ${err}`);
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0, err);
    await assert.rejects(access(dataDir), /ENOENT/, 'the demo folder is deleted');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
