import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../support/sandbox.ts';
import { runCli } from './run-cli.ts';
import { writeMetaFile } from '../../src/meta/meta-file.ts';

async function configFor(sb: Sandbox, destination: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-check-'));
  await mkdir(join(dir, 'instances'));
  await writeFile(join(dir, 'sluice.json'), JSON.stringify({ log: { level: 'warn' } }));
  const { host, port, user } = sb.replConfig;
  await writeFile(join(dir, 'instances', `${destination}.json`), JSON.stringify({ source: { host, port, user, password: { env: 'CHECK_DB_PASSWORD' }, slaveId: 4242 } }));
  return dir;
}

test('sluice check names binlog_row_metadata and exits 1 against a source started with NO_LOG', async () => {
  const sb = await Sandbox.start({ binlogRowMetadata: 'NO_LOG' });
  const dir = await configFor(sb, 'shop');
  try {
    const r = await runCli(['check', '--config', dir], { CHECK_DB_PASSWORD: sb.replConfig.password });
    assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stdout, /^shop \(sluice_repl@127\.0\.0\.1:\d+\)$/m);
    assert.match(r.stdout, /FAIL {2}binlog_row_metadata +NO_LOG\n +fix: set binlog_row_metadata=FULL/);
    assert.match(r.stdout, /OK {4}binlog_format +ROW/);
    assert.match(r.stdout, /OK {4}binlog_row_image +FULL/);
    assert.match(r.stdout, /1 check\(s\) failed/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(sb.replConfig.password), 'the password is never printed');
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});

test('sluice check passes against a correctly configured source, and rejects an unknown destination', async () => {
  const sb = await Sandbox.start();
  const dir = await configFor(sb, 'shop');
  try {
    const env = { CHECK_DB_PASSWORD: sb.replConfig.password };
    const r = await runCli(['check', '--config', dir, '--destination', 'shop'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /OK {4}binlog_row_metadata +FULL/);
    assert.match(r.stdout, /all checks passed/);
    const bad = await runCli(['check', '--config', dir, '--destination', 'nosuch'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no destination "nosuch" in .*; configured: shop/);
    const wrongPw = await runCli(['check', '--config', dir], { CHECK_DB_PASSWORD: 'wrong-password' });
    assert.equal(wrongPw.code, 1);
    assert.match(wrongPw.stdout, /FAIL {2}connection +Access denied/);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});

test('a config error stops sluice check with exit 2 and names the file and key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-check-'));
  try {
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'instances', 'shop.json'), JSON.stringify({ source: { host: 'db', user: 'u', password: { env: 'UNSET_FOR_SURE_123' } } }));
    const r = await runCli(['check', '--config', dir], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /instances\/shop\.json: source\.password: environment variable UNSET_FOR_SURE_123 is not set/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sluice check reports the state a start would use: dataDir not writable, a damaged cursor file, a cursor in a purged binlog', async () => {
  const sb = await Sandbox.start();
  const dir = await configFor(sb, 'shop');
  const env = { CHECK_DB_PASSWORD: sb.replConfig.password };
  const reset = /fix: .*sluice positions reset --destination shop --to latest\|FILE:OFFSET\|GTID\|TIMESTAMP/;
  try {
    // dataDir below a file: it can never be created.
    await writeFile(join(dir, 'blocker'), '');
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ dataDir: 'blocker/data' }));
    let r = await runCli(['check', '--config', dir], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL {2}dataDir writable +the data directory \(dataDir \S+blocker\/data\) cannot be written for destination shop: a part of the path is a file, not a folder \(ENOTDIR/);

    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ dataDir: 'data' }));
    r = await runCli(['check', '--config', dir], env);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /OK {4}dataDir writable/);
    assert.match(r.stdout, /OK {4}cursor file +none yet/);

    await writeFile(join(dir, 'data', 'shop', 'meta.dat'), '{"clientDatas":[{');
    r = await runCli(['check', '--config', dir], env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}cursor file +\S+meta\.dat: not valid JSON/);
    assert.match(r.stdout, reset);

    // A cursor in the current binlog file, which is then purged.
    const first = await sb.masterStatus();
    await writeMetaFile(join(dir, 'data'), { destination: 'shop', clients: [{ clientId: '1001', filter: '', cursor: { journalName: first.file, position: first.position, serverId: 1, timestamp: 0, gtid: '' } }] }, { address: sb.host, port: sb.port });
    r = await runCli(['check', '--config', dir], env);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`OK {4}cursor binlog on source +${first.file.replace('.', '\\.')}`));
    await sb.sql('FLUSH BINARY LOGS');
    const now = await sb.masterStatus();
    await sb.purgeBinlogsTo(now.file);
    r = await runCli(['check', '--config', dir], env);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`FAIL {2}cursor binlog on source +${first.file.replace('.', '\\.')} is no longer on the source \\(purged\\?\\); the oldest is ${now.file.replace('.', '\\.')}`));
    assert.match(r.stdout, reset);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});
