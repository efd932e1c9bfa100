// The ledger workload of the fault tests: accounts whose balances only move by transfers, each
// transfer one multi-row transaction (a journal row plus two balance updates), so the sum of
// balances never changes. A consumer rebuilds the balances from the stream and checks order.
import type { Sandbox } from '../../support/sandbox.ts';
import { decodeEntry, type DecodedEntry } from '../../../src/protocol/entry-codec.ts';
import { EntryType, EventType } from '../../../src/protocol/entry-model.ts';

export const ACCOUNTS = 20;
export const OPENING_BALANCE = 1000;

export async function createLedger(sb: Sandbox): Promise<void> {
  await sb.sql(
    'CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL);' +
      'CREATE TABLE transfers (id INT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amount INT NOT NULL);',
  );
  const values = Array.from({ length: ACCOUNTS }, (_, i) => `(${i + 1}, ${OPENING_BALANCE})`).join(',');
  await sb.sql(`INSERT INTO accounts VALUES ${values}`);
}

// Deterministic pseudo-random transfers, so a failing run can be repeated.
function transferOf(id: number): { src: number; dst: number; amount: number } {
  const src = (id * 7919) % ACCOUNTS + 1;
  let dst = (id * 104729 + 3) % ACCOUNTS + 1;
  if (dst === src) dst = (dst % ACCOUNTS) + 1;
  return { src, dst, amount: (id % 50) + 1 };
}

/** Commits transfers with ids from..to (inclusive), one transaction each. */
export async function runTransfers(sb: Sandbox, from: number, to: number): Promise<void> {
  for (let id = from; id <= to; id++) {
    const t = transferOf(id);
    await sb.transaction([
      `INSERT INTO transfers VALUES (${id}, ${t.src}, ${t.dst}, ${t.amount})`,
      `UPDATE accounts SET balance = balance - ${t.amount} WHERE id = ${t.src}`,
      `UPDATE accounts SET balance = balance + ${t.amount} WHERE id = ${t.dst}`,
    ]);
  }
}

export async function tableBalances(sb: Sandbox): Promise<Map<number, number>> {
  const rows = await sb.sql<{ id: number; balance: string | number }[]>('SELECT id, balance FROM accounts ORDER BY id');
  return new Map(rows.map((r) => [Number(r.id), Number(r.balance)]));
}

export interface Position {
  file: string;
  offset: number;
}

function seq(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}

export function comparePositions(a: Position, b: Position): number {
  return seq(a.file) - seq(b.file) || a.offset - b.offset;
}

/**
 * What a consumer rebuilds from the stream. Balances come from the after images (absolute
 * values), so applying a repeated entry again is harmless; order is checked on positions.
 */
export class LedgerConsumer {
  readonly balances = new Map<number, number>();
  /** transfer ids in the order they first arrived */
  readonly transfersSeen: number[] = [];
  private readonly seenSet = new Set<number>();
  /** entries delivered, counting repeats */
  delivered = 0;
  /** position of the newest entry applied so far */
  last: Position | undefined;
  /** the first position of each session (after a sluice restart) */
  readonly sessionStarts: Position[] = [];
  private newSession = true;
  private readonly violations: string[] = [];

  /** Call when the consumer reconnects to a restarted sluice: the stream may go back then, never otherwise. */
  restartSession(): void {
    this.newSession = true;
  }

  applyBytes(bytes: Uint8Array): DecodedEntry {
    const e = decodeEntry(bytes);
    this.apply(e);
    return e;
  }

  apply(e: DecodedEntry): void {
    this.delivered++;
    const pos = { file: e.header.logfileName ?? '', offset: Number(e.header.logfileOffset ?? 0) };
    if (this.newSession) {
      this.sessionStarts.push(pos);
      this.newSession = false;
    } else if (this.last && comparePositions(pos, this.last) < 0) {
      this.violations.push(`entry at ${pos.file}:${pos.offset} arrived after ${this.last.file}:${this.last.offset} in one session`);
    }
    this.last = pos;
    if (e.entryType !== EntryType.ROWDATA || !e.rowChange || e.rowChange.isDdl) return;
    const table = e.header.tableName;
    for (const row of e.rowChange.rowDatas) {
      const after = new Map(row.afterColumns.map((c) => [c.name, c.isNull ? null : (c.value ?? '')]));
      if (table === 'accounts' && (e.rowChange.eventType === EventType.INSERT || e.rowChange.eventType === EventType.UPDATE)) {
        this.balances.set(Number(after.get('id')), Number(after.get('balance')));
      } else if (table === 'transfers' && e.rowChange.eventType === EventType.INSERT) {
        const id = Number(after.get('id'));
        if (!this.seenSet.has(id)) {
          const prev = this.transfersSeen[this.transfersSeen.length - 1];
          if (prev !== undefined && id !== prev + 1) this.violations.push(`transfer ${id} first arrived right after ${prev}`);
          this.seenSet.add(id);
          this.transfersSeen.push(id);
        }
      }
    }
  }

  problems(): string[] {
    return [...this.violations];
  }

  sum(): number {
    let s = 0;
    for (const v of this.balances.values()) s += v;
    return s;
  }
}

/** Transfers from..to (inclusive) all in ONE transaction: a long multi-row transaction. */
export async function runBulkTransfer(sb: Sandbox, from: number, to: number): Promise<void> {
  const statements: string[] = [];
  for (let id = from; id <= to; id++) {
    const t = transferOf(id);
    statements.push(
      `INSERT INTO transfers VALUES (${id}, ${t.src}, ${t.dst}, ${t.amount})`,
      `UPDATE accounts SET balance = balance - ${t.amount} WHERE id = ${t.src}`,
      `UPDATE accounts SET balance = balance + ${t.amount} WHERE id = ${t.dst}`,
    );
  }
  await sb.transaction(statements);
}
