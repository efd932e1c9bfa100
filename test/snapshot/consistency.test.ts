// A snapshot of a 200,000-row table while a workload inserts, updates (also the primary key) and
// deletes rows, many of them in or next to the chunk being read: a consumer that applies every
// entry to a map keyed by primary key ends equal to the table, row for row. Also: two snapshots
// of different tables at once, and a table altered (ADD COLUMN) mid-snapshot.
//
// The snapshotted destination reads through the shared reader of its source (the default), which
// a second destination reads too. Mid-snapshot its consumer stops: its store fills, it falls more
// than the reader's window behind and is detached, reads on its own parser when its consumer
// returns, and rejoins the shared reader, all while chunks are read and emitted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { instanceConfig, client } from '../faults/support/harness.ts';
import { Instance } from '../../src/instance/instance.ts';
import { CanalServer } from '../../src/server/canal-server.ts';
import { MapRegistry } from '../../src/server/registry.ts';
import { sharedReaders } from '../../src/fanout/registry.ts';
import type { SharedReader } from '../../src/fanout/shared-reader.ts';
import type { InstanceConfig } from '../../src/config/types.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { SnapshotStatus } from '../../src/snapshot/snapshot-manager.ts';
import { canalDecimal } from '../../src/parser/columns/decimal.ts';
import { MapConsumer, consume, tableAsMap, diffMaps, mixedWorkload } from './support.ts';

const DEST = 'snap';
const OTHER = 'other';
const ROWS = 200_000;
/** small, so that the stopped consumer's destination falls behind it quickly */
const WINDOW_BYTES = 64 * 1024;

let sb: Sandbox;
let dataDir: string;
let server: CanalServer | undefined;
const instances: Instance[] = [];
let snapInstance: Instance;
let reader: SharedReader;
let c: CanalClient | undefined;
let other: CanalClient | undefined;
/** the second destination's consumer: runs in the background, counts what it receives */
let otherLoop: Promise<void> | undefined;
let otherStop = false;
const otherSeen = { entries: 0, snapshotEntries: 0 };

before(async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-snap-'));
});

after(async () => {
  otherStop = true;
  await otherLoop?.catch(() => undefined);
  await c?.disconnect().catch(() => undefined);
  await other?.disconnect().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await Promise.all(instances.map((i) => i.stop().catch(() => undefined)));
  await sb?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

function snapshotOf(table: string): SnapshotStatus | undefined {
  return snapInstance.snapshots()!.list().find((s) => s.table === table);
}

async function sentinel(consumer: MapConsumer, id: string): Promise<void> {
  await sb.sql('INSERT INTO sentinel VALUES (?)', [id]);
  await consume(c!, consumer, () => consumer.sentinels.has(id), `sentinel ${id}`);
}

/** Two destinations on the sandbox, both on the shared reader of its source; a Canal server for both. */
async function startShared(): Promise<number> {
  const base = instanceConfig(sb, DEST);
  const configFor = (name: string, slaveId: number): InstanceConfig => ({
    ...base,
    destination: name,
    file: `instances/${name}.json`,
    source: { ...base.source, slaveId },
    reader: { shared: true, windowBytes: WINDOW_BYTES },
    // The snapshotted destination's store holds a few chunks: once its consumer stops, it fills
    // and no further chunk is read (the ALTER of the second test lands mid-snapshot).
    store: name === DEST ? { ...base.store, maxEntries: 64 } : base.store,
  });
  snapInstance = new Instance({ config: configFor(DEST, 7101), dataDir, flushIntervalMs: 100 });
  const otherInstance = new Instance({ config: configFor(OTHER, 7102), dataDir, flushIntervalMs: 100 });
  instances.push(snapInstance, otherInstance);
  await Promise.all(instances.map((i) => i.start()));
  for (const i of instances) assert.equal(i.status().state, 'running', `${i.name}: ${i.status().error ?? ''}`);
  const r = sharedReaders.readerOf({ ...sb.replConfig, heartbeatMs: base.heartbeatMs, timezone: undefined });
  assert.ok(r, 'one shared reader runs for the source');
  reader = r;
  assert.equal(reader.tapsAttached(), 2, 'both destinations read from the shared reader');
  server = new CanalServer({ port: 0, destinations: new MapRegistry(instances) });
  return (await server.start()).port;
}

test('snapshot under a concurrent workload: the consumer map equals the table', async () => {
  const db = sb.database;
  await sb.sql('CREATE TABLE sentinel (id VARCHAR(20) PRIMARY KEY)');
  await sb.sql('CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NULL, d DECIMAL(10,2), t DATETIME(3))');
  await sb.sql(`INSERT INTO big SELECT seq, CONCAT('row-', seq), IF(seq % 7 = 0, NULL, seq * 3), seq / 100, '2024-01-02 03:04:05.678' + INTERVAL seq SECOND FROM seq_1_to_${ROWS}`);
  const port = await startShared();
  c = client(port, DEST);
  await c.connect();
  await c.subscribe('');
  other = client(port, OTHER);
  await other.connect();
  await other.subscribe('');
  const o = other;
  otherLoop = (async () => {
    while (!otherStop) {
      const b = await o.getWithoutAck(1000, 100);
      if (b.id === -1) continue;
      for (const e of b) {
        otherSeen.entries++;
        if (e.props.snapshot === 'true') otherSeen.snapshotEntries++;
      }
      await o.ack(b.id);
    }
  })();
  const consumer = new MapConsumer(() => ['id']);

  const [accepted] = await snapInstance.snapshots()!.request({ table: `${db}.big`, chunkSize: 5000 });
  assert.equal(accepted!.state, 'queued');
  assert.deepEqual(accepted!.keyColumns, ['id']);

  // The workload runs until the snapshot is acknowledged complete; it aims at rows near the
  // snapshot's progress (the chunk being read and the next ones) as well as anywhere.
  let stop = false;
  let ops = 0;
  const workload = mixedWorkload(sb, { near: () => snapshotOf(`${db}.big`)?.rowsEmitted ?? 0, spread: 12_000, range: ROWS + 20_000, firstNewId: ROWS + 1, stop: () => stop }).then((n) => (ops = n));
  try {
    await consume(c, consumer, () => (snapshotOf(`${db}.big`)?.rowsAcked ?? 0) >= 30_000, 'part of the snapshot is acknowledged', 120_000);
    // The consumer stops: the destination's store fills, its pump pauses it, and the workload
    // moves the shared stream more than the window past it.
    await waitFor(() => reader.counters.detaches > 0, 'the snapshotted destination is detached from the shared reader', 120_000, 50);
    await consume(
      c,
      consumer,
      () => snapshotOf(`${db}.big`)?.state === 'done' && reader.counters.joins > 0,
      'the snapshot is acknowledged complete and the destination rejoined the shared reader',
      180_000,
    );
  } finally {
    stop = true;
    await workload;
  }
  await sentinel(consumer, 'end-1');
  const s = snapshotOf(`${db}.big`)!;
  assert.ok(ops > 50, `the workload ran during the snapshot (${ops} operations)`);
  assert.ok(s.chunksAcked >= ROWS / 5000, `every chunk acknowledged (${s.chunksAcked})`);
  assert.ok(consumer.snapshotRows > ROWS * 0.9, `snapshot rows reached the consumer (${consumer.snapshotRows})`);
  assert.ok(reader.counters.soloStarts > 0, 'the destination read on its own parser for a while');
  assert.equal(reader.tapsAttached(), 2, 'both destinations read from the shared reader again');
  assert.ok(otherSeen.entries > ops, `the other destination received the stream (${otherSeen.entries} entries)`);
  assert.equal(otherSeen.snapshotEntries, 0, 'snapshot rows go only to the destination that asked');
  const want = await tableAsMap(sb, 'big', ['id'], 'id, v, n, CAST(d AS CHAR) AS d, CAST(t AS CHAR) AS t');
  // DECIMAL as Canal writes it (canal-protocol value rules: trailing zeros of the scale dropped)
  for (const r of want.values()) if (r.d !== null) r.d = canalDecimal(r.d!, 2);
  const diff = diffMaps(consumer.table(`${db}.big`), want);
  assert.equal(diff, '', diff);
});

test('two snapshots requested at once, one of a table altered (ADD COLUMN) mid-snapshot', async () => {
  const db = sb.database;
  await sb.sql('CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20))');
  await sb.sql('CREATE TABLE b (k1 INT NOT NULL, k2 VARCHAR(10) NOT NULL, v INT, UNIQUE KEY uk (k1, k2))');
  await sb.sql("INSERT INTO a SELECT seq, CONCAT('a', seq) FROM seq_1_to_20000");
  await sb.sql("INSERT INTO b SELECT seq DIV 3, CONCAT('k', seq MOD 3), seq FROM seq_1_to_30000");
  const consumer = new MapConsumer((t) => (t.endsWith('.b') ? ['k1', 'k2'] : ['id']));
  const m = snapInstance.snapshots()!;
  const [[sa], [sbb]] = await Promise.all([m.request({ table: `${db}.a`, chunkSize: 700 }), m.request({ table: `${db}.b`, chunkSize: 500 })]);
  assert.deepEqual(sa!.keyColumns, ['id']);
  assert.deepEqual(sbb!.keyColumns, ['k1', 'k2'], 'a table without a primary key is read by its unique NOT NULL key');
  await assert.rejects(m.request({ table: `${db}.a` }), /already (queued|running|finishing)/, 'a second snapshot of the same table is refused while one runs');
  await sb.sql('CREATE TABLE nokey (v INT)');
  await assert.rejects(m.request({ table: `${db}.nokey` }), new RegExp(`table ${db}\\.nokey has no primary key and no unique key`));

  // The consumer adds the new column to the rows it holds when it sees the DDL, as an index would.
  const apply = consumer.applyEntry.bind(consumer);
  consumer.applyEntry = (e) => {
    if (e.isDdl && e.tableName === 'b' && /ADD COLUMN extra/i.test(e.sql)) {
      for (const r of consumer.table(`${db}.b`).values()) r.extra = '7';
    }
    apply(e);
  };
  await consume(c!, consumer, () => (snapshotOf(`${db}.b`)?.rowsAcked ?? 0) >= 3000, 'part of b is acknowledged');
  await sb.sql('UPDATE b SET v = -v WHERE k1 < 2000');
  await sb.sql('ALTER TABLE b ADD COLUMN extra INT NOT NULL DEFAULT 7');
  const atAlter = snapshotOf(`${db}.b`)!;
  assert.ok(atAlter.rowsEmitted < 30_000, `the table was altered while its snapshot ran (${atAlter.rowsEmitted} rows emitted)`);
  await sb.sql('UPDATE b SET extra = 8 WHERE k1 % 100 = 0');
  await sb.sql('DELETE FROM a WHERE id % 1000 = 0');
  await consume(c!, consumer, () => snapshotOf(`${db}.a`)?.state === 'done' && snapshotOf(`${db}.b`)?.state === 'done', 'both snapshots are complete');
  await sentinel(consumer, 'end-2');
  assert.equal(diffMaps(consumer.table(`${db}.a`), await tableAsMap(sb, 'a', ['id'], 'id, v')), '');
  const diff = diffMaps(consumer.table(`${db}.b`), await tableAsMap(sb, 'b', ['k1', 'k2'], 'k1, k2, v, extra'));
  assert.equal(diff, '', diff);
});
