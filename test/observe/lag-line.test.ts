import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, instanceLogger } from '../../src/observe/logger.ts';
import { LagReporter } from '../../src/observe/lag-line.ts';
import { BinlogEndProbe } from '../../src/observe/binlog-probe.ts';
import { bytesBehind } from '../../src/observe/instance-stats.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { FakeInstance, baseStats } from './fake-instance.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('bytesBehind counts the rest of the file read plus every later file', () => {
  const logs = [
    { name: 'binlog.000001', size: 500 },
    { name: 'binlog.000002', size: 3000 },
    { name: 'binlog.000003', size: 700 },
  ];
  assert.equal(bytesBehind('binlog.000002', 1000, logs), 2000 + 700);
  assert.equal(bytesBehind('binlog.000003', 700, logs), 0);
  assert.equal(bytesBehind('binlog.000000', 4, logs), undefined, 'a purged file is unknown, not zero');
});

test('the lag line carries every field, per instance, under its destination', async () => {
  const out = capture();
  const root = createLogger({ level: 'info', pretty: false, stream: out.stream });
  const now = 1_700_000_000_000 + 1500;
  const reporter = new LagReporter({ intervalMs: 10_000, now: () => now });
  reporter.add(new FakeInstance('shop'), instanceLogger(root, 'shop'), async () => [
    { name: 'binlog.000002', size: 3000 },
    { name: 'binlog.000003', size: 700 },
  ]);
  reporter.add(new FakeInstance('crm', baseStats({ state: 'retrying', error: 'connect ECONNREFUSED', lastEventTimestamp: undefined })), instanceLogger(root, 'crm'), async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1');
  });
  await reporter.reportOnce();
  const lines = out.lines();
  assert.equal(lines.length, 2);
  const shop = lines.find((l) => l['destination'] === 'shop')!;
  assert.deepEqual(
    Object.fromEntries(Object.entries(shop).filter(([k]) => !['time', 'pid', 'hostname'].includes(k))),
    {
      level: 30,
      destination: 'shop',
      msg: 'lag',
      state: 'running',
      file: 'binlog.000002',
      offset: 1000,
      gtid: '0-1-42',
      delayMs: 1500,
      bytesBehind: 2700,
      storeEntries: 5,
      storeMaxEntries: 16384,
      storeBytes: 2048,
      storeMaxBytes: 67108864,
      outstandingBatches: 1,
      clients: 1,
    },
  );
  assert.equal(reporter.lastBytesBehind('shop'), 2700);
  const crm = lines.find((l) => l['destination'] === 'crm')!;
  assert.equal(crm['state'], 'retrying');
  assert.equal(crm['delayMs'], null);
  assert.equal(crm['bytesBehind'], null);
  assert.match(String(crm['probeError']), /SHOW BINARY LOGS failed: connect ECONNREFUSED/);
  assert.equal(crm['error'], 'connect ECONNREFUSED');
});

test('the reporter logs on its interval until stopped', async () => {
  const out = capture();
  const root = createLogger({ level: 'info', pretty: false, stream: out.stream });
  const reporter = new LagReporter({ intervalMs: 20 });
  reporter.add(new FakeInstance('shop'), instanceLogger(root, 'shop'));
  reporter.start();
  const deadline = Date.now() + 10_000;
  while (out.lines().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await reporter.stop();
  const n = out.lines().length;
  assert.ok(n >= 2, `expected at least two lag lines, got ${n}`);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(out.lines().length, n, 'no line after stop()');
});

test('against a real MariaDB, bytesBehind from SHOW BINARY LOGS matches the binlog end', async () => {
  const sb = await Sandbox.start();
  const probe = new BinlogEndProbe({ ...sb.replConfig });
  try {
    await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100))');
    await sb.sql("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    await sb.sql('FLUSH BINARY LOGS');
    await sb.sql("INSERT INTO t VALUES (3, 'c')");
    // MariaDB writes the new file's BINLOG_CHECKPOINT event in the background after FLUSH BINARY LOGS,
    // so the end can still move: take a reading where the end is the same before and after the list.
    let end = await sb.masterStatus();
    let logs = await probe.list();
    await waitFor(async () => {
      const after = await sb.masterStatus();
      if (after.file === end.file && after.position === end.position) return true;
      end = after;
      logs = await probe.list();
      return false;
    }, 'the binlog end to stop moving after FLUSH BINARY LOGS', 30_000, 100);
    assert.ok(logs.length >= 2, 'FLUSH BINARY LOGS made a second file');
    assert.equal(logs[logs.length - 1]!.name, end.file);
    assert.equal(bytesBehind(end.file, end.position, logs), 0, 'reading at the end means nothing behind');
    const first = logs[0]!;
    const expected = first.size - 4 + logs.slice(1).reduce((a, l) => a + l.size, 0);
    assert.equal(bytesBehind(first.name, 4, logs), expected);
  } finally {
    await probe.close();
    await sb.cleanup();
  }
});
