import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaStore } from '../../src/meta/meta-store.ts';
import { parseCanalJson, metaPath, readMetaFile } from '../../src/meta/meta-file.ts';
import { compareCursors } from '../../src/meta/cursor-order.ts';
import { waitFor } from '../support/sandbox.ts';

const source = { address: '127.0.0.1', port: 3306 };

async function tempDir(): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'sluice-meta-'));
}

// Written by Canal 1.1.x (FileMixedMetaManager): no nextPosition, clientId as a number.
const canalWritten =
  '{"clientDatas":[{"clientIdentity":{"clientId":1001,"destination":"example","filter":".*\\\\..*"},' +
  '"cursor":{"identity":{"slaveId":-1,"sourceAddress":{"address":"localhost","port":3306}},' +
  '"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":13788906,"serverId":1,"timestamp":1584689464000}}}],' +
  '"destination":"example"}';

test('a Canal-written meta.dat is read: cursor without nextPosition, numeric clientId', async () => {
  const dir = await tempDir();
  try {
    await mkdir(join(dir, 'example'));
    await writeFile(join(dir, 'example', 'meta.dat'), canalWritten);
    const meta = await MetaStore.open({ dataDir: dir, destination: 'example', flushIntervalMs: 1000, source });
    assert.deepEqual(meta.clientList(), [
      {
        clientId: '1001',
        filter: '.*\\..*',
        cursor: { journalName: 'mysql-bin.000003', position: 13788906, serverId: 1, timestamp: 1584689464000, gtid: '' },
        // the server the cursor's file and offset belong to (what a switch to a standby changes)
        source: { address: 'localhost', port: 3306 },
      },
    ]);
    assert.equal(meta.resumeCursor()?.nextPosition, undefined);
    assert.equal(meta.isSubscribed('1001'), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('what sluice writes is Canal-shaped: postion spelling, slaveId -1, sourceAddress, numeric clientId, nextPosition', async () => {
  const dir = await tempDir();
  try {
    const meta = await MetaStore.open({ dataDir: dir, destination: 'orders', flushIntervalMs: 10, source: { address: 'db1', port: 3307 } });
    meta.subscribe('1001', 'shop\\..*');
    meta.setCursor('1001', { journalName: 'binlog.000002', position: 500, nextPosition: 531, serverId: 7, timestamp: 1700000000000, gtid: '0-7-12' });
    await meta.close();
    const doc = JSON.parse(await readFile(metaPath(dir, 'orders'), 'utf8'));
    assert.deepEqual(doc, {
      clientDatas: [
        {
          clientIdentity: { clientId: 1001, destination: 'orders', filter: 'shop\\..*' },
          cursor: {
            identity: { slaveId: -1, sourceAddress: { address: 'db1', port: 3307 } },
            postion: { gtid: '0-7-12', included: false, journalName: 'binlog.000002', nextPosition: 531, position: 500, serverId: 7, timestamp: 1700000000000 },
          },
        },
      ],
      destination: 'orders',
    });
    // And it reads back the same.
    const again = await MetaStore.open({ dataDir: dir, destination: 'orders', flushIntervalMs: 10, source });
    assert.deepEqual(again.cursorOf('1001'), { journalName: 'binlog.000002', position: 500, nextPosition: 531, serverId: 7, timestamp: 1700000000000, gtid: '0-7-12' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('cursor moves wait for the flush interval; subscribe is written at once; close writes what is pending', async () => {
  const dir = await tempDir();
  try {
    const meta = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 3_600_000, source });
    meta.subscribe('1', '');
    await waitFor(async () => (await readMetaFile(dir, 'd'))?.clients.length === 1, 'the subscription on disk');
    const c1 = { journalName: 'binlog.000001', position: 100, nextPosition: 120, serverId: 1, timestamp: 1000, gtid: '' };
    meta.setCursor('1', c1);
    await meta.flush();
    assert.deepEqual((await readMetaFile(dir, 'd'))?.clients[0]?.cursor, c1);
    // A write just happened and the interval is an hour: this move stays in memory until close.
    const c2 = { ...c1, position: 200, nextPosition: 220 };
    meta.setCursor('1', c2);
    assert.equal(meta.stats().dirty, true);
    assert.deepEqual((await readMetaFile(dir, 'd'))?.clients[0]?.cursor, c1);
    await meta.close();
    assert.deepEqual((await readMetaFile(dir, 'd'))?.clients[0]?.cursor, c2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('with a short flush interval a cursor move reaches the disk by itself, coalescing a burst', async () => {
  const dir = await tempDir();
  try {
    const meta = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 50, source });
    meta.subscribe('1', '');
    await meta.flush();
    const before = meta.stats().writes;
    for (let i = 1; i <= 200; i++) meta.setCursor('1', { journalName: 'binlog.000001', position: i, nextPosition: i + 1, serverId: 1, timestamp: 0, gtid: '' });
    await waitFor(async () => (await readMetaFile(dir, 'd'))?.clients[0]?.cursor?.position === 200, 'cursor 200 on disk', 20_000);
    // 200 synchronous moves between two timer turns are one write, not 200.
    assert.ok(meta.stats().writes - before <= 2, `expected the burst coalesced, got ${meta.stats().writes - before} writes`);
    await meta.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an empty client list never overwrites the file', async () => {
  const dir = await tempDir();
  try {
    const meta = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 10, source });
    meta.subscribe('1', '');
    meta.setCursor('1', { journalName: 'binlog.000001', position: 4, nextPosition: 40, serverId: 1, timestamp: 0, gtid: '' });
    await meta.flush();
    meta.unsubscribe('1');
    await meta.close();
    const onDisk = await readMetaFile(dir, 'd');
    assert.equal(onDisk?.clients.length, 1);
    assert.equal(onDisk?.clients[0]?.cursor?.nextPosition, 40);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('resume cursor is the minimum over clients, across binlog files', async () => {
  const dir = await tempDir();
  try {
    const meta = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 10, source });
    meta.subscribe('1', '');
    meta.subscribe('2', '');
    meta.setCursor('1', { journalName: 'binlog.000010', position: 4, nextPosition: 40, serverId: 1, timestamp: 0, gtid: '' });
    meta.setCursor('2', { journalName: 'binlog.000009', position: 900, nextPosition: 950, serverId: 1, timestamp: 0, gtid: '' });
    assert.equal(meta.resumeCursor()?.journalName, 'binlog.000009');
    assert.ok(compareCursors({ journalName: 'b.999999', position: 5, serverId: 1, timestamp: 0, gtid: '' }, { journalName: 'b.1000000', position: 4, serverId: 1, timestamp: 0, gtid: '' }) < 0);
    await meta.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a malformed meta.dat is refused with the file and field named', async () => {
  assert.throws(() => parseCanalJson('{"clientDatas":[{"clientIdentity":{"clientId":1},"cursor":{"postion":{"position":5}}}]}', '/x/meta.dat'), /\/x\/meta\.dat: clientDatas\[0\]\.cursor\.postion\.journalName/);
  assert.throws(() => parseCanalJson('{"clientDatas":', '/x/meta.dat'), /\/x\/meta\.dat: not valid JSON/);
  assert.throws(() => parseCanalJson(canalWritten, '/x/meta.dat', 'other'), /holds destination "example", expected "other"/);
});

test('a writer killed with SIGKILL mid-write loop leaves a meta.dat that parses', async () => {
  const dir = await tempDir();
  try {
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'write-loop.ts'), dir, 'd'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let last = 0;
      child.stdout.on('data', (b: Buffer) => {
        const lines = b.toString().trim().split('\n');
        last = Number(lines[lines.length - 1]);
      });
      const exited = new Promise<string | null>((r) => child.once('exit', (_c, sig) => r(sig)));
      const target = 40 + round * 30;
      await waitFor(() => last >= target, `the writer to pass ${target} writes`, 30_000);
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const content = await readMetaFile(dir, 'd');
      assert.ok(content, 'meta.dat exists');
      const pos = content.clients.find((c) => c.clientId === '1001')?.cursor?.position ?? 0;
      assert.ok(pos >= last, `cursor ${pos} on disk is at least the last reported write ${last}`);
      assert.equal(content.clients.find((c) => c.clientId === '1002')?.filter.length, 20_000);
    }
    // Opening removes temporary files a killed writer left behind, and folds its cursor journal into meta.dat.
    const reopened = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 10, source });
    await reopened.close();
    assert.deepEqual((await readdir(join(dir, 'd'))).filter((n) => n !== 'meta.dat'), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('exact durability: a cursor move is journaled at once and survives a crash before the meta.dat write', async () => {
  const dir = await tempDir();
  try {
    const a = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 60_000, source });
    a.subscribe('1001', '');
    await a.flush();
    const inside = { journalName: 'binlog.000002', position: 1874, nextPosition: 1874, serverId: 1, timestamp: 1_795_000_000_000, gtid: '0-1-41', skip: 3 };
    a.setCursor('1001', { journalName: 'binlog.000002', position: 900, nextPosition: 1874, serverId: 1, timestamp: 1_794_999_999_000, gtid: '0-1-41' });
    a.setCursor('1001', inside);
    await a.durable();
    assert.equal(a.stats().journalAppends, 2);
    // no close, no flush: the process "dies" here; meta.dat still holds no cursor
    assert.equal((await readMetaFile(dir, 'd'))!.clients[0]!.cursor, undefined);
    assert.equal((await readdir(join(dir, 'd'))).filter((n) => /^cursors\.\d+\.jsonl$/.test(n)).length, 1, 'one journal file');

    const b = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 60_000, source });
    assert.deepEqual(b.cursorOf('1001'), inside, 'the journal is replayed over meta.dat');
    await b.flush();
    // folded into meta.dat (Canal's shape plus skipEntries), the old journal removed
    const text = await readFile(metaPath(dir, 'd'), 'utf8');
    assert.match(text, /"postion":\{"gtid":"0-1-41","included":false,"journalName":"binlog.000002","nextPosition":1874,"position":1874,"serverId":1,"skipEntries":3,"timestamp":1795000000000\}/);
    assert.deepEqual(parseCanalJson(text, 'meta.dat').clients[0]!.cursor, inside);
    assert.deepEqual((await readdir(join(dir, 'd'))).filter((n) => n.startsWith('cursors.')), []);
    await b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('exact durability: meta.dat writes keep one journal file until it is full; a client that left does not come back from it', async () => {
  const dir = await tempDir();
  const journals = async (): Promise<string[]> => (await readdir(join(dir, 'd'))).filter((n) => /^cursors\.\d+\.jsonl$/.test(n)).sort();
  const at = (position: number) => ({ journalName: 'binlog.000001', position, nextPosition: position + 10, serverId: 1, timestamp: 0, gtid: '' });
  try {
    const a = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 60_000, source });
    a.subscribe('1001', '');
    a.subscribe('1002', '');
    a.setCursor('1001', at(100));
    a.setCursor('1002', at(200));
    await a.flush();
    const first = await journals();
    assert.equal(first.length, 1);
    for (let round = 0; round < 5; round++) {
      a.setCursor('1001', at(300 + round));
      await a.flush();
    }
    assert.deepEqual(await journals(), first, 'five meta.dat writes, still the same journal file');
    assert.equal(a.stats().writes, 6);
    // 1002 leaves: the next write starts a new file, so its old lines cannot bring it back
    a.unsubscribe('1002');
    await a.flush();
    a.setCursor('1001', at(400));
    const second = await journals();
    assert.equal(second.length, 1);
    assert.notDeepEqual(second, first);
    // crash here: meta.dat lacks 1002, the journal holds 1001's last move
    const b = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 60_000, source });
    assert.equal(b.isSubscribed('1002'), false, 'the client that left stays gone');
    assert.deepEqual(b.cursorOf('1001'), at(400), 'the last move wins over meta.dat');
    // a full file is switched at the next write
    for (let i = 0; i < 1500; i++) b.setCursor('1001', at(1000 + i));
    await b.flush();
    b.setCursor('1001', at(5000));
    const third = await journals();
    assert.equal(third.length, 1, 'the full journal was removed once meta.dat covered it');
    assert.notDeepEqual(third, second);
    await b.close();
    const c = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 60_000, source });
    assert.deepEqual(c.cursorOf('1001'), at(5000));
    await c.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('periodic durability keeps no journal; cursors order by position, then by entries skipped', async () => {
  const dir = await tempDir();
  try {
    const m = await MetaStore.open({ dataDir: dir, destination: 'd', flushIntervalMs: 60_000, source, durability: 'periodic' });
    m.subscribe('1001', '');
    m.setCursor('1001', { journalName: 'binlog.000001', position: 4, nextPosition: 120, serverId: 1, timestamp: 0, gtid: '' });
    await m.durable();
    assert.equal(m.stats().journalAppends, 0);
    await m.flush();
    assert.deepEqual((await readdir(join(dir, 'd'))).filter((n) => n.startsWith('cursors.')), []);
    await m.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const at = (skip?: number) => ({ journalName: 'binlog.000001', position: 500, nextPosition: 500, serverId: 1, timestamp: 0, gtid: '', ...(skip !== undefined ? { skip } : {}) });
  assert.ok(compareCursors(at(), at(2)) < 0);
  assert.ok(compareCursors(at(5), at(2)) > 0);
  assert.equal(compareCursors(at(0), at()), 0);
  assert.throws(() => parseCanalJson('{"clientDatas":[{"clientIdentity":{"clientId":1},"cursor":{"postion":{"journalName":"b.1","position":4,"skipEntries":-1}}}]}', 'm'), /skipEntries must be a whole number/);
});
