// Cursors in ZooKeeper: Canal's node layout and JSON, version-conditional writes, never backwards,
// and a server that is no longer active (or finds a newer cursor) writes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeper } from '../support/zookeeper.ts';
import { ZkSession } from '../../src/coord/zk-session.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCursorPath, clientFilterPath, snapshotsPath } from '../../src/coord/paths.ts';
import { MetaStore } from '../../src/meta/meta-store.ts';
import type { SnapshotRecord } from '../../src/meta/meta-file.ts';
import { FencedError, ZkMetaBackend, cursorNodeJson } from '../../src/meta/zk-meta-backend.ts';
import type { LogPosition } from '../../src/protocol/entry-model.ts';

let zk: ZooKeeper;
let s: ZkSession;
before(async () => {
  zk = await ZooKeeper.standalone({ tickTimeMs: 200 });
  s = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 5_000 });
});
after(async () => {
  await s?.close();
  await zk?.cleanup();
});

const source = { address: 'db1', port: 3306 };
const at = (position: number): LogPosition => ({ journalName: 'binlog.000002', position, nextPosition: position + 31, serverId: 1, timestamp: 1_700_000_000_000, gtid: `0-1-${position}` });

test('writes Canal nodes, only forward, and a deposed writer writes nothing', async () => {
  let active = true;
  const deposed: string[] = [];
  const mk = (): ZkMetaBackend => new ZkMetaBackend({ session: s, destination: 'd1', source, mayWrite: () => active, onDeposed: (r) => deposed.push(r) });
  const a = mk();
  assert.equal(await a.load(), undefined, 'an empty ZooKeeper holds no clients');
  await a.write({ destination: 'd1', clients: [{ clientId: '1001', filter: 'shop\\..*', cursor: at(1000) }] });
  const node = await s.get(clientCursorPath('d1', '1001'));
  assert.equal(node?.data.toString(), cursorNodeJson(at(1000), source));
  assert.equal(JSON.parse(node!.data.toString())['@type'], 'com.alibaba.otter.canal.protocol.position.LogPosition');
  assert.equal((await s.get(clientFilterPath('d1', '1001')))?.data.toString(), 'shop\\..*');
  await a.write({ destination: 'd1', clients: [{ clientId: '1001', filter: 'shop\\..*', cursor: at(2000) }] });
  assert.equal((await s.get(clientCursorPath('d1', '1001')))?.stat.version, 1);

  // A second backend (a new active) reads what the first wrote.
  const b = mk();
  const loaded = await b.load();
  assert.equal(loaded?.length, 1);
  assert.equal(loaded![0]!.clientId, '1001');
  assert.equal(loaded![0]!.filter, 'shop\\..*');
  assert.deepEqual({ ...loaded![0]!.cursor, source: undefined }, { ...at(2000), source: undefined });
  await b.write({ destination: 'd1', clients: [{ clientId: '1001', filter: 'shop\\..*', cursor: at(3000) }] });

  // The first one, still thinking it is active, tries to write an older cursor: refused, reported.
  await assert.rejects(a.write({ destination: 'd1', clients: [{ clientId: '1001', filter: 'shop\\..*', cursor: at(2500) }] }), FencedError);
  assert.equal(deposed.length, 1);
  assert.match(deposed[0]!, /another server has taken over/);
  const now = await s.get(clientCursorPath('d1', '1001'));
  assert.equal(now?.data.toString(), cursorNodeJson(at(3000), source), 'the newer cursor stays');
  assert.equal(now?.stat.version, 2);

  // No longer active: nothing is even attempted.
  active = false;
  await assert.rejects(b.write({ destination: 'd1', clients: [{ clientId: '1001', filter: 'shop\\..*', cursor: at(4000) }] }), /no longer the active one for d1/);
  assert.equal((await s.get(clientCursorPath('d1', '1001')))?.stat.version, 2);
});

test('a cursor node that is not JSON names the node and what to do', async () => {
  await s.ensurePath('/otter/canal/destinations/d2/1001');
  await s.create(clientCursorPath('d2', '1001'), Buffer.from('garbage'), 'persistent');
  const b = new ZkMetaBackend({ session: s, destination: 'd2', source, mayWrite: () => true, onDeposed: () => undefined });
  await assert.rejects(b.load(), /\/otter\/canal\/destinations\/d2\/1001\/cursor in ZooKeeper does not hold JSON .*fix or delete the node/);
});

test('snapshot progress goes to ZooKeeper with the cursors; a server taking over resumes from it, not from its own meta.dat', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-zk-snap-'));
  try {
    const rec = (rows: number, after: number): SnapshotRecord => ({ id: 'shop.orders@x1', schema: 'shop', table: 'orders', chunkSize: 100, requestedAt: 1_700_000_000_000, reason: 'request', after: [after], rows, chunks: rows / 100, estimatedRows: 1000 });
    const backend = (): ZkMetaBackend => new ZkMetaBackend({ session: s, destination: 'd3', source, mayWrite: () => true, onDeposed: () => undefined });
    // The active server: its meta.dat and ZooKeeper get the cursor and the snapshot's progress.
    const a = await MetaStore.open({ dataDir: join(dir, 'a'), destination: 'd3', flushIntervalMs: 10, source, backend: backend() });
    a.subscribe('1001', '');
    a.setSnapshots([rec(300, 300)], false);
    a.setCursor('1001', at(5000));
    await a.close();
    const node = await s.get(snapshotsPath('d3'));
    assert.deepEqual(JSON.parse(node!.data.toString()), [rec(300, 300)]);
    assert.deepEqual((await s.children('/otter/canal/destinations/d3')).sort(), ['1001', 'sluice-snapshots']);

    // Another server, whose own meta.dat holds an older state of the same snapshot (from when it
    // was active before), takes over: ZooKeeper's progress wins.
    const bDir = join(dir, 'b');
    const old = await MetaStore.open({ dataDir: bDir, destination: 'd3', flushIntervalMs: 10, source });
    old.subscribe('1001', '');
    old.setSnapshots([rec(100, 100)], false);
    old.setCursor('1001', at(1000));
    await old.close();
    const b = await MetaStore.open({ dataDir: bDir, destination: 'd3', flushIntervalMs: 10, source, backend: backend() });
    assert.deepEqual(b.snapshots(), [rec(300, 300)]);
    assert.equal(b.resumeCursor()?.position, 5000);
    // Its progress, and the snapshot's end (no records left), go to ZooKeeper too.
    b.setSnapshots([rec(500, 500)], false);
    b.setCursor('1001', at(6000));
    await b.flush();
    assert.deepEqual(JSON.parse((await s.get(snapshotsPath('d3')))!.data.toString()), [rec(500, 500)]);
    b.setSnapshots([], true);
    await b.flush();
    assert.deepEqual(JSON.parse((await s.get(snapshotsPath('d3')))!.data.toString()), []);
    await b.close();

    // A node that is not JSON names itself and what to do.
    await s.set(snapshotsPath('d3'), Buffer.from('{oops'), -1);
    await assert.rejects(backend().load(), /\/otter\/canal\/destinations\/d3\/sluice-snapshots in ZooKeeper does not hold JSON .*fix or delete the node/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
