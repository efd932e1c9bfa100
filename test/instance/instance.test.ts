import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';
import { Instance } from '../../src/instance/instance.ts';
import { lockHolder } from '../../src/meta/instance-lock.ts';
import { CanalServer } from '../../src/server/canal-server.ts';
import { MapRegistry } from '../../src/server/registry.ts';
import { instanceConfig, startInProcess, client, consumeUntil } from '../faults/support/harness.ts';

let sb: Sandbox;
let dataDir: string;

before(async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-instance-'));
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
});

after(async () => {
  await sb?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function ids(rows: { id: string | null }[]): number[] {
  return rows.map((r) => Number(r.id));
}

test('ack moves the persisted cursor to the last boundary; a restart resumes after it', async () => {
  const start = await sb.masterStatus();
  const cfg = instanceConfig(sb, 'resume', { start: { kind: 'position', file: start.file, offset: start.position } });
  let s = await startInProcess(cfg, dataDir, 50);
  const seen: number[] = [];
  try {
    assert.equal(s.instance.status().state, 'running');
    assert.equal(await lockHolder(dataDir, 'resume'), process.pid);
    for (let i = 1; i <= 5; i++) await sb.sql('INSERT INTO t VALUES (?, ?)', [i, `v${i}`]);
    const c = client(s.port, 'resume');
    await c.connect();
    await c.subscribe();
    await consumeUntil(c, (b) => { for (const e of b) if (e.eventType === 'INSERT') seen.push(...ids(e.rows.map((r) => ({ id: r.after.id ?? null })))); }, () => seen.length >= 5, '5 inserts');
    await c.disconnect();
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    // The cursor on disk after stop is the 5th transaction's end.
    await s.stop();
    const meta = await readMetaFile(dataDir, 'resume');
    const cursor = meta?.clients.find((x) => x.clientId === '1001')?.cursor;
    assert.ok(cursor, 'a cursor for client 1001');
    assert.equal(cursor.journalName, (await sb.masterStatus()).file);
    assert.equal(cursor.nextPosition, (await sb.masterStatus()).position, 'the cursor is right after the last transaction');
    assert.equal(await lockHolder(dataDir, 'resume'), undefined, 'stop releases the pid file');

    for (let i = 6; i <= 8; i++) await sb.sql('INSERT INTO t VALUES (?, ?)', [i, `v${i}`]);
    s = await startInProcess(cfg, dataDir, 50);
    assert.equal(s.instance.startPosition()?.kind, 'cursor');
    const c2 = client(s.port, 'resume');
    await c2.connect();
    // The subscription was persisted: no SUB needed before GET.
    const again: number[] = [];
    await consumeUntil(c2, (b) => { for (const e of b) if (e.eventType === 'INSERT') again.push(...e.rows.map((r) => Number(r.after.id))); }, () => again.length >= 3, '3 more inserts');
    assert.deepEqual(again, [6, 7, 8]);
    await c2.disconnect();
  } finally {
    await s.stop();
  }
});

test('bad credentials put the instance in failed with the error in status() and in the client error; others keep serving', async () => {
  const good = await startInProcess(instanceConfig(sb, 'good'), dataDir, 50);
  const bad = new Instance({ config: instanceConfig(sb, 'bad', { source: { password: 'wrong-password' } }), dataDir, flushIntervalMs: 50 });
  try {
    await bad.start();
    assert.equal(bad.status().state, 'failed');
    assert.match(bad.status().error ?? '', /credentials|Access denied/i);
    assert.equal(bad.stats().state, 'failed');
    const reason = bad.status().error ?? '';
    assert.equal(reason.split(/Access denied/i).length - 1, 1, `the source's reason appears once: ${reason}`);
    assert.equal(bad.stats().errors, 1, 'one refused login counts one error');
    assert.equal(await lockHolder(dataDir, 'bad'), undefined, 'a failed instance releases its pid file so positions reset can run');
    // A client of that destination gets an error packet naming it, its state and the reason.
    const server = new CanalServer({ port: 0, destinations: new MapRegistry([bad]) });
    const { port } = await server.start();
    try {
      const cb = client(port, 'bad');
      await cb.connect();
      await assert.rejects(cb.subscribe(), /destination:bad is failed \(.*(credentials|Access denied)/i);
      await cb.disconnect();
    } finally {
      await server.stop();
    }
    // The other instance is untouched.
    await sb.sql('INSERT INTO t VALUES (100, "x")');
    const c = client(good.port, 'good');
    await c.connect();
    await c.subscribe();
    let got = false;
    await consumeUntil(c, (b) => { for (const e of b) if (e.eventType === 'INSERT' && e.rows[0]?.after.id === '100') got = true; }, () => got, 'row 100');
    await c.disconnect();
    assert.equal(good.instance.status().state, 'running');
  } finally {
    await bad.stop();
    await good.stop();
  }
});

test('a second instance on the same data folder fails naming the running one', async () => {
  const one = new Instance({ config: instanceConfig(sb, 'twice'), dataDir, flushIntervalMs: 50 });
  const two = new Instance({ config: instanceConfig(sb, 'twice', { slaveId: 4242 }), dataDir, flushIntervalMs: 50 });
  try {
    await one.start();
    await two.start();
    assert.equal(two.status().state, 'failed');
    assert.match(two.status().error ?? '', /destination "twice" is already running in this process/);
    await waitFor(() => one.status().state === 'running', 'the first instance to keep running');
  } finally {
    await two.stop();
    await one.stop();
  }
});

test('a Canal-written meta.dat (no nextPosition) resumes right after the boundary it names', async () => {
  const start = await sb.masterStatus();
  await sb.sql('CREATE TABLE canal_t (id INT PRIMARY KEY)');
  for (let i = 1; i <= 4; i++) await sb.sql('INSERT INTO canal_t VALUES (?)', [i]);
  // Find where transaction 2 ends, as Canal would have recorded it after acking it.
  const probe = await startInProcess(instanceConfig(sb, 'probe', { start: { kind: 'position', file: start.file, offset: start.position } }), dataDir, 50);
  const ends: { file: string; offset: number; ts: number }[] = [];
  try {
    const c = client(probe.port, 'probe');
    await c.connect();
    await c.subscribe();
    let rows = 0;
    await consumeUntil(c, (b) => {
      for (const e of b) {
        if (e.tableName === 'canal_t' && e.eventType === 'INSERT') rows++;
        if (e.entryType === 'TRANSACTIONEND' && rows > 0) ends.push({ file: e.logfileName, offset: e.logfileOffset, ts: e.executeTime });
      }
    }, () => ends.length >= 4, '4 transaction ends');
    await c.disconnect();
  } finally {
    await probe.stop();
  }
  const end2 = ends[1]!;
  await mkdir(join(dataDir, 'canal'), { recursive: true });
  await writeFile(
    join(dataDir, 'canal', 'meta.dat'),
    JSON.stringify({
      clientDatas: [
        {
          clientIdentity: { clientId: 1001, destination: 'canal', filter: '' },
          cursor: { identity: { slaveId: -1, sourceAddress: { address: '127.0.0.1', port: sb.port } }, postion: { gtid: '', included: false, journalName: end2.file, position: end2.offset, serverId: sb.serverId, timestamp: end2.ts } },
        },
      ],
      destination: 'canal',
    }),
  );
  const s = await startInProcess(instanceConfig(sb, 'canal'), dataDir, 50);
  try {
    assert.equal(s.instance.startPosition()?.kind, 'cursor');
    const c = client(s.port, 'canal');
    await c.connect();
    const got: number[] = [];
    await consumeUntil(c, (b) => { for (const e of b) if (e.tableName === 'canal_t' && e.eventType === 'INSERT') got.push(...e.rows.map((r) => Number(r.after.id))); }, () => got.length >= 2, 'rows 3 and 4');
    await c.disconnect();
    assert.deepEqual(got, [3, 4]);
  } finally {
    await s.stop();
  }
  // Our next write keeps Canal's shape and adds nextPosition.
  const written = await readMetaFile(dataDir, 'canal');
  assert.equal(typeof written?.clients[0]?.cursor?.nextPosition, 'number');
});

test('a failed preflight puts the instance in failed with the setting and its fix', async () => {
  const bad = await Sandbox.start({ binlogRowMetadata: 'NO_LOG' });
  const inst = new Instance({ config: instanceConfig(bad, 'preflight'), dataDir, flushIntervalMs: 50 });
  try {
    await inst.start();
    assert.equal(inst.status().state, 'failed');
    assert.match(inst.status().error ?? '', /binlog_row_metadata/);
  } finally {
    await inst.stop();
    await bad.cleanup();
  }
});
