import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalEntry } from '../../src/client/entry.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { spawnCli } from './run-cli.ts';

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

test('sluice start serves a destination, reports lag, metrics and health, and SIGTERM writes the cursor and exits 0', async () => {
  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-start-'));
  const dataDir = join(dir, 'data');
  let child: ReturnType<typeof spawnCli> | undefined;
  let client: CanalClient | undefined;
  try {
    await sb.sql('CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(40), balance DECIMAL(12,2))');
    await mkdir(join(dir, 'instances'));
    // A flush interval far beyond the test: only the shutdown can have written the acked cursor.
    await writeFile(
      join(dir, 'sluice.json'),
      JSON.stringify({ listen: { port: 0 }, admin: { port: 0 }, dataDir, lagIntervalMs: 300, flushIntervalMs: 600_000, log: { level: 'info' } }),
    );
    const { host, port, user } = sb.replConfig;
    await writeFile(
      join(dir, 'instances', 'bank.json'),
      JSON.stringify({ source: { host, port, user, password: '${BANK_DB_PASSWORD}', slaveId: 7001 }, filter: { include: 'sluice_test\\..*' } }),
    );

    child = spawnCli(['start', '--config', dir, '--json'], { BANK_DB_PASSWORD: sb.replConfig.password });
    const lines: LogLine[] = [];
    let raw = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      raw += d.toString();
      let nl: number;
      while ((nl = raw.indexOf('\n')) >= 0) {
        const l = raw.slice(0, nl);
        raw = raw.slice(nl + 1);
        try {
          lines.push(JSON.parse(l) as LogLine);
        } catch {
          lines.push({ msg: 'unparsed: ' + l });
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child!.once('exit', (c, s) => r([c, s])));

    const started = () => lines.find((l) => l.msg === 'sluice started');
    await waitFor(() => started() !== undefined || child!.exitCode !== null, 'the "sluice started" line', 45_000);
    assert.ok(started(), `sluice start did not start; stderr: ${stderr}; log: ${JSON.stringify(lines.slice(-5))}`);
    const canalPort = started()!['canalPort'] as number;
    const adminPort = started()!['adminPort'] as number;
    const admin = `http://127.0.0.1:${adminPort}`;

    await waitFor(async () => (await fetch(`${admin}/health`)).status === 200, '/health 200', 30_000, 100);
    assert.deepEqual(await (await fetch(`${admin}/health`)).json(), { status: 'ok', instances: { bank: { state: 'running' } } });

    client = new CanalClient({ host: '127.0.0.1', port: canalPort, destination: 'bank', reconnect: false });
    await client.connect();
    await client.subscribe();
    await sb.sql("INSERT INTO accounts VALUES (1, 'alice', 100.00), (2, 'bob', 50.00)");
    await sb.sql('UPDATE accounts SET balance = balance - 25 WHERE id = 1');

    const got: CanalEntry[] = [];
    await waitFor(
      async () => {
        const b = await client!.getWithoutAck(100, 500);
        if (b.id === -1) return false;
        got.push(...b.entries);
        await client!.ack(b.id);
        return got.filter((e) => e.entryType === 'TRANSACTIONEND').length >= 2;
      },
      'two transactions delivered',
      30_000,
      0,
    );
    const rows = got.filter((e) => e.entryType === 'ROWDATA');
    assert.deepEqual(rows.map((e) => e.eventType), ['INSERT', 'UPDATE']);
    assert.deepEqual(rows[0]!.rows.map((r) => r.after['owner']), ['alice', 'bob']);
    const lastEnd = got.filter((e) => e.entryType === 'TRANSACTIONEND').at(-1)!;

    await waitFor(() => lines.some((l) => l.msg === 'lag' && l['destination'] === 'bank' && l['file'] !== null), 'a lag line', 15_000);
    const lag = lines.filter((l) => l.msg === 'lag' && l['destination'] === 'bank').at(-1)!;
    for (const k of ['state', 'file', 'offset', 'gtid', 'delayMs', 'bytesBehind', 'storeEntries', 'storeMaxEntries', 'storeBytes', 'storeMaxBytes', 'outstandingBatches', 'clients']) {
      assert.ok(k in lag, `lag line lacks ${k}: ${JSON.stringify(lag)}`);
    }
    assert.equal(lag['clients'], 1);

    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /sluice_instance_state\{destination="bank",state="running"\} 1/);
    assert.match(metrics, /sluice_acks_total\{destination="bank"\} [1-9]/);
    assert.match(metrics, /sluice_binlog_rows_total\{destination="bank"\} [1-9]/);

    await client.disconnect();
    client = undefined;
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.equal(signal, null, 'exited by itself, not killed');
    assert.equal(code, 0, `exit code; stderr: ${stderr}`);
    assert.ok(lines.some((l) => l.msg === 'stopped cleanly'));

    const meta = JSON.parse(await readFile(join(dataDir, 'bank', 'meta.dat'), 'utf8')) as {
      destination: string;
      clientDatas: { clientIdentity: { clientId: number }; cursor?: { postion: { journalName: string; position: number } } }[];
    };
    assert.equal(meta.destination, 'bank');
    const cursor = meta.clientDatas.find((c) => c.clientIdentity.clientId === 1001)?.cursor;
    assert.ok(cursor, `meta.dat holds the acked cursor after SIGTERM: ${JSON.stringify(meta)}`);
    assert.equal(cursor.postion.journalName, lastEnd.logfileName);
    assert.equal(cursor.postion.position, lastEnd.logfileOffset);
  } finally {
    await client?.disconnect().catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});

test('sluice start refuses a bad config before starting anything (exit 2, file and key named)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-start-'));
  try {
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: 0 }, admin: { port: 0 }, dataDir: join(dir, 'data') }));
    await writeFile(join(dir, 'instances', 'ok.json'), JSON.stringify({ source: { host: '127.0.0.1', user: 'u', password: 'p' } }));
    await writeFile(join(dir, 'instances', 'bad.json'), JSON.stringify({ source: { host: '127.0.0.1', user: 'u', password: 'p' }, filter: { exclude: 'a\\.(b' } }));
    const child = spawnCli(['start', '--config', dir, '--json']);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 2);
    assert.match(err, /instances\/bad\.json: filter\.exclude: the filter piece "a\\\\\.\(b" is not a valid regex/);
    assert.doesNotMatch(out, /sluice started/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a source that is down at start-up does not hold sluice up: ports open, /health says 503, SIGTERM exits 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-start-'));
  try {
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: 0 }, admin: { port: 0 }, dataDir: join(dir, 'data') }));
    // Port 1 on loopback: nothing listens there, so every connect is refused and the instance retries.
    await writeFile(join(dir, 'instances', 'down.json'), JSON.stringify({ source: { host: '127.0.0.1', port: 1, user: 'u', password: 'p', slaveId: 5 }, retry: { initialMs: 200, maxMs: 1000 } }));
    const child = spawnCli(['start', '--config', dir, '--json']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      await waitFor(() => /"msg":"sluice started"/.test(out), 'the "sluice started" line', 45_000);
      const started = JSON.parse(out.split('\n').find((l) => l.includes('"sluice started"'))!) as { adminPort: number };
      const h = await fetch(`http://127.0.0.1:${started.adminPort}/health`);
      assert.equal(h.status, 503);
      const body = (await h.json()) as { instances: { down: { state: string } } };
      assert.notEqual(body.instances.down.state, 'running');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
