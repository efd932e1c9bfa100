// Shared pieces of the snapshot tests: a consumer that applies every entry to a map keyed by
// primary key (what a search index or cache does), and the table read the same way to compare.
import type { CanalClient } from '../../src/client/canal-client.ts';
import type { CanalBatch, CanalEntry } from '../../src/client/entry.ts';
import type { Sandbox } from '../support/sandbox.ts';

export type Row = Record<string, string | null>;

export class MapConsumer {
  readonly tables = new Map<string, Map<string, Row>>();
  snapshotRows = 0;
  snapshotEntries = 0;
  sentinels = new Set<string>();

  constructor(private readonly keyOf: (table: string) => string[]) {}

  table(name: string): Map<string, Row> {
    let m = this.tables.get(name);
    if (!m) {
      m = new Map();
      this.tables.set(name, m);
    }
    return m;
  }

  apply(b: CanalBatch): void {
    for (const e of b) this.applyEntry(e);
  }

  private key(table: string, row: Row): string {
    return this.keyOf(table)
      .map((k) => row[k])
      .join('\u0000');
  }

  applyEntry(e: CanalEntry): void {
    if (e.entryType !== 'ROWDATA' || e.isDdl) return;
    const name = `${e.schemaName}.${e.tableName}`;
    if (e.tableName === 'sentinel') {
      for (const r of e.rows) if (r.after.id) this.sentinels.add(r.after.id);
      return;
    }
    const m = this.table(name);
    if (e.props.snapshot === 'true') {
      this.snapshotEntries++;
      this.snapshotRows += e.rows.length;
    }
    for (const r of e.rows) {
      if (e.eventType === 'DELETE') m.delete(this.key(name, r.before));
      else if (e.eventType === 'UPDATE') {
        m.delete(this.key(name, r.before));
        m.set(this.key(name, r.after), { ...r.after });
      } else if (e.eventType === 'INSERT') m.set(this.key(name, r.after), { ...r.after });
    }
  }
}

/** Pulls and acks until `done()`; throws naming `what` after the deadline. */
export async function consume(c: CanalClient, consumer: MapConsumer, done: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms consuming until ${what}`);
    const b = await c.getWithoutAck(2000, 200);
    if (b.id === -1) continue;
    consumer.apply(b);
    await c.ack(b.id);
  }
}

/** The table as text values, as Canal sends them, keyed like the consumer's map. */
export async function tableAsMap(sb: Sandbox, name: string, key: string[], columns: string): Promise<Map<string, Row>> {
  const rows = await sb.sql<Record<string, unknown>[]>(`SELECT ${columns} FROM ${name}`);
  const out = new Map<string, Row>();
  for (const r of rows) {
    const row: Row = {};
    for (const [k, v] of Object.entries(r)) row[k] = v === null ? null : String(v);
    out.set(key.map((k) => row[k]).join('\u0000'), row);
  }
  return out;
}

/** Compares two maps; returns a description of the first few differences ('' when equal). */
export function diffMaps(got: Map<string, Row>, want: Map<string, Row>): string {
  const out: string[] = [];
  for (const [k, w] of want) {
    const g = got.get(k);
    if (g === undefined) out.push(`missing ${k}: ${JSON.stringify(w)}`);
    else if (JSON.stringify(Object.entries(g).sort()) !== JSON.stringify(Object.entries(w).sort())) out.push(`differs ${k}: got ${JSON.stringify(g)} want ${JSON.stringify(w)}`);
    if (out.length >= 5) break;
  }
  for (const k of got.keys()) {
    if (out.length >= 10) break;
    if (!want.has(k)) out.push(`extra ${k}: ${JSON.stringify(got.get(k))}`);
  }
  return out.length === 0 ? '' : `${got.size} rows in the map, ${want.size} in the table; ${out.join('; ')}`;
}

/**
 * Inserts, updates (also of the primary key) and deletes on `big` (id INT PRIMARY KEY, v, n, d,
 * t), until `stop()`: about half aimed at rows from `near()` on (the chunk being read and the
 * next ones), the rest anywhere in the first `range` ids (all ids offset by `base`, a shard's
 * range). Resolves with the operations done.
 */
export async function mixedWorkload(sb: Sandbox, o: { near: () => number; spread: number; range: number; firstNewId: number; stop: () => boolean; base?: number }): Promise<number> {
  const rand = (n: number) => Math.floor(Math.random() * n);
  let ops = 0;
  let nextId = o.firstNewId;
  while (!o.stop()) {
    const id = (o.base ?? 0) + (Math.random() < 0.5 ? o.near() + rand(o.spread) : rand(o.range));
    switch (rand(5)) {
      case 0:
        await sb.sql('INSERT IGNORE INTO big VALUES (?, ?, ?, ?, NOW(3))', [nextId++, `new-${ops}`, ops, ops / 10]);
        break;
      case 1:
        await sb.sql('UPDATE big SET v = ?, n = n + 1 WHERE id = ?', [`upd-${ops}`, id]);
        break;
      case 2:
        await sb.sql('DELETE FROM big WHERE id = ?', [id]);
        break;
      case 3:
        // primary key update: moves the row out of (or into) the chunk being read
        await sb.sql('UPDATE IGNORE big SET id = id + 1000000 WHERE id = ?', [id]);
        break;
      default:
        await sb.transaction([`UPDATE big SET n = NULL WHERE id = ${id + 1}`, `DELETE FROM big WHERE id = ${id + 2}`, `INSERT IGNORE INTO big VALUES (${id + 3}, 'tx-${ops}', 1, 1.5, NULL)`]);
    }
    ops++;
  }
  return ops;
}
