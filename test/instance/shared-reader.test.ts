// 20 destinations on one source share one reader, each with different filters (tables, categories,
// columns, row content, DDL). Beside each runs the same destination on a reader of its own; every
// shared destination must receive exactly the bytes its separate twin receives, entry by entry.
// One shared destination's consumer stops: the others finish without waiting for it (it is
// detached from the shared reader once more than the window behind), then its consumer returns,
// it catches up on a parser of its own and rejoins the shared reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import type { InstanceConfig } from '../../src/config/types.ts';
import { Instance } from '../../src/instance/instance.ts';
import { sharedReaders } from '../../src/fanout/registry.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import { instanceConfig, ownedResources, serveAndSubscribe } from '../faults/support/harness.ts';

const owned = ownedResources();
const instances = owned.instances;

type Variant = { drop?: Partial<InstanceConfig['drop']>; filter?: Partial<InstanceConfig['filter']> };

const D = 'sluice_test';
const VARIANTS: Variant[] = [
  {},
  { filter: { include: `${D}\\.t_orders` } },
  { filter: { include: `${D}\\.t_users` } },
  { filter: { exclude: `${D}\\.t_users` } },
  { drop: { insert: true, update: false, delete: false, ddl: false } },
  { drop: { insert: false, update: true, delete: false, ddl: false } },
  { drop: { insert: false, update: false, delete: true, ddl: false } },
  {}, // the destination whose consumer stops
  { filter: { includeFields: `${D}.t_orders:id/tenant` } },
  { filter: { excludeFields: `${D}.t_users:email` } },
  { filter: { rows: [{ table: `${D}.t_orders`, column: 'tenant', mode: 'in', values: [1] }] } },
  { filter: { rows: [{ table: `${D}.t_orders`, column: 'tenant', mode: 'in', values: [2, '3'] }] } },
  { filter: { rows: [{ table: `${D}.t_orders`, column: 'tenant', mode: 'notIn', values: [1] }] } },
  { filter: { rows: [{ table: `${D}.t_orders`, column: 'tenant', mode: 'in', values: [null, 4] }] } },
  { drop: { insert: false, update: false, delete: false, ddl: true } },
  { filter: { rows: [{ table: `${D}.t_users`, column: 'name', mode: 'in', values: ['u3', 'u5'] }] } },
  { filter: { include: `${D}\\.t_orders` }, drop: { insert: false, update: false, delete: true, ddl: false } },
  { filter: { includeFields: `${D}.t_orders:id/tenant/amount`, rows: [{ table: `${D}.t_orders`, column: 'tenant', mode: 'in', values: [1] }] } },
  { filter: { exclude: `.*\\.t_orders` } },
  { drop: { insert: false, update: true, delete: false, ddl: false }, filter: { rows: [{ table: `${D}.t_orders`, column: 'tenant', mode: 'notIn', values: [2] }] } },
];
const STOPPED = 7;

function fileSeq(f: string): number {
  return Number(/\.(\d+)$/.exec(f)?.[1] ?? -1);
}

/** Pulls and acks until the instance has read up to `end` and holds nothing more. */
async function drain(c: CanalClient, inst: Instance, end: { file: string; position: number }, into: Buffer[], what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`timed out draining ${what}: ${JSON.stringify(inst.stats())}`);
    const b = await c.getWithoutAck(50, 100);
    if (b.id !== -1) {
      for (const raw of b.raw) into.push(Buffer.from(raw));
      await c.ack(b.id);
      continue;
    }
    const s = inst.stats();
    const read = s.file !== undefined && s.offset !== undefined && (fileSeq(s.file) > fileSeq(end.file) || (s.file === end.file && s.offset >= end.position));
    if (read && s.store.entries === 0) return;
  }
}

async function workload(db: Sandbox, from: number, txns: number): Promise<void> {
  for (let t = from; t < from + txns; t++) {
    const tenant = t % 5 === 0 ? 'NULL' : String(1 + (t % 4));
    const stmts = [`INSERT INTO t_orders (id, tenant, amount, note) VALUES (${t}, ${tenant}, ${t * 3}.25, 'order ${t} ${'x'.repeat(t % 40)}')`];
    if (t % 3 === 0) stmts.push(`INSERT INTO t_users (id, name, email) VALUES (${t}, 'u${t % 7}', 'u${t}@example.com')`);
    if (t % 4 === 1 && t > from) stmts.push(`UPDATE t_orders SET amount = amount + 1, tenant = ${1 + (t % 3)} WHERE id = ${t - 1}`);
    if (t % 9 === 2 && t > from + 2) stmts.push(`DELETE FROM t_orders WHERE id = ${t - 2}`);
    await db.transaction(stmts);
    if (t === from + Math.floor(txns / 2)) await db.sql('ALTER TABLE t_users ADD COLUMN age' + String(t) + ' INT');
  }
}

test('shared reader: 20 destinations with different filters receive exactly what separate readers give; a stopped consumer holds nobody back, then catches up alone and rejoins', async () => {
  const db = (owned.sb = await Sandbox.start());
  const dataDir = (owned.dataDir = await mkdtemp(join(tmpdir(), 'sluice-shared-')));
  await db.sql('CREATE TABLE t_orders (id INT PRIMARY KEY, tenant INT NULL, amount DECIMAL(10,2), note VARCHAR(80))');
  await db.sql('CREATE TABLE t_users (id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(60))');
  const start = await db.masterStatus();
  const base = instanceConfig(db, 'x', { start: { kind: 'position', file: start.file, offset: start.position } });
  const configFor = (name: string, v: Variant, shared: boolean, k: number): InstanceConfig => ({
    ...base,
    destination: name,
    file: `instances/${name}.json`,
    source: { ...base.source, slaveId: 100 + k },
    filter: { ...base.filter, rows: [], ...v.filter },
    drop: { ...base.drop, ...v.drop },
    // The stopped destination's store fills after a few transactions.
    store: { ...base.store, maxEntries: k === STOPPED ? 64 : 4096 },
    reader: { shared, windowBytes: 16 * 1024 },
  });
  const sharedI = VARIANTS.map((v, k) => new Instance({ config: configFor(`s${k}`, v, true, k), dataDir, flushIntervalMs: 100 }));
  const separateI = VARIANTS.map((v, k) => new Instance({ config: configFor(`p${k}`, v, false, 200 + k), dataDir, flushIntervalMs: 100 }));
  instances.push(...sharedI, ...separateI);
  await Promise.all(instances.map((i) => i.start()));
  for (const i of instances) assert.equal(i.status().state, 'running', `${i.name}: ${i.status().error ?? ''}`);
  const reader = sharedReaders.readerOf({ ...db.replConfig, heartbeatMs: base.heartbeatMs, timezone: undefined });
  assert.ok(reader, 'one shared reader runs for the source');
  assert.equal(reader.tapsAttached(), 20, 'all 20 destinations read from it');
  assert.equal(reader.counters.soloStarts, 0, 'destinations starting together share from the first entry');

  const clients = await serveAndSubscribe(owned);
  const got = instances.map((): Buffer[] => []);

  await workload(db, 1, 300);
  const end1 = await db.masterStatus();
  // Everyone but the stopped destination finishes while its consumer is away.
  await Promise.all(instances.map((i, k) => (k === STOPPED ? undefined : drain(clients[k]!, i, end1, got[k]!, i.name))));
  assert.ok(reader.counters.detaches >= 1, 'the stopped destination was detached once it fell a window behind');
  assert.equal(reader.tapsAttached(), 19);
  assert.ok(sharedI[STOPPED]!.stats().store.entries > 0, 'the stopped destination still holds what it had');

  // Its consumer returns: it catches up on a parser of its own...
  await drain(clients[STOPPED]!, sharedI[STOPPED]!, end1, got[STOPPED]!, 's7');
  assert.ok(reader.counters.soloStarts >= 1, 'it read on its own');
  // ...and rejoins the shared reader at the next transaction both streams have.
  await workload(db, 1000, 20);
  const end2 = await db.masterStatus();
  await waitFor(() => reader.tapsAttached() === 20, 'the caught-up destination rejoined', 60_000);
  assert.ok(reader.counters.joins >= 1);
  await Promise.all(instances.map((i, k) => drain(clients[k]!, i, end2, got[k]!, i.name)));
  await Promise.all(clients.map((c) => c.disconnect().catch(() => undefined)));

  for (let k = 0; k < VARIANTS.length; k++) {
    const shared = got[k]!;
    const separate = got[k + VARIANTS.length]!;
    assert.ok(separate.length > 0, `p${k} received entries`);
    assert.equal(shared.length, separate.length, `s${k} and p${k} received as many entries`);
    for (let n = 0; n < shared.length; n++) assert.ok(shared[n]!.equals(separate[n]!), `s${k} entry ${n} equals p${k}'s byte for byte`);
  }
  // The filters did differ: not every destination received the same stream.
  assert.ok(new Set(got.slice(0, 20).map((g) => g.length)).size > 5, 'the filters gave different streams');
});
