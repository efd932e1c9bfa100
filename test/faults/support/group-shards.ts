// Two MariaDB shards of one `orders` table read by one group destination, and a consumer that
// checks what a group must guarantee batch by batch: shared by the group fault tests.
import assert from 'node:assert/strict';
import { Sandbox } from '../../support/sandbox.ts';
import type { InstanceConfig } from '../../../src/config/types.ts';
import type { CanalClient } from '../../../src/client/canal-client.ts';
import type { CanalBatch } from '../../../src/client/entry.ts';
import { instanceConfig } from './harness.ts';

export const NAMES = ['shard1', 'shard2'] as const;

export interface RowSeen {
  seq: number;
  /** the END of its transaction: the position a cursor part takes once it is acknowledged */
  endFile: string;
  endOffset: number;
}

function fileSeq(f: string): number {
  return Number(/\.(\d+)$/.exec(f)?.[1] ?? -1);
}

/**
 * Two sandboxes (server ids 11 and 12) with an empty `orders` table each, and a group config
 * reading both from their current binlog end (`group` as given).
 */
export async function startShards(destination: string, group: NonNullable<InstanceConfig['group']>): Promise<{ sbs: [Sandbox, Sandbox]; cfg: InstanceConfig }> {
  const sbs = (await Promise.all([Sandbox.start({ serverId: 11 }), Sandbox.start({ serverId: 12 })])) as [Sandbox, Sandbox];
  const [a, b] = sbs;
  const create = 'CREATE TABLE orders (id BIGINT PRIMARY KEY, shard INT NOT NULL, seq INT NOT NULL, note VARCHAR(20))';
  await Promise.all([a.sql(create), b.sql(create)]);
  const [ma, mb] = await Promise.all([a.masterStatus(), b.masterStatus()]);
  const cfg: InstanceConfig = {
    ...instanceConfig(a, destination),
    sources: [
      { name: 'shard1', ...a.replConfig, connectTimeoutMs: 5_000, start: { kind: 'position', file: ma.file, offset: ma.position } },
      { name: 'shard2', ...b.replConfig, connectTimeoutMs: 5_000, start: { kind: 'position', file: mb.file, offset: mb.position } },
    ],
    group,
  };
  return { sbs, cfg };
}

/** What the consumer keeps per source, checking each batch as it goes. */
export class GroupConsumer {
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

  /** Asserts that `source` delivered rows 1..last, each once, in the shard's order. */
  assertComplete(source: string, last: number, what: string): void {
    assert.deepEqual(this.rows.get(source)!.map((r) => r.seq), Array.from({ length: last }, (_, k) => k + 1), `${source}: ${what}`);
  }
}

/** Gets, checks and acks batches until `done()`; `diag` adds context to a timeout. */
export async function pull(c: CanalClient, consumer: GroupConsumer, done: () => boolean, what: string, diag: () => string = () => '', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out consuming until ${what}; have ${NAMES.map((n) => `${n}=${consumer.count(n)}`).join(' ')}; ${diag()}`);
    const b = await c.getWithoutAck(37, 200);
    if (b.id === -1) continue;
    consumer.apply(b);
    await c.ack(b.id);
  }
}

/** Transactions of 1-3 rows on one shard, rows numbered from+1, from+2, ... in commit order; returns the last number. */
export async function workload(sb: Sandbox, shard: number, from: number, txns: number): Promise<number> {
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
