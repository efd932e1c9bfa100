// Binlog rotation and purging. While streaming, FLUSH and PURGE BINARY LOGS lose nothing. A purge
// of the file behind a stopped instance's cursor makes the next start fail with an error naming
// that file and `sluice positions reset`; sluice does not jump ahead until the operator resets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';
import { lockHolder } from '../../src/meta/instance-lock.ts';
import { Instance } from '../../src/instance/instance.ts';
import { CanalServer } from '../../src/server/canal-server.ts';
import { MapRegistry } from '../../src/server/registry.ts';
import { instanceConfig, startInProcess, client, type InProcessSluice, cleanUpAfter } from './support/harness.ts';
import { IdCollector, range } from './support/id-stream.ts';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

let sb: Sandbox | undefined;
let dataDir: string | undefined;
let sluice: InProcessSluice | undefined;

cleanUpAfter(() => ({ sluice, sandboxes: [sb], dataDir }));

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

async function insert(s: Sandbox, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await s.sql('INSERT INTO t VALUES (?)', [i]);
}

test('FLUSH and PURGE BINARY LOGS while streaming; a purge behind a stopped cursor fails clearly until positions reset', async () => {
  sb = await Sandbox.start();
  const s = sb;
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-purge-'));
  await s.sql('CREATE TABLE t (id INT PRIMARY KEY)');
  const cfg = instanceConfig(s, 'purge');
  sluice = await startInProcess(cfg, dataDir, 50);
  let c = client(sluice.port, 'purge');
  await c.connect();
  await c.subscribe();
  let col = new IdCollector(c, 't');
  col.start();

  // Rotation and purge under a running stream.
  await insert(s, 1, 20);
  await s.sql('FLUSH BINARY LOGS');
  await insert(s, 21, 40);
  await waitFor(() => col.firstArrivals().length >= 40, 'rows 1..40', 30_000);
  const current = (await s.masterStatus()).file;
  await s.purgeBinlogsTo(current);
  await s.sql('FLUSH BINARY LOGS');
  await insert(s, 41, 60);
  await waitFor(() => col.firstArrivals().length >= 60 || col.error !== undefined, 'rows 41..60 after the purge', 30_000);
  assert.equal(col.error, undefined);
  assert.deepEqual(col.firstArrivals(), range(1, 60));
  await col.stop();
  await c.disconnect();
  await sluice.stop();
  sluice = undefined;

  // The cursor is in the current file; rotate past it, write, and purge it away.
  const cursor = (await readMetaFile(dataDir, 'purge'))?.clients[0]?.cursor;
  assert.ok(cursor, 'a cursor was persisted at stop');
  await s.sql('FLUSH BINARY LOGS');
  await insert(s, 61, 70);
  await s.sql('FLUSH BINARY LOGS');
  await s.purgeBinlogsTo((await s.masterStatus()).file);

  const inst = new Instance({ config: cfg, dataDir, flushIntervalMs: 50 });
  await inst.start();
  const server = new CanalServer({ port: 0, destinations: new MapRegistry([inst]) });
  const { port } = await server.start();
  try {
    // The source refuses the dump only after the connection is set up, so failure may follow start().
    await waitFor(() => inst.status().state === 'failed', `state failed (is ${inst.status().state}: ${inst.status().error ?? ''})`, 30_000);
    const error = inst.status().error ?? '';
    assert.ok(error.includes(cursor.journalName), `the error names the purged file ${cursor.journalName}: ${error}`);
    assert.match(error, /sluice positions reset --destination purge/);
    // Clients of the destination see the same reason.
    const cf = client(port, 'purge');
    await cf.connect();
    await assert.rejects(cf.getWithoutAck(10, -1), (err: Error) => err.message.includes(cursor.journalName) && /is failed/.test(err.message));
    await cf.disconnect();
    // Nothing moved: the cursor on disk is the old one.
    assert.deepEqual((await readMetaFile(dataDir, 'purge'))?.clients[0]?.cursor, cursor);
    assert.equal(await lockHolder(dataDir, 'purge'), undefined);
  } finally {
    await server.stop();
    await inst.stop();
  }

  // The operator chooses to skip ahead.
  const reset = await cli(['positions', 'reset', '--destination', 'purge', '--to', 'latest', '--data-dir', dataDir]);
  assert.equal(reset.code, 0, reset.err);
  sluice = await startInProcess(cfg, dataDir, 50);
  assert.equal(sluice.instance.status().state, 'running');
  c = client(sluice.port, 'purge');
  await c.connect();
  col = new IdCollector(c, 't');
  col.start();
  await insert(s, 71, 75);
  await waitFor(() => col.firstArrivals().length >= 5 || col.error !== undefined, 'rows after the reset', 30_000);
  await col.stop();
  await c.disconnect();
  assert.deepEqual(col.firstArrivals(), range(71, 75), 'after a reset to latest the stream starts at the end, as asked');
});
