// What every measurement of a bench run shares: the plan, the sandbox, replica server ids, the
// table being filled, and the checks that make a wrong count fail the run instead of a figure.
import type { Sandbox } from '../test/support/sandbox.ts';
import { TABLE, SENTINEL_TABLE, type BinlogSpan } from './dataset.ts';
import type { BenchPlan } from './plan.ts';
import type { Row } from './report.ts';
import type { DecodeJob, SourceConn } from './measures.ts';

export function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface Ctx {
  plan: BenchPlan;
  sb: Sandbox;
  conn: SourceConn;
  nextServerId: () => number;
  rows: Row[];
}

export function decodeJob(ctx: Ctx, span: BinlogSpan): DecodeJob {
  return { conn: ctx.conn, serverId: ctx.nextServerId(), file: span.file, table: TABLE, sentinelTable: SENTINEL_TABLE };
}

export function checkRows(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what} decoded ${got} rows, expected ${want}: the measurement is invalid`);
}

/** x / base, to three decimals: how many times faster (or slower) than the baseline. */
export function ratio(x: number, base: number): number {
  return Math.round((x / base) * 1000) / 1000;
}

