// A group destination: two MariaDB servers holding shards of one table, merged into one stream
// while both take concurrent multi-row transactions. sluice (a child process) is SIGKILLed
// mid-stream and restarted; then, in process, one source is killed and restarted. Checked:
// every row of both shards arrives exactly once in each shard's order (a replay after the kill
// starts exactly at that source's persisted position: rows after it are taken back and must
// come again, rows before it must not), transactions are never split, every entry names its
// source (header prop and server id), the group is `degraded` naming the dead source while the
// other keeps flowing, and it is `running` again once the source is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaState } from '../../src/meta/meta-store.ts';
import { sourcePart } from '../../src/meta/group-cursor.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import { client, startInProcess, type InProcessSluice, cleanUpAfter } from './support/harness.ts';
import { startChild, type ChildSluice } from './support/child-sluice.ts';
import { GroupConsumer, NAMES, pull as pullChecked, startShards, workload } from './support/group-shards.ts';

const DEST = 'shards';
const FLUSH_MS = 200;

let sbs: Sandbox[] = [];
let dataDir: string | undefined;
let child: ChildSluice | undefined;
let inproc: InProcessSluice | undefined;

cleanUpAfter(() => ({ child, sluice: inproc, sandboxes: sbs, dataDir }));

const pull = (c: CanalClient, consumer: GroupConsumer, done: () => boolean, what: string) => pullChecked(c, consumer, done, what, () => child?.stderr().slice(-2000) ?? '');

test('group destination: two shards merged; SIGKILL resumes each source exactly; a dead source degrades the group, its return recovers it', async () => {
  const shards = await startShards(DEST, { skewMs: 200, onSourceFailure: 'continue' });
  sbs = shards.sbs;
  const [a, b] = shards.sbs;
  const cfg = shards.cfg;
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-group-'));
  const dir = dataDir;
  const consumer = new GroupConsumer();

  // Phase 1: concurrent workload, SIGKILL of sluice in the middle, restart.
  child = await startChild(cfg, dir, FLUSH_MS);
  assert.equal(child.state, 'running', child.error);
  let c = client(child.port, DEST);
  await c.connect();
  await c.subscribe();
  const writing = Promise.all([workload(a, 1, 0, 60), workload(b, 2, 0, 60)]);
  await pull(c, consumer, () => consumer.count('shard1') > 40 && consumer.count('shard2') > 40, 'some rows of both shards');
  // Kill once a cursor is on disk, mid-workload. What a restart resumes from is meta.dat with the
  // cursor journal replayed over it (each ack is journaled at once; meta.dat lags a flush interval).
  await waitFor(async () => (await readMetaState(dir, DEST))?.clients.some((x) => x.cursor?.sources !== undefined) === true, 'a cursor on disk', 30_000);
  await c.disconnect().catch(() => undefined);
  await child.kill9();
  const meta = await readMetaState(dir, DEST);
  const cursor = meta?.clients.find((x) => x.clientId === '1001')?.cursor;
  assert.ok(cursor?.sources !== undefined && cursor.sources.length >= 1, `the persisted cursor has its parts by source: ${JSON.stringify(meta)}`);
  assert.equal(cursor.journalName, cursor.sources[0]!.journalName, "Canal's fields repeat the first source's part");
  for (const n of NAMES) {
    // A source without a part yet (nothing of it acknowledged by the last flush) starts over.
    const part = sourcePart(cursor, n, 'shard1');
    if (part === undefined) consumer.rewind(n, '', 0);
    else consumer.rewind(n, part.journalName, part.position);
  }
  const [lastA, lastB] = await writing;
  child = await startChild(cfg, dir, FLUSH_MS);
  assert.equal(child.state, 'running', child.error);
  c = client(child.port, DEST);
  await c.connect();
  await c.subscribe();
  await pull(c, consumer, () => consumer.count('shard1') >= lastA && consumer.count('shard2') >= lastB, 'every row of both shards');
  await c.disconnect().catch(() => undefined);
  assert.equal(await child.terminate(), 0);
  child = undefined;
  consumer.assertComplete('shard1', lastA, "every row once, in the shard's order");
  consumer.assertComplete('shard2', lastB, "every row once, in the shard's order");
  assert.deepEqual([...consumer.serverIds.get('shard1')!], [11], "shard1's entries carry its server id");
  assert.deepEqual([...consumer.serverIds.get('shard2')!], [12]);

  // Phase 2 (in process, to read the state): shard2 dies, shard1 keeps flowing, shard2 returns.
  inproc = await startInProcess(cfg, dir, FLUSH_MS);
  const inst = inproc.instance;
  await waitFor(() => inst.status().state === 'running', 'the group running again', 30_000);
  c = client(inproc.port, DEST);
  await c.connect();
  await c.subscribe();
  await b.kill9();
  await waitFor(() => inst.status().state === 'degraded', 'the group degraded after shard2 died', 30_000);
  assert.match(inst.status().error ?? '', /source shard2 is retrying/);
  assert.match(inst.status().error ?? '', /keep flowing/);
  const more = await workload(a, 1, lastA, 10);
  await pull(c, consumer, () => consumer.count('shard1') >= more, "shard1's new rows while shard2 is down");
  await b.restart();
  await waitFor(() => inst.status().state === 'running', 'the group running once shard2 is back', 60_000);
  const moreB = await workload(b, 2, lastB, 10);
  await pull(c, consumer, () => consumer.count('shard2') >= moreB, "shard2's rows after it came back");
  await c.disconnect().catch(() => undefined);
  consumer.assertComplete('shard1', more, 'still every row once, in order');
  consumer.assertComplete('shard2', moreB, 'still every row once, in order');
});
