// Keeps a PostgreSQL full-text index in step with one MySQL table through sluice.
//
// The pattern every sluice consumer should follow:
//   1. getWithoutAck() a batch;
//   2. apply its changes AND record the position of its last entry in ONE target transaction;
//   3. only after COMMIT, ack() the batch.
// A crash between 2 and 3 makes sluice deliver the batch again; the stored position lets the
// indexer recognise entries it already applied and skip them, so the index never goes backwards.
// A failure before COMMIT rolls back both sides: PostgreSQL's transaction and sluice's batch.
import type pg from 'pg';
import type { CanalBatch, CanalEntry } from '../../src/client/entry.ts';

export interface IndexedTable {
  schema: string;
  table: string;
  /** primary key column (a single column) */
  key: string;
  /** columns concatenated into the title and the body of the document */
  titleColumns: string[];
  bodyColumns: string[];
}

/** What the indexer needs of a sluice client (CanalClient has exactly these). */
export interface BatchSource {
  getWithoutAck(batchSize: number, timeoutMs: number): Promise<CanalBatch>;
  ack(batchId: number): Promise<void>;
  rollback(batchId?: number): Promise<void>;
}

export interface Position {
  file: string;
  offset: number;
  /** a snapshot entry's `snapshotSeq` property; 0 for ordinary changes */
  seq: number;
}

/**
 * Stream order: file names sort (they are zero-padded), then offsets within a file, then (for
 * snapshot entries, which share the position of the point they follow) their snapshotSeq stamps.
 */
export function after(a: Position, b: Position): boolean {
  if (a.file !== b.file) return a.file > b.file;
  if (a.offset !== b.offset) return a.offset > b.offset;
  return a.seq > b.seq;
}

/** An entry's place in the stream (see after()). */
export function positionOf(e: CanalEntry): Position {
  const seq = e.props.snapshotSeq;
  return { file: e.logfileName, offset: e.logfileOffset, seq: seq === undefined ? 0 : Number(seq) };
}

export interface ApplyResult {
  upserts: number;
  deletes: number;
  skipped: number;
}

export class SearchIndexer {
  constructor(
    private readonly pool: pg.Pool,
    private readonly table: IndexedTable,
    /** names this indexer's row in search_index_position */
    readonly consumer: string,
  ) {}

  private docId(key: string): string {
    return `${this.table.schema}.${this.table.table}:${key}`;
  }

  private text(values: Record<string, string | null>, columns: string[]): string {
    return columns.map((c) => values[c] ?? '').filter((v) => v !== '').join(' ');
  }

  async position(db: pg.ClientBase | pg.Pool = this.pool): Promise<Position | undefined> {
    const r = await db.query<{ logfile_name: string; logfile_offset: string; snapshot_seq: string }>(
      'SELECT logfile_name, logfile_offset, snapshot_seq FROM search_index_position WHERE consumer = $1',
      [this.consumer],
    );
    const row = r.rows[0];
    return row ? { file: row.logfile_name, offset: Number(row.logfile_offset), seq: Number(row.snapshot_seq) } : undefined;
  }

  private ours(e: CanalEntry): boolean {
    return e.schemaName.toLowerCase() === this.table.schema.toLowerCase() && e.tableName.toLowerCase() === this.table.table.toLowerCase();
  }

  /** Applies one batch and its position in one PostgreSQL transaction. Does not ack. */
  async apply(batch: CanalBatch): Promise<ApplyResult> {
    const res: ApplyResult = { upserts: 0, deletes: 0, skipped: 0 };
    if (batch.isEmpty) return res;
    const db = await this.pool.connect();
    try {
      await db.query('BEGIN');
      // FOR UPDATE: two indexers started by mistake for one consumer serialise instead of interleaving.
      await db.query('SELECT 1 FROM search_index_position WHERE consumer = $1 FOR UPDATE', [this.consumer]);
      const done = await this.position(db);
      let last: CanalEntry | undefined;
      for (const e of batch) {
        last = e;
        if (done && !after(positionOf(e), done)) {
          res.skipped++;
          continue;
        }
        if (e.entryType !== 'ROWDATA' || !this.ours(e)) continue;
        if (e.isDdl) {
          if (e.eventType === 'TRUNCATE' || e.eventType === 'ERASE') {
            const r = await db.query('DELETE FROM search_documents WHERE source_table = $1', [`${this.table.schema}.${this.table.table}`]);
            res.deletes += r.rowCount ?? 0;
          }
          continue;
        }
        for (const row of e.rows) {
          const oldKey = row.before[this.table.key];
          const newKey = row.after[this.table.key];
          if (e.eventType === 'DELETE' || (e.eventType === 'UPDATE' && oldKey != null && oldKey !== newKey)) {
            if (oldKey != null) {
              await db.query('DELETE FROM search_documents WHERE doc_id = $1', [this.docId(oldKey)]);
              res.deletes++;
            }
          }
          if ((e.eventType === 'INSERT' || e.eventType === 'UPDATE') && newKey != null) {
            await db.query(
              `INSERT INTO search_documents (doc_id, source_table, title, body) VALUES ($1, $2, $3, $4)
               ON CONFLICT (doc_id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body`,
              [this.docId(newKey), `${this.table.schema}.${this.table.table}`, this.text(row.after, this.table.titleColumns), this.text(row.after, this.table.bodyColumns)],
            );
            res.upserts++;
          }
        }
      }
      const lastAt = last === undefined ? undefined : positionOf(last);
      if (last && lastAt && (!done || after(lastAt, done))) {
        await db.query(
          `INSERT INTO search_index_position (consumer, logfile_name, logfile_offset, snapshot_seq, execute_time) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (consumer) DO UPDATE SET logfile_name = EXCLUDED.logfile_name, logfile_offset = EXCLUDED.logfile_offset,
             snapshot_seq = EXCLUDED.snapshot_seq, execute_time = EXCLUDED.execute_time, updated_at = now()`,
          [this.consumer, lastAt.file, lastAt.offset, lastAt.seq, last.executeTime],
        );
      }
      await db.query('COMMIT');
      return res;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }

  /**
   * The consumer loop: get, apply + position in one transaction, then ack. On any failure the
   * batch is rolled back on the sluice side too, so it comes again, and the loop goes on after
   * a pause. Returns when `signal` aborts.
   */
  async run(source: BatchSource, signal: AbortSignal, opts: { batchSize?: number; waitMs?: number; onBatch?: (id: number, r: ApplyResult) => void; onError?: (err: Error) => void } = {}): Promise<void> {
    while (!signal.aborted) {
      let batchId = -1;
      try {
        const batch = await source.getWithoutAck(opts.batchSize ?? 500, opts.waitMs ?? 1000);
        batchId = batch.id;
        if (batch.id === -1) continue;
        const r = await this.apply(batch);
        await source.ack(batch.id);
        opts.onBatch?.(batch.id, r);
      } catch (err) {
        opts.onError?.(err as Error);
        if (batchId !== -1) await source.rollback().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
