// The instance's view of what clients may see: table include/exclude lists, category drops and
// column lists, applied once to the parser's entries before they are encoded and stored. It also
// drops what never goes to clients (heartbeats, GTID markers) and the transactions that filtering
// leaves empty, letting one bare BEGIN/END pair through now and then so cursors still advance
// while every table of a busy source is filtered out (docs/sink-and-store.md).
import { EntryType, EventType, type EntryPosition, type ParsedEntry } from '../protocol/entry-model.ts';
import { parseColumnRules } from '../config/column-rules.ts';
import { ColumnFilter } from './column-filter.ts';
import { RowFilter, type RowFilterRule } from './row-filter.ts';
import { filteredNames, isTableDdl, passesTables, type ScopedEntry } from './table-scope.ts';
import { TableFilter } from '../config/table-filter.ts';

export interface CategoryDrops {
  insert?: boolean;
  update?: boolean;
  delete?: boolean;
  /** table DDL: CREATE, ALTER, ERASE, TRUNCATE, RENAME, CINDEX, DINDEX (Canal's filter.query.ddl) */
  ddl?: boolean;
  /** every other statement entry flagged as DDL: GRANT, CREATE USER, CREATE DATABASE... (filter.query.dcl) */
  dcl?: boolean;
  /** INSERT/UPDATE/DELETE logged as statements, delivered without rows (filter.query.dml) */
  queryDml?: boolean;
  /** every row change from a rows event (filter.rows) */
  rows?: boolean;
  /** rows of a table the source no longer has (filter.table.error) */
  tableErrors?: boolean;
  /** BEGIN/END entries, but one every emptyTransactionIntervalMs or emptyTransactionThreshold (filter.transaction.entry) */
  transactionEntries?: boolean;
}

export interface EventSinkOptions {
  /** table include list (Canal's filter.regex); empty = every table */
  include?: string;
  /** table exclude list (Canal's filter.black.regex); empty = none */
  exclude?: string;
  drop?: CategoryDrops;
  /** `schema.table:col1/col2,...`: only these columns of these tables */
  includeColumns?: string;
  /** `schema.table:col1/col2,...`: never these columns */
  excludeColumns?: string;
  /** row filters by content (row-filter.ts) */
  rows?: RowFilterRule[];
  /** where the row filters report a table that lacks their column */
  onWarning?: (message: string) => void;
  /** configuration keys named in errors and descriptions; Canal's property names by default */
  keys?: { include?: string; exclude?: string; includeColumns?: string; excludeColumns?: string; rows?: string };
  /** binlog time between two empty transactions let through (Canal: 5 s) */
  emptyTransactionIntervalMs?: number;
  /** empty transactions suppressed before one is let through regardless of time (Canal: 8192) */
  emptyTransactionThreshold?: number;
  /**
   * `schema.table` names whose rows and DDL never reach clients, whatever the filters say:
   * sluice's own snapshot watermark tables (docs/snapshots.md). The CREATE DATABASE of their
   * schema, which sluice may issue once, is hidden too.
   */
  hidden?: string[];
}

/** What a consumer's filter is: the instance filter narrowed by the client's, with a description for logs. */
export interface NarrowedFilter {
  accept: (item: ScopedEntry) => boolean;
  description: string;
}

export interface SinkStreamStats {
  /** the position of the last entry seen from the source, heartbeats and dropped entries included */
  lastPosition: EntryPosition | undefined;
  entriesIn: number;
  entriesOut: number;
  emptyTransactionsSuppressed: number;
  emptyTransactionsPassed: number;
}

export const CLIENT_FILTER_KEY = 'subscription filter';

export class EventSink {
  readonly include: TableFilter;
  readonly exclude: TableFilter;
  readonly columns: ColumnFilter;
  readonly rowFilter: RowFilter;
  readonly drop: Readonly<CategoryDrops>;
  readonly emptyTransactionIntervalMs: number;
  readonly emptyTransactionThreshold: number;
  private defaultStream: SinkStream | undefined;
  /** lower-cased hidden schema.table names, and their schemas */
  private readonly hiddenNames: ReadonlySet<string>;
  private readonly hiddenSchemas: ReadonlySet<string>;
  /** the table decision for the last non-DDL entry keepRow judged */
  private readonly lastRow: { entryType: EntryType | undefined; eventType: EventType | undefined; schema: string; table: string; pass: boolean } = {
    entryType: undefined,
    eventType: undefined,
    schema: '',
    table: '',
    pass: false,
  };

  /** Throws FilterError naming the key of any filter that does not compile. */
  constructor(opts: EventSinkOptions = {}) {
    const keys = opts.keys ?? {};
    this.include = TableFilter.compile(opts.include ?? '', keys.include ?? 'canal.instance.filter.regex', 'include');
    this.exclude = TableFilter.compile(opts.exclude ?? '', keys.exclude ?? 'canal.instance.filter.black.regex', 'exclude');
    this.columns = new ColumnFilter(
      parseColumnRules(opts.includeColumns ?? '', keys.includeColumns ?? 'canal.instance.filter.field'),
      parseColumnRules(opts.excludeColumns ?? '', keys.excludeColumns ?? 'canal.instance.filter.black.field'),
    );
    this.rowFilter = new RowFilter(opts.rows ?? [], keys.rows ?? 'filter.rows', opts.onWarning);
    this.drop = { ...opts.drop };
    this.emptyTransactionIntervalMs = opts.emptyTransactionIntervalMs ?? 5000;
    this.emptyTransactionThreshold = opts.emptyTransactionThreshold ?? 8192;
    const hidden = (opts.hidden ?? []).map((n) => n.toLowerCase());
    this.hiddenNames = new Set(hidden);
    this.hiddenSchemas = new Set(hidden.map((n) => n.slice(0, n.indexOf('.'))));
  }

  /**
   * Filters one source's entries in order. Transaction state carries over between calls, so one
   * source must always use the same stream: this method is that stream for a single source; the
   * Pump makes one stream per source with createStream().
   */
  filter(entries: ParsedEntry[]): ParsedEntry[] {
    this.defaultStream ??= this.createStream();
    return this.defaultStream.filter(entries);
  }

  createStream(): SinkStream {
    return new SinkStream(this);
  }

  /** The table-level decision alone (categories and tables), for an entry or a stored item. */
  passes(e: ScopedEntry): boolean {
    if (this.hiddenNames.size > 0 && this.isHidden(e)) return false;
    return passesTables(e, this.include, this.exclude);
  }

  private isHidden(e: ScopedEntry): boolean {
    const names = filteredNames(e);
    if (names !== undefined) return names.some((n) => this.hiddenNames.has(n.toLowerCase()));
    // CREATE DATABASE of a watermark table's schema: a statement (QUERY) naming the schema and no table
    return e.isDdl && e.table === '' && e.eventType === EventType.QUERY && this.hiddenSchemas.has(e.schema.toLowerCase());
  }

  /**
   * A per-client filter that can only narrow: an item passes when the instance filters pass it
   * AND the client's filter does. An empty client filter adds nothing. Throws FilterError
   * (key "subscription filter") for a client filter that does not compile.
   */
  narrow(clientFilterText: string): NarrowedFilter {
    const instance = `${this.include.describe()}; ${this.exclude.describe()}`;
    if (clientFilterText === '') return { accept: (item) => this.passes(item), description: `${instance}; no client filter` };
    const client = TableFilter.compile(clientFilterText, CLIENT_FILTER_KEY, 'include');
    return {
      accept: (item) => this.passes(item) && passesTables(item, client, undefined),
      description: `${instance}; AND ${client.describe()}`,
    };
  }

  describe(): string {
    const drops = Object.entries(this.drop)
      .filter(([, on]) => on === true)
      .map(([k]) => k);
    return `${this.include.describe()}; ${this.exclude.describe()}; ${this.columns.describe()}; ${this.rowFilter.describe()}; dropped categories: ${drops.join(',') || 'none'}`;
  }

  /** Categories, tables and columns for one ROWDATA entry: the entry to keep (maybe with fewer columns) or undefined. */
  keepRow(e: ParsedEntry): ParsedEntry | undefined {
    const rc = e.rowChange;
    const eventType = rc?.eventType ?? e.header.eventType;
    const isDdl = rc?.isDdl === true;
    if (isDdl ? this.dropsStatement(eventType) : this.dropsDml(e, eventType)) return undefined;
    const schema = e.header.schemaName ?? '';
    const table = e.header.tableName ?? '';
    const also = e.alsoNames;
    let pass: boolean;
    if (isDdl || (also !== undefined && also.length > 0)) {
      pass = this.passes({ entryType: e.entryType, eventType, isDdl, schema, table, alsoNames: also });
    } else {
      // Rows come table after table: the filters are fixed, so the last row's decision stands
      // for the next row of the same table and kind (the parser hands over the same name strings).
      const m = this.lastRow;
      if (m.table !== table || m.schema !== schema || m.eventType !== eventType || m.entryType !== e.entryType) {
        m.pass = this.passes({ entryType: e.entryType, eventType, isDdl, schema, table });
        m.entryType = e.entryType;
        m.eventType = eventType;
        m.schema = schema;
        m.table = table;
      }
      pass = m.pass;
    }
    if (!pass) return undefined;
    // Rows first: a column list may leave out the column a row filter reads.
    const rows = this.rowFilter.empty ? e : this.rowFilter.apply(e);
    return rows === undefined ? undefined : this.columns.apply(rows);
  }

  private dropsStatement(t: EventType | undefined): boolean {
    return isTableDdl(t) ? this.drop.ddl === true : this.drop.dcl === true;
  }

  private dropsDml(e: ParsedEntry, t: EventType | undefined): boolean {
    const d = this.drop;
    if (d.rows === true || d.queryDml === true || d.tableErrors === true) {
      // A rows event carries its table id; a statement (STATEMENT/MIXED format) carries its SQL instead.
      const fromRows = e.rowChange?.tableId !== undefined;
      if (fromRows ? d.rows === true || (d.tableErrors === true && e.tableMissing === true) : d.queryDml === true && isDml(t)) return true;
    }
    return (
      (t === EventType.INSERT && this.drop.insert === true) ||
      (t === EventType.UPDATE && this.drop.update === true) ||
      (t === EventType.DELETE && this.drop.delete === true)
    );
  }
}

function isDml(t: EventType | undefined): boolean {
  return t === EventType.INSERT || t === EventType.UPDATE || t === EventType.DELETE;
}

/**
 * Canal's filter.transaction.entry: BEGIN and END entries are dropped, except that one passes
 * when its binlog time is more than the interval away from the last one passed or more than the
 * threshold were dropped since, so consumers still see transactions close now and then.
 */
class TransactionEntryThinner {
  private count = 0;
  private lastTs = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly threshold: number,
  ) {}

  keep(e: ParsedEntry): boolean {
    const ts = e.header.executeTime ?? e.position.timestamp;
    this.count++;
    if (this.count <= this.threshold && Math.abs(ts - this.lastTs) <= this.intervalMs) return false;
    this.count = 0;
    this.lastTs = ts;
    return true;
  }
}

/**
 * One source's pass through the sink. A BEGIN is held back until its transaction yields a row
 * that survives filtering; a transaction that yields none is dropped, except that one empty pair
 * passes when 5 s of binlog time have gone by since the last one passed or 8192 were suppressed
 * (Canal's EntryEventSink rule), so a consumer's cursor moves even when every row is filtered out.
 */
export class SinkStream {
  private heldBegin: ParsedEntry | undefined;
  private inTransaction = false;
  private beginSent = false;
  private suppressedSincePass = 0;
  private lastEmptyPassTs: number | undefined;
  private readonly counters: SinkStreamStats = {
    lastPosition: undefined,
    entriesIn: 0,
    entriesOut: 0,
    emptyTransactionsSuppressed: 0,
    emptyTransactionsPassed: 0,
  };

  private readonly thinner: TransactionEntryThinner | undefined;

  constructor(private readonly sink: EventSink) {
    if (sink.drop.transactionEntries === true) this.thinner = new TransactionEntryThinner(sink.emptyTransactionIntervalMs, sink.emptyTransactionThreshold);
  }

  filter(entries: ParsedEntry[]): ParsedEntry[] {
    const out = this.filterTransactions(entries);
    if (this.thinner === undefined) return out;
    const thinned = out.filter((e) => (e.entryType !== EntryType.TRANSACTIONBEGIN && e.entryType !== EntryType.TRANSACTIONEND) || this.thinner!.keep(e));
    this.counters.entriesOut -= out.length - thinned.length;
    return thinned;
  }

  private filterTransactions(entries: ParsedEntry[]): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    for (const e of entries) {
      this.counters.lastPosition = e.position;
      switch (e.entryType) {
        case EntryType.HEARTBEAT:
        case EntryType.GTIDLOG:
          break;
        case EntryType.TRANSACTIONBEGIN:
          // A BEGIN inside an open transaction means the source restarted it (a replay after a
          // reconnect): the newer BEGIN starts the transaction over.
          this.heldBegin = e;
          this.inTransaction = true;
          this.beginSent = false;
          break;
        case EntryType.TRANSACTIONEND:
          this.endTransaction(e, out);
          break;
        default: {
          const kept = this.sink.keepRow(e);
          if (kept === undefined) break;
          if (this.inTransaction && !this.beginSent && this.heldBegin !== undefined) {
            out.push(this.heldBegin);
            this.beginSent = true;
          }
          out.push(kept);
        }
      }
    }
    this.counters.entriesIn += entries.length;
    this.counters.entriesOut += out.length;
    return out;
  }

  stats(): SinkStreamStats {
    return { ...this.counters };
  }

  private endTransaction(end: ParsedEntry, out: ParsedEntry[]): void {
    const begin = this.heldBegin;
    const wasOpen = this.inTransaction;
    const sent = this.beginSent;
    this.heldBegin = undefined;
    this.inTransaction = false;
    this.beginSent = false;
    // An END without its BEGIN (the stream started inside a transaction) is still a boundary worth keeping.
    if (!wasOpen || sent || begin === undefined) {
      out.push(end);
      return;
    }
    const ts = end.position.timestamp;
    this.suppressedSincePass++;
    const due =
      this.lastEmptyPassTs === undefined ||
      Math.abs(ts - this.lastEmptyPassTs) > this.sink.emptyTransactionIntervalMs ||
      this.suppressedSincePass > this.sink.emptyTransactionThreshold;
    if (!due) {
      this.counters.emptyTransactionsSuppressed++;
      return;
    }
    this.suppressedSincePass = 0;
    this.lastEmptyPassTs = ts;
    this.counters.emptyTransactionsPassed++;
    out.push(begin, end);
  }
}
