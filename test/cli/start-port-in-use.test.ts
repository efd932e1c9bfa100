// A port already taken is a configuration problem: one line naming the key and the address, and
// the usage exit code, not a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CONFIG } from '../../src/cli/config-option.ts';
import { runCli } from './run-cli.ts';

test('sluice start on a port in use prints one line naming listen.port and the address, and exits with the config code', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-port-'));
  try {
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port }, admin: { enabled: false }, dataDir: join(dir, 'data') }));
    await writeFile(join(dir, 'instances', 'example.json'), JSON.stringify({ source: { host: '127.0.0.1', port: 1, user: 'u', password: 'p' } }));
    const r = await runCli(['start', '--config', dir, '--json']);
    assert.equal(r.code, EXIT_CONFIG, `stderr: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use; set by listen\\.port in sluice\\.json`));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  } finally {
    await new Promise<void>((r) => taken.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});
