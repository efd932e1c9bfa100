// A group destination: two MariaDB servers holding shards of one table, merged into one stream
// while both take concurrent multi-row transactions. sluice (a child process) is SIGKILLed
// mid-stream and restarted; then, in process, one source is killed and restarted. Checked:
// every row of both shards arrives exactly once in each shard's order (a replay after the kill
// starts exactly at that source's persisted position: rows after it are taken back and must
// come again, rows before it must not), transactions are never split, every entry names its
// source (header prop and server id), the group is `degraded` naming the dead source while the
// other keeps flowing, and it is `running` again once the source is back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { readMetaState } from '../../src/meta/meta-store.ts';
import { sourcePart } from '../../src/meta/group-cursor.ts';
import type { InstanceConfig } from '../../src/config/types.ts';
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalBatch } from '../../src/client/entry.ts';
import { client, instanceConfig, startInProcess, type InProcessSluice } from './support/harness.ts';
import { startChild, type ChildSluice } from './support/child-sluice.ts';

const DEST = 'shards';
const NAMES = ['shard1', 'shard2'] as const;
const FLUSH_MS = 200;

let sbs: Sandbox[] = [];
let dataDir: string | undefined;
let child: ChildSluice | undefined;
let inproc: InProcessSluice | undefined;

after(async () => {
  await child?.kill9();
  await inproc?.stop().catch(() => undefined);
  await Promise.all(sbs.map((s) => s.cleanup()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface RowSeen {
  seq: number;
  /** the END of its transaction: the position a cursor part takes once it is acknowledged */
  endFile: string;
  endOffset: number;
}

function fileSeq(f: string): number {
  return Number(/\.(\d+)$/.exec(f)?.[1] ?? -1);
}

/** What the consumer keeps per source, checking each batch as it goes. */
class GroupConsumer {
  readonly rows = new Map<string, RowSeen[]>(NAMES.map((n) => [n, []]));
  readonly serverIds = new Map<string, Set<number>>(NAMES.map((n) => [n, new Set()]));
  private open: { source: string; rows: number[] } | undefined;

  apply(b: CanalBatch): void {
    for (const e of b) {
      const source = e.props['source'];
      assert.ok(source === 'shard1' || source === 'shard2', `every entry names its source (got ${JSON.stringify(source)})`);
      this.serverIds.get(source)!.add(e.serverId);
      if (e.entryType === 'TRANSACTIONBEGIN') {
        assert.equal(this.open, undefined, 'a BEGIN never comes inside another transaction');
        this.open = { source, rows: [] };
      } else if (e.entryType === 'ROWDATA' && !e.isDdl) {
        assert.equal(this.open?.source, source, 'a transaction is never split by another source');
        for (const r of e.rows) this.open!.rows.push(Number(r.after['seq']));
      } else if (e.entryType === 'TRANSACTIONEND') {
        assert.equal(this.open?.source, source, 'the END belongs to the open transaction');
        for (const seq of this.open!.rows) this.rows.get(source)!.push({ seq, endFile: e.logfileName, endOffset: e.logfileOffset });
        this.open = undefined;
      }
    }
  }

  /** After a crash: forget what the source will send again (everything after its persisted part). */
  rewind(source: string, file: string, offset: number): void {
    const list = this.rows.get(source)!;
    const keep = list.filter((r) => fileSeq(r.endFile) < fileSeq(file) || (r.endFile === file && r.endOffset <= offset));
    this.rows.set(source, keep);
    this.open = undefined;
  }

  count(source: string): number {
    return this.rows.get(source)!.length;
  }
}

async function pull(c: CanalClient, consumer: GroupConsumer, done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out consuming until ${what}; have ${NAMES.map((n) => `${n}=${consumer.count(n)}`).join(' ')}; ${child?.stderr().slice(-2000) ?? ''}`);
    const b = await c.getWithoutAck(37, 200);
    if (b.id === -1) continue;
    consumer.apply(b);
    await c.ack(b.id);
  }
}

/** Transactions of 1-3 rows on one shard, rows numbered 1, 2, ... in commit order. */
async function workload(sb: Sandbox, shard: number, from: number, txns: number): Promise<number> {
  let seq = from;
  for (let t = 0; t < txns; t++) {
    const n = 1 + ((t * 7 + shard) % 3);
    const stmts: string[] = [];
    for (let k = 0; k < n; k++) {
      seq++;
      stmts.push(`INSERT INTO orders (id, shard, seq, note) VALUES (${shard * 1_000_000 + seq}, ${shard}, ${seq}, 't${t}')`);
    }
    await sb.transaction(stmts);
  }
  return seq;
}

test('group destination: two shards merged; SIGKILL resumes each source exactly; a dead source degrades the group, its return recovers it', async () => {
  sbs = await Promise.all([Sandbox.start({ serverId: 11 }), Sandbox.start({ serverId: 12 })]);
  const [a, b] = sbs as [Sandbox, Sandbox];
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-group-'));
  const dir = dataDir;
  const create = 'CREATE TABLE orders (id BIGINT PRIMARY KEY, shard INT NOT NULL, seq INT NOT NULL, note VARCHAR(20))';
  await Promise.all([a.sql(create), b.sql(create)]);
  const [ma, mb] = await Promise.all([a.masterStatus(), b.masterStatus()]);
  const base = instanceConfig(a, DEST);
  const cfg: InstanceConfig = {
    ...base,
    sources: [
      { name: 'shard1', ...a.replConfig, connectTimeoutMs: 5_000, start: { kind: 'position', file: ma.file, offset: ma.position } },
      { name: 'shard2', ...b.replConfig, connectTimeoutMs: 5_000, start: { kind: 'position', file: mb.file, offset: mb.position } },
    ],
    group: { skewMs: 200, onSourceFailure: 'continue' },
  };
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
  for (const [n, last] of [['shard1', lastA], ['shard2', lastB]] as const) {
    assert.deepEqual(consumer.rows.get(n)!.map((r) => r.seq), Array.from({ length: last }, (_, k) => k + 1), `${n}: every row once, in the shard's order`);
  }
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
  for (const [n, last] of [['shard1', more], ['shard2', moreB]] as const) {
    assert.deepEqual(consumer.rows.get(n)!.map((r) => r.seq), Array.from({ length: last }, (_, k) => k + 1), `${n}: still every row once, in order`);
  }
});
