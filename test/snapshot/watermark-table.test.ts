// The watermark-table method (snapshot.watermark "table", docs/snapshots.md): refused at start with
// a message saying what to do when sluice's account may not write the table or the source is
// read-only; with the grants, a snapshot under a concurrent workload of inserts, updates (also of
// the primary key) and deletes ends with the consumer's map equal to the table, and no watermark
// write reaches a consumer, neither of the destination that wrote them nor of another one on the
// same source, though both filters take every table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, REPL_USER } from '../support/sandbox.ts';
import { instanceConfig, client } from '../faults/support/harness.ts';
import { Instance } from '../../src/instance/instance.ts';
import { CanalServer } from '../../src/server/canal-server.ts';
import { MapRegistry } from '../../src/server/registry.ts';
import type { InstanceConfig } from '../../src/config/types.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { SnapshotStatus } from '../../src/snapshot/snapshot-manager.ts';
import { canalDecimal } from '../../src/parser/columns/decimal.ts';
import { MapConsumer, consume, tableAsMap, diffMaps, mixedWorkload } from './support.ts';

const DEST = 'wm';
const ROWS = 30_000;

let sb: Sandbox;
let dataDir: string;
let server: CanalServer | undefined;
const instances: Instance[] = [];
const clients: CanalClient[] = [];

before(async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-wm-'));
});

after(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await Promise.all(instances.map((i) => i.stop().catch(() => undefined)));
  await sb?.sql('SET GLOBAL read_only = 0').catch(() => undefined);
  await sb?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

function config(name: string, slaveId: number, watermark: 'table' | 'position'): InstanceConfig {
  const base = instanceConfig(sb, name, { slaveId });
  // every table: the watermark table is hidden by sluice, not by a filter
  return { ...base, filter: { ...base.filter, include: '.*\\..*' }, reader: { shared: false, windowBytes: 8 << 20 }, snapshot: { firstStart: [], chunkSize: 1000, watermark } };
}

async function startInstance(cfg: InstanceConfig): Promise<Instance> {
  const inst = new Instance({ config: cfg, dataDir, flushIntervalMs: 100 });
  instances.push(inst);
  await inst.start();
  return inst;
}

test('refused at start when the watermark table cannot be written: missing privilege, then a read-only source', async () => {
  const denied = await startInstance(config('denied', 7301, 'table'));
  assert.equal(denied.status().state, 'failed');
  const e1 = denied.status().error ?? '';
  assert.match(e1, /snapshot\.watermark is "table", but sluice could not create the schema sluice\.snapshot_watermarks on 127\.0\.0\.1:\d+/, e1);
  assert.match(e1, /GRANT CREATE, INSERT, UPDATE ON `sluice`\.\* TO/, e1);

  await sb.sql(`GRANT CREATE, INSERT, UPDATE ON sluice.* TO '${REPL_USER}'@'%'`);
  await sb.sql(`GRANT CREATE, INSERT, UPDATE ON sluice.* TO '${REPL_USER}'@'localhost'`);
  await sb.sql('SET GLOBAL read_only = 1');
  try {
    await denied.start();
    assert.equal(denied.status().state, 'failed');
    const e2 = denied.status().error ?? '';
    assert.match(e2, /could not create the schema sluice\.snapshot_watermarks/, e2);
    assert.match(e2, /the server is read-only \(read_only\): use snapshot\.watermark "position"/, e2);
  } finally {
    await sb.sql('SET GLOBAL read_only = 0');
  }
  // the same destination starts once the source takes the writes
  await denied.start();
  assert.equal(denied.status().state, 'running', denied.status().error);
  await denied.stop();
  const [row] = await sb.sql<{ token: string }[]>("SELECT token FROM sluice.snapshot_watermarks WHERE destination = 'denied'");
  assert.match(row?.token ?? '', /\/start$/, 'the start wrote the destination its row');
});

test('table method: snapshot under a concurrent workload, the consumer map equals the table, no watermark row delivered', async () => {
  const db = sb.database;
  await sb.sql('CREATE TABLE sentinel (id VARCHAR(20) PRIMARY KEY)');
  await sb.sql('CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NULL, d DECIMAL(10,2), t DATETIME(3))');
  await sb.sql(`INSERT INTO big SELECT seq, CONCAT('row-', seq), IF(seq % 7 = 0, NULL, seq * 3), seq / 100, '2024-01-02 03:04:05.678' + INTERVAL seq SECOND FROM seq_1_to_${ROWS}`);
  const snap = await startInstance(config(DEST, 7302, 'table'));
  const other = await startInstance(config('plain', 7303, 'position'));
  for (const i of [snap, other]) assert.equal(i.status().state, 'running', `${i.name}: ${i.status().error ?? ''}`);
  server = new CanalServer({ port: 0, destinations: new MapRegistry([snap, other]) });
  const { port } = await server.start();
  const c = client(port, DEST);
  const o = client(port, 'plain');
  clients.push(c, o);
  for (const x of [c, o]) {
    await x.connect();
    await x.subscribe('');
  }
  const consumer = new MapConsumer(() => ['id']);
  const otherConsumer = new MapConsumer(() => ['id']);
  // every entry naming sluice's schema, rows or statements
  const leaks: string[] = [];
  for (const m of [consumer, otherConsumer]) {
    const apply = m.applyEntry.bind(m);
    m.applyEntry = (e) => {
      if (e.schemaName.toLowerCase() === 'sluice') leaks.push(`${e.entryType} ${e.eventType} ${e.schemaName}.${e.tableName}`);
      apply(e);
    };
  }
  const statusOf = (): SnapshotStatus | undefined => snap.snapshots()!.list().find((s) => s.table === `${db}.big`);

  await snap.snapshots()!.request({ table: `${db}.big` });
  let stop = false;
  let ops = 0;
  const workload = mixedWorkload(sb, { near: () => statusOf()?.rowsEmitted ?? 0, spread: 3000, range: ROWS + 5000, firstNewId: ROWS + 1, stop: () => stop }).then((n) => (ops = n));
  try {
    await consume(c, consumer, () => statusOf()?.state === 'done', 'the snapshot is acknowledged complete', 180_000);
  } finally {
    stop = true;
    await workload;
  }
  await sb.sql("INSERT INTO sentinel VALUES ('end')");
  await consume(c, consumer, () => consumer.sentinels.has('end'), 'the sentinel');
  await consume(o, otherConsumer, () => otherConsumer.sentinels.has('end'), 'the sentinel on the other destination');

  const s = statusOf()!;
  assert.ok(ops > 30, `the workload ran during the snapshot (${ops} operations)`);
  assert.ok(s.chunksAcked >= ROWS / 1000, `every chunk acknowledged (${s.chunksAcked})`);
  assert.ok(consumer.snapshotRows > ROWS * 0.8, `snapshot rows reached the consumer (${consumer.snapshotRows})`);
  const want = await tableAsMap(sb, 'big', ['id'], 'id, v, n, CAST(d AS CHAR) AS d, CAST(t AS CHAR) AS t');
  for (const r of want.values()) if (r.d !== null) r.d = canalDecimal(r.d!, 2);
  const diff = diffMaps(consumer.table(`${db}.big`), want);
  assert.equal(diff, '', diff);
  // the watermark rows were written (two per chunk at least) but reached no consumer
  const [row] = await sb.sql<{ token: string }[]>(`SELECT token FROM sluice.snapshot_watermarks WHERE destination = '${DEST}'`);
  const writes = Number(/\/(\d+)\/high$/.exec(row?.token ?? '')?.[1] ?? 0);
  assert.ok(writes >= 2 * (ROWS / 1000), `sluice wrote its watermarks (last token ${row?.token})`);
  assert.deepEqual(leaks, [], 'no watermark write reached a consumer');
  assert.equal(otherConsumer.snapshotEntries, 0, 'snapshot rows go only to the destination that asked');
});
