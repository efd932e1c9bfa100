// A snapshot on a group destination (two MariaDB shards of one logical table): the table is loaded
// from every shard, each shard's chunks bounded by its own watermarks in its own stream and tagged
// with its source like streamed entries. Requested at the first start (snapshot.firstStart), under
// concurrent inserts, updates (also of the primary key) and deletes on both shards; sluice (a
// child process) is SIGKILLed mid-snapshot and restarted: each shard's snapshot resumes after its
// own last acknowledged chunk, and the consumer's map ends equal to the union of both shards.
// Then, with the watermark-table method: a table only one shard has is loaded from that shard, and
// requests one shard refuses, or no shard can serve, are refused as a whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPL_USER, type Sandbox } from '../support/sandbox.ts';
import { readMetaFile, type SnapshotRecord } from '../../src/meta/meta-file.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import { canalDecimal } from '../../src/parser/columns/decimal.ts';
import { client, cleanUpAfter, startInProcess, type InProcessSluice } from '../faults/support/harness.ts';
import type { InstanceConfig } from '../../src/config/types.ts';
import { startChild, type ChildSluice } from '../faults/support/child-sluice.ts';
import { NAMES, startShards } from '../faults/support/group-shards.ts';
import { MapConsumer, tableAsMap, diffMaps, mixedWorkload } from './support.ts';

const DEST = 'shardsnap';
const ROWS = 15_000;
const CHUNK = 500;
/** shard k's ids start above k × BASE (primary-key updates add 1,000,000: still apart) */
const BASE = 10_000_000;

let sbs: Sandbox[] = [];
let dataDir: string | undefined;
let child: ChildSluice | undefined;
let inproc: InProcessSluice | undefined;
/** the first test's group configuration, reused by the second on the same shards */
let groupCfg: InstanceConfig | undefined;

cleanUpAfter(() => ({ child, sluice: inproc, sandboxes: sbs, dataDir }));

/** Per source: snapshot rows received, and the first snapshot key received since `mark()`. */
class SourceWatch {
  readonly rows = new Map<string, number>(NAMES.map((n) => [n, 0]));
  firstAfterMark = new Map<string, number>();
  readonly ids = new Set<string>();

  see(b: CanalBatch): void {
    for (const e of b) {
      const source = e.props['source'];
      assert.ok(source === 'shard1' || source === 'shard2', `every entry names its source (${JSON.stringify(source)})`);
      if (e.props.snapshot !== 'true' || e.entryType !== 'ROWDATA') continue;
      assert.match(e.props.snapshotId ?? '', new RegExp(`@${source}@`), 'the snapshot id names the source');
      this.ids.add(e.props.snapshotId!);
      this.rows.set(source, this.rows.get(source)! + e.rows.length);
      if (!this.firstAfterMark.has(source)) this.firstAfterMark.set(source, Number(e.rows[0]!.after.id));
    }
  }

  mark(): void {
    this.firstAfterMark = new Map();
  }
}

/** Pulls, watches, applies and acks until `done()` (asked at most every 200 ms). */
async function pullUntil(c: CanalClient, consumer: MapConsumer, watch: SourceWatch, done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  let asked = 0;
  for (;;) {
    if (Date.now() - asked >= 200) {
      if (await done()) return;
      asked = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`timed out after 180 s consuming until ${what}; snapshot rows ${[...watch.rows].join(' ')}`);
    const b = await c.getWithoutAck(2000, 200);
    if (b.id === -1) continue;
    watch.see(b);
    consumer.apply(b);
    await c.ack(b.id);
  }
}

test('group destination: a first-start snapshot of both shards under writes, SIGKILL mid-snapshot, each shard resumes; the map equals the union', async () => {
  const shards = await startShards(DEST, { skewMs: 200, onSourceFailure: 'continue' });
  sbs = shards.sbs;
  const [a, b] = shards.sbs;
  const db = a.database;
  for (const [k, sb] of shards.sbs.entries()) {
    await sb.sql('CREATE TABLE sentinel (id VARCHAR(20) PRIMARY KEY)');
    await sb.sql('CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NULL, d DECIMAL(10,2), t DATETIME(3))');
    await sb.sql(`INSERT INTO big SELECT ${(k + 1) * BASE} + seq, CONCAT('s${k + 1}-', seq), IF(seq % 7 = 0, NULL, seq * 3), seq / 100, '2024-01-02 03:04:05.678' + INTERVAL seq SECOND FROM seq_1_to_${ROWS}`);
  }
  // The stream starts after the rows were written: only the snapshot can deliver them.
  const cfg = shards.cfg;
  groupCfg = cfg;
  const ends = await Promise.all([a.masterStatus(), b.masterStatus()]);
  cfg.sources = cfg.sources!.map((s, k) => ({ ...s, start: { kind: 'position', file: ends[k]!.file, offset: ends[k]!.position } }));
  cfg.snapshot = { firstStart: [`${db}.big`], chunkSize: CHUNK };
  cfg.store = { ...cfg.store, maxEntries: 256 };
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-group-snap-'));
  const dir = dataDir;

  const consumer = new MapConsumer(() => ['id']);
  const watch = new SourceWatch();
  let stop = false;
  const workloads = shards.sbs.map((sb, k) =>
    mixedWorkload(sb, {
      base: (k + 1) * BASE,
      near: () => watch.rows.get(NAMES[k]!)!,
      spread: 2 * CHUNK,
      range: ROWS + 1000,
      firstNewId: (k + 1) * BASE + ROWS + 1,
      stop: () => stop,
    }),
  );
  try {
    child = await startChild(cfg, dir, 100);
    assert.equal(child.state, 'running', child.error);
    let c = client(child.port, DEST);
    await c.connect();
    await c.subscribe();
    // Until both shards' snapshots have acknowledged progress in meta.dat, then SIGKILL.
    let persisted: SnapshotRecord[] = [];
    const progressed = async (): Promise<boolean> => {
      persisted = (await readMetaFile(dir, DEST))?.snapshots ?? [];
      return NAMES.every((n) => persisted.some((r) => r.source === n && r.rows >= 2 * CHUNK));
    };
    await pullUntil(c, consumer, watch, progressed, 'both shards have acknowledged snapshot chunks on disk');
    await c.disconnect().catch(() => undefined);
    await child.kill9();
    persisted = (await readMetaFile(dir, DEST))?.snapshots ?? [];
    assert.deepEqual(persisted.map((r) => r.source).sort(), [...NAMES], `one record per shard: ${JSON.stringify(persisted)}`);
    for (const r of persisted) assert.ok(r.rows < ROWS, `${r.source}'s snapshot was killed before its end (${r.rows} rows acknowledged)`);

    child = await startChild(cfg, dir, 100);
    assert.equal(child.state, 'running', child.error);
    c = client(child.port, DEST);
    await c.connect();
    await c.subscribe();
    watch.mark();
    const finished = async (): Promise<boolean> => {
      const m = await readMetaFile(dir, DEST);
      return m?.snapshots !== undefined && m.snapshots.length === 0 && NAMES.every((n) => watch.firstAfterMark.has(n));
    };
    await pullUntil(c, consumer, watch, finished, 'both shards finished their snapshots after the restart');
    for (const r of persisted) {
      const first = watch.firstAfterMark.get(r.source!)!;
      assert.ok(first > Number(r.after![0]), `${r.source} resumed after its last acknowledged key ${String(r.after![0])}, not from the first row (first snapshot key after the restart: ${first})`);
    }
    stop = true;
    await Promise.all(workloads);
    await Promise.all(shards.sbs.map((sb, k) => sb.sql('INSERT INTO sentinel VALUES (?)', [`end-${k + 1}`])));
    await pullUntil(c, consumer, watch, () => consumer.sentinels.has('end-1') && consumer.sentinels.has('end-2'), 'both shards caught up');
    await c.disconnect().catch(() => undefined);
  } finally {
    stop = true;
    await Promise.all(workloads);
  }
  const ops = await Promise.all(workloads);
  assert.ok(ops.every((n) => n > 20), `the workload ran on both shards (${ops.join(', ')} operations)`);
  assert.ok(NAMES.every((n) => watch.rows.get(n)! >= ROWS * 0.8), `snapshot rows of both shards reached the consumer (${[...watch.rows].join(' ')})`);
  const want = new Map([...(await tableAsMap(a, 'big', ['id'], 'id, v, n, CAST(d AS CHAR) AS d, CAST(t AS CHAR) AS t')), ...(await tableAsMap(b, 'big', ['id'], 'id, v, n, CAST(d AS CHAR) AS d, CAST(t AS CHAR) AS t'))]);
  for (const r of want.values()) if (r.d !== null) r.d = canalDecimal(r.d!, 2);
  assert.ok(want.size > 2 * ROWS * 0.9, `the union holds both shards' rows (${want.size})`);
  const diff = diffMaps(consumer.table(`${db}.big`), want);
  assert.equal(diff, '', diff);
});

test('group destination with the watermark-table method: a request is accepted on the shards that have the table, refused when none has it or one refuses', async () => {
  const [a, b] = sbs as [Sandbox, Sandbox];
  const db = a.database;
  for (const sb of [a, b]) for (const host of ['%', 'localhost']) await sb.sql(`GRANT CREATE, INSERT, UPDATE ON sluice.* TO '${REPL_USER}'@'${host}'`);
  await a.sql('CREATE TABLE solo (id INT PRIMARY KEY, v INT)');
  await a.sql('INSERT INTO solo SELECT seq, seq FROM seq_1_to_1000');
  await b.sql('CREATE TABLE nokey (v INT)');
  await a.sql('CREATE TABLE nokey (id INT PRIMARY KEY)');
  const ends = await Promise.all([a.masterStatus(), b.masterStatus()]);
  const cfg: InstanceConfig = {
    ...groupCfg!,
    destination: 'asked',
    file: 'instances/asked.json',
    sources: groupCfg!.sources!.map((s, k) => ({ ...s, start: { kind: 'position', file: ends[k]!.file, offset: ends[k]!.position } })),
    snapshot: { firstStart: [], chunkSize: 300, watermark: 'table' },
  };
  inproc = await startInProcess(cfg, dataDir!, 100);
  const inst = inproc.instance;
  assert.equal(inst.status().state, 'running', inst.status().error);
  const m = inst.snapshots()!;
  const accepted = await m.request({ table: `${db}.solo` });
  assert.deepEqual(
    accepted.map((x) => [x.source, x.table, x.state]),
    [['shard1', `${db}.solo`, 'queued']],
    'accepted on the shard that has the table only',
  );
  await assert.rejects(m.request({ table: `${db}.nowhere` }), new RegExp(`table ${db}\\.nowhere does not exist on any source of destination asked \\(shard1, shard2\\)`));
  await assert.rejects(m.request({ table: `${db}.nokey` }), new RegExp(`source shard2: table ${db}\\.nokey has no primary key`));
  assert.equal(m.list().filter((x) => x.table === `${db}.nokey`).length, 0, 'refused on one shard: accepted on none');
  await assert.rejects(m.request({ table: 'other.t' }), /is not delivered by destination asked/, 'the filter refusal is said once');

  const c = client(inproc.port, 'asked');
  await c.connect();
  await c.subscribe();
  const consumer = new MapConsumer(() => ['id']);
  const watch = new SourceWatch();
  const leaks: string[] = [];
  const apply = consumer.applyEntry.bind(consumer);
  consumer.applyEntry = (e) => {
    if (e.schemaName === 'sluice') leaks.push(`${e.entryType} ${e.schemaName}.${e.tableName}`);
    apply(e);
  };
  await pullUntil(c, consumer, watch, () => m.list().find((x) => x.table === `${db}.solo`)?.state === 'done', 'the snapshot of solo is done');
  assert.deepEqual(leaks, [], 'no watermark write reached the consumer');
  for (const sb of [a, b]) {
    const [row] = await sb.sql<{ token: string }[]>("SELECT token FROM sluice.snapshot_watermarks WHERE destination = 'asked'");
    assert.ok(row !== undefined, 'each shard holds the destination its watermark row');
  }
  const [last] = await a.sql<{ token: string }[]>("SELECT token FROM sluice.snapshot_watermarks WHERE destination = 'asked'");
  assert.match(last!.token, /\/high$/, "shard1's chunks were bounded by watermark writes");
  await c.disconnect().catch(() => undefined);
  assert.equal(watch.rows.get('shard1'), 1000);
  assert.equal(watch.rows.get('shard2'), 0);
  const stats = inst.stats().snapshots?.find((x) => x.table === `${db}.solo`);
  assert.equal(stats?.rowsAcked, 1000);
  assert.equal(diffMaps(consumer.table(`${db}.solo`), await tableAsMap(a, 'solo', ['id'], 'id, v')), '');
});
