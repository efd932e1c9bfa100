import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResetTarget } from '../../src/cli/positions.ts';
import { readMetaFile, writeMetaFile } from '../../src/meta/meta-file.ts';
import { InstanceLock } from '../../src/meta/instance-lock.ts';
import { MetaStore } from '../../src/meta/meta-store.ts';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function sluice(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const cursor = { journalName: 'binlog.000007', position: 1200, nextPosition: 1231, serverId: 1, timestamp: 1_700_000_000_000, gtid: '0-1-55' };

test('--to values: latest, FILE:OFFSET, MariaDB and MySQL GTIDs, epoch ms and ISO times; nonsense refused', () => {
  assert.deepEqual(parseResetTarget('latest'), { kind: 'end' });
  assert.deepEqual(parseResetTarget('binlog.000003:4'), { kind: 'position', file: 'binlog.000003', offset: 4 });
  assert.deepEqual(parseResetTarget('0-1-94'), { kind: 'gtid', gtid: '0-1-94' });
  assert.deepEqual(parseResetTarget('0-1-94,1-2-3'), { kind: 'gtid', gtid: '0-1-94,1-2-3' });
  assert.deepEqual(parseResetTarget('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23'), { kind: 'gtid', gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23' });
  assert.deepEqual(parseResetTarget('1700000000000'), { kind: 'timestamp', ms: 1_700_000_000_000 });
  assert.deepEqual(parseResetTarget('2026-01-31T12:00:00Z'), { kind: 'timestamp', ms: Date.parse('2026-01-31T12:00:00Z') });
  assert.throws(() => parseResetTarget('yesterday'), /--to "yesterday" is not a position: use latest, FILE:OFFSET/);
  assert.throws(() => parseResetTarget('binlog.000003:1'), /offset is at least 4/);
});

test('positions show lists cursors and whether the destination runs; reset refuses while it runs, then resets', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-positions-'));
  try {
    const meta = await MetaStore.open({ dataDir: dir, destination: 'orders', flushIntervalMs: 10, source: { address: '127.0.0.1', port: 3306 } });
    meta.subscribe('1001', 'shop\\..*');
    meta.setCursor('1001', cursor);
    await meta.close();
    await mkdir(join(dir, 'empty'));

    const lock = await InstanceLock.acquire(dir, 'orders');
    let shown = await sluice(['positions', 'show', '--data-dir', dir]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`orders: running \\(pid ${process.pid}\\)`));
    assert.match(shown.stdout, /client 1001: binlog\.000007:1231 \(gtid 0-1-55\)/);
    assert.match(shown.stdout, /empty: not running/);

    const refused = await sluice(['positions', 'reset', '--destination', 'orders', '--to', 'latest', '--data-dir', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`destination "orders" is running \\(pid ${process.pid}\\)`));
    assert.deepEqual((await readMetaFile(dir, 'orders'))?.clients[0]?.cursor, cursor);

    await lock.release();
    const done = await sluice(['positions', 'reset', '--destination', 'orders', '--to', 'binlog.000009:4', '--data-dir', dir]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /client 1001 cursor binlog\.000007:1231 \(gtid 0-1-55\) dropped/);
    const after = await readMetaFile(dir, 'orders');
    assert.deepEqual(after?.clients, [{ clientId: '1001', filter: 'shop\\..*' }]);
    assert.deepEqual(after?.start, { kind: 'position', file: 'binlog.000009', offset: 4 });

    shown = await sluice(['positions', 'show', '--data-dir', dir, '--destination', 'orders']);
    assert.match(shown.stdout, /client 1001: no cursor yet/);
    assert.match(shown.stdout, /next start \(until the first ack\): binlog\.000009:4/);

    // A cursor written after the reset supersedes the reset request.
    const again = await MetaStore.open({ dataDir: dir, destination: 'orders', flushIntervalMs: 10, source: { address: '127.0.0.1', port: 3306 } });
    assert.deepEqual(again.pendingStart(), { kind: 'position', file: 'binlog.000009', offset: 4 });
    again.setCursor('1001', { ...cursor, journalName: 'binlog.000009' });
    await again.close();
    assert.equal((await readMetaFile(dir, 'orders'))?.start, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a pid file left by a dead process does not block reset; bad --to names the value', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-positions-'));
  try {
    await writeMetaFile(dir, { destination: 'd', clients: [{ clientId: '1', filter: '', cursor }] }, { address: 'h', port: 1 });
    // pid 2^22+1 is above Linux's pid_max default, so no such process exists.
    await writeFile(join(dir, 'd', 'sluice.pid'), '4194305\n');
    const bad = await sluice(['positions', 'reset', '--destination', 'd', '--to', 'soon', '--data-dir', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--to "soon" is not a position/);
    const ok = await sluice(['positions', 'reset', '--destination', 'd', '--to', '0-1-10', '--data-dir', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await readMetaFile(dir, 'd'))?.start, { kind: 'gtid', gtid: '0-1-10' });
    // A second acquire by a live process is refused with the holder's pid.
    const lock = await InstanceLock.acquire(dir, 'd');
    await assert.rejects(InstanceLock.acquire(dir, 'd'), /destination "d" is already running in this process/);
    await lock.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--config reads the data dir from sluice.json and knows the configured destinations', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-positions-'));
  try {
    const dataDir = join(dir, 'state');
    await mkdir(join(dir, 'instances'), { recursive: true });
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ dataDir: 'state' }));
    await writeFile(join(dir, 'instances', 'orders.json'), JSON.stringify({ source: { host: '127.0.0.1', user: 'repl', password: 'x' } }));
    await writeMetaFile(dataDir, { destination: 'orders', clients: [{ clientId: '1001', filter: '', cursor }] }, { address: '127.0.0.1', port: 3306 });
    const shown = await sluice(['positions', 'show', '--config', dir]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /orders: not running/);
    assert.match(shown.stdout, /client 1001: binlog\.000007:1231/);
    const unknown = await sluice(['positions', 'reset', '--config', dir, '--destination', 'nope', '--to', 'latest']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /destination "nope" is not in the config \(configured: orders\)/);
    const ok = await sluice(['positions', 'reset', '--config', dir, '--destination', 'orders', '--to', 'latest']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await readMetaFile(dataDir, 'orders'))?.start, { kind: 'end' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('positions show and reset read the config without the source password (its variable unset)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-positions-'));
  try {
    await mkdir(join(dir, 'instances'), { recursive: true });
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ dataDir: 'state', user: 'canal', passwordHash: { env: 'SLUICE_TEST_UNSET_HASH' } }));
    await writeFile(join(dir, 'instances', 'orders.json'), JSON.stringify({ source: { host: '127.0.0.1', user: 'repl', password: { env: 'SLUICE_TEST_UNSET_PASSWORD' } } }));
    const shown = await sluice(['positions', 'show', '--config', dir]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /orders: not running/);
    const reset = await sluice(['positions', 'reset', '--config', dir, '--destination', 'orders', '--to', 'latest']);
    assert.equal(reset.code, 0, reset.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const [what, text] of [
  ['empty', ''],
  ['garbage', 'not json at all \u0000\u0001'],
  ['truncated', '{"clientDatas":[{"clientIdentity":{"clientId":1001,"destination":"orders","filter":""},"cursor":{"postion":{"journalName":"binlog.0'],
] as const) {
  test(`a ${what} meta.dat: the error names \`sluice positions reset\`, and reset works, keeping a copy`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-positions-'));
    try {
      await mkdir(join(dataDir, 'orders'));
      await writeFile(join(dataDir, 'orders', 'meta.dat'), text);
      await assert.rejects(readMetaFile(dataDir, 'orders'), /meta\.dat: .*The cursor file is damaged: to choose where orders starts, run `sluice positions reset --destination orders --to latest\|FILE:OFFSET\|GTID\|TIMESTAMP`/);
      await assert.rejects(MetaStore.open({ dataDir, destination: 'orders', flushIntervalMs: 1000, source: { address: 'h', port: 1 } }), /sluice positions reset --destination orders/);
      const shown = await sluice(['positions', 'show', '--data-dir', dataDir]);
      assert.equal(shown.code, 1);
      assert.match(shown.stdout, /orders: not running.*\n {2}cannot be read: .*sluice positions reset --destination orders/);
      const reset = await sluice(['positions', 'reset', '--data-dir', dataDir, '--destination', 'orders', '--to', 'binlog.000002:4']);
      assert.equal(reset.code, 0, reset.stderr);
      const copy = /is kept as (\S+);/.exec(reset.stdout)?.[1];
      assert.ok(copy, reset.stdout);
      assert.equal(await readFile(copy, 'utf8'), text, 'the damaged file is kept as it was');
      assert.deepEqual(await readMetaFile(dataDir, 'orders'), { destination: 'orders', clients: [], start: { kind: 'position', file: 'binlog.000002', offset: 4 } });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}
