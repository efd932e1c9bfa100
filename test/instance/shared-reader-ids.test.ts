// Server ids toward a real MariaDB when two destinations share a reader (docs/sink-and-store.md,
// "Server ids"). MariaDB closes a replica connection when another opens with the same server id,
// so the shared connection and a lagging destination's own connection must never use one id at
// the same time. Here the shared connection takes destination `low`'s configured slaveId (501);
// `low`'s consumer stops, it falls a window behind, and when its consumer returns it
// reads on its own (with its spare id) while the shared connection serves `high`. Checked: no
// connection was dropped or retried, and both destinations receive every row once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { Instance } from '../../src/instance/instance.ts';
import { sharedReaders } from '../../src/fanout/registry.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import { instanceConfig, ownedResources, serveAndSubscribe } from '../faults/support/harness.ts';

const owned = ownedResources();
const instances = owned.instances;

/** Pulls and acks until `want` row ids arrived; each id must come once. */
async function drainRows(c: CanalClient, seen: Set<number>, want: number, what: string, diag: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (seen.size < want) {
    if (Date.now() > deadline) throw new Error(`timed out draining ${what}: ${seen.size} of ${want} rows; ${diag()}`);
    const b = await c.getWithoutAck(50, 100);
    if (b.id === -1) continue;
    for (const e of b) {
      if (e.entryType !== 'ROWDATA' || e.isDdl) continue;
      for (const r of e.rows) {
        const id = Number(r.after['id']);
        assert.ok(!seen.has(id), `${what}: row ${id} arrived once`);
        seen.add(id);
      }
    }
    await c.ack(b.id);
  }
}

async function workload(db: Sandbox, from: number, to: number): Promise<void> {
  for (let id = from; id <= to; id++) await db.sql(`INSERT INTO t (id, pad) VALUES (${id}, '${'p'.repeat(200)}')`);
}

test('shared reader: the shared connection uses a configured slaveId; a lagging destination with that id reads on its own with another, and no connection is dropped', async () => {
  const db = (owned.sb = await Sandbox.start());
  const dataDir = (owned.dataDir = await mkdtemp(join(tmpdir(), 'sluice-shared-ids-')));
  await db.sql('CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(255))');
  const start = await db.masterStatus();
  const base = instanceConfig(db, 'x', { start: { kind: 'position', file: start.file, offset: start.position } });
  const low = new Instance({
    config: { ...base, destination: 'low', file: 'instances/low.json', source: { ...base.source, slaveId: 501 }, store: { ...base.store, maxEntries: 64 }, reader: { shared: true, windowBytes: 16 * 1024 } },
    dataDir,
    flushIntervalMs: 100,
  });
  const high = new Instance({
    config: { ...base, destination: 'high', file: 'instances/high.json', source: { ...base.source, slaveId: 502 }, reader: { shared: true, windowBytes: 16 * 1024 } },
    dataDir,
    flushIntervalMs: 100,
  });
  instances.push(low, high);
  // `low` first: the id a shared connection takes is chosen among the destinations on it when it
  // opens (docs/sink-and-store.md), so started together either might open it.
  await low.start();
  await high.start();
  const reader = sharedReaders.readerOf({ ...db.replConfig, heartbeatMs: base.heartbeatMs, timezone: undefined });
  assert.ok(reader);
  assert.equal(reader.tapsAttached(), 2);
  assert.equal(reader.sharedServerId(), 501, "`low`'s configured slaveId");

  const [cLow, cHigh] = await serveAndSubscribe(owned);
  const diag = () => JSON.stringify({ low: low.stats(), high: high.stats(), counters: reader.counters });
  const gotLow = new Set<number>();
  const gotHigh = new Set<number>();

  // `low`'s consumer is away: `high` takes everything, `low` falls a window behind.
  await workload(db, 1, 300);
  await drainRows(cHigh!, gotHigh, 300, 'high', diag);
  await waitFor(() => reader.counters.detaches >= 1, '`low` detached from the shared reader', 60_000);

  // `low`'s consumer returns: it reads on its own while the shared connection keeps serving `high`.
  const more = workload(db, 301, 400);
  await drainRows(cLow!, gotLow, 300, 'low', diag);
  assert.ok(reader.counters.soloStarts >= 1, '`low` read on a connection of its own');
  await more;
  await Promise.all([drainRows(cLow!, gotLow, 400, 'low', diag), drainRows(cHigh!, gotHigh, 400, 'high', diag)]);
  // It rejoins at a transaction both streams have: keep the source writing until it has.
  let last = 400;
  await waitFor(
    async () => {
      if (reader.tapsAttached() === 2) return true;
      last++;
      await workload(db, last, last);
      await Promise.all([drainRows(cLow!, gotLow, last, 'low', diag), drainRows(cHigh!, gotHigh, last, 'high', diag)]);
      return false;
    },
    '`low` to rejoin the shared reader',
    60_000,
  );
  await Promise.all([cLow!.disconnect(), cHigh!.disconnect()]);

  assert.equal(reader.sharedServerId(), 501);
  for (const i of instances) {
    const s = i.stats();
    assert.equal(s.errors, 0, `${i.name}: no connection error (a reused server id gets a connection closed): ${diag()}`);
    assert.equal(s.reconnects, 0, `${i.name}: no reconnect: ${diag()}`);
    assert.equal(i.status().state, 'running');
  }
});
