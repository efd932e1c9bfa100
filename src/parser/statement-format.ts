// Row changes that reach the binlog as statements: a source switched to binlog_format=STATEMENT
// (or MIXED, which writes some changes as statements) while streaming. They are delivered as
// Canal delivers them, QUERY-like entries with the SQL and no rows, but a consumer expecting rows
// silently misses data, so this says so: one warning per table per period, a count for the
// metrics, and a degraded health message naming the setting to fix while it keeps happening.
import type { LoggerLike } from './event-parser.ts';

/** How long one table's warning, and the degraded health state, last after the last such change. */
export const STATEMENT_WARNING_PERIOD_MS = 3_600_000;

export interface StatementFormatStats {
  /** row changes seen as statements since the process started */
  count: number;
  /** when the last one was read (ms), if any */
  lastSeenAt?: number;
}

export class StatementFormatWatch {
  private count = 0;
  private lastSeenAt: number | undefined;
  private lastTable = '';
  /** when each table was last warned about */
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly log: LoggerLike,
    private readonly periodMs = STATEMENT_WARNING_PERIOD_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** One row change read as a statement. */
  note(schema: string, table: string, at: { file: string; offset: number }): void {
    const t = this.now();
    this.count++;
    this.lastSeenAt = t;
    const name = table === '' ? schema : `${schema}.${table}`;
    const warned = this.warnedAt.get(name);
    if (warned !== undefined && t - warned < this.periodMs) return;
    this.warnedAt.set(name, t);
    this.lastTable = name;
    this.log.warn(
      { table: name, file: at.file, offset: at.offset, seen: this.count, fix: "SET GLOBAL binlog_format = 'ROW' on the source (and binlog_format=ROW in its config file)" },
      `row changes to ${name} arrive as statements without rows: the source's binlog_format is STATEMENT or MIXED; they are delivered as QUERY entries with the SQL only`,
    );
  }

  stats(): StatementFormatStats {
    return this.lastSeenAt === undefined ? { count: this.count } : { count: this.count, lastSeenAt: this.lastSeenAt };
  }

  /** The health message while statements were seen within the period; undefined otherwise. */
  degraded(): string | undefined {
    if (this.lastSeenAt === undefined || this.now() - this.lastSeenAt >= this.periodMs) return undefined;
    return `binlog_format: ${this.count} row change(s) arrived as statements without rows (last on ${this.lastTable}); set binlog_format=ROW on the source`;
  }
}
