// `sluice start ... | head -1`, then SIGTERM: stdout is a pipe nobody reads any more, so every
// log line fails with EPIPE. Shutdown must still finish (or exit non-zero at its limit) instead of
// hanging with its sockets open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { spawnCli } from './run-cli.ts';

test('SIGTERM stops sluice start although the reader of its stdout has closed the pipe', async () => {
  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-epipe-'));
  let child: ReturnType<typeof spawnCli> | undefined;
  try {
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: 0 }, admin: { port: 0 }, dataDir: join(dir, 'data'), lagIntervalMs: 600_000 }));
    const { host, port, user, password } = sb.replConfig;
    await writeFile(join(dir, 'instances', 'bank.json'), JSON.stringify({ source: { host, port, user, password, slaveId: 7401 } }));
    child = spawnCli(['start', '--config', dir, '--json']);
    const c = child;
    let out = '';
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const head = { closeAt: undefined as string | undefined };
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // Like `head`: stop reading after a given line and close the pipe.
      if (head.closeAt !== undefined && out.includes(head.closeAt)) c.stdout!.destroy();
    });
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    await waitFor(() => out.includes('"msg":"every instance has started or failed"') || c.exitCode !== null, 'the instance to start', 45_000, 50);
    assert.match(out, /"states":\{"bank":"running"\}/, stderr);
    // The reader goes away late in the shutdown (as `head -10` did in the report): the last log
    // lines are still being written when the process exits.
    head.closeAt = '"msg":"instance stopped"';
    c.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 40_000).unref())]);
    assert.notEqual(code, 'hung', `sluice start did not exit within 40 s of SIGTERM; stderr: ${stderr}`);
    assert.equal(code, 0, `a clean shutdown exits 0 whatever happened to stdout; stderr: ${stderr}`);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await sb.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
});
