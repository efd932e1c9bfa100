// Entries as a consumer wants them: enum names instead of numbers, the header flattened, and
// each row as `before`/`after` maps of column name to the exact Column string (null for NULL).
import type { DecodedEntry } from '../protocol/entry-codec.ts';
import { decodeEntryFast } from './entry-decoder.ts';
import { EntryType, EntryTypeName as entryTypeNames, EventTypeName as eventTypeNames, type Column, type Header } from '../protocol/entry-model.ts';

export type EntryTypeName = 'TRANSACTIONBEGIN' | 'ROWDATA' | 'TRANSACTIONEND' | 'HEARTBEAT' | 'GTIDLOG' | `UNKNOWN_${number}`;
export type EventTypeName =
  | 'INSERT' | 'UPDATE' | 'DELETE' | 'CREATE' | 'ALTER' | 'ERASE' | 'QUERY' | 'TRUNCATE' | 'RENAME'
  | 'CINDEX' | 'DINDEX' | 'GTID' | 'XACOMMIT' | 'XAROLLBACK' | 'MHEARTBEAT' | `UNKNOWN_${number}`;

export type RowValues = Record<string, string | null>;

export interface CanalRow {
  /** DELETE and UPDATE rows; {} for INSERT */
  before: RowValues;
  /** INSERT and UPDATE rows; {} for DELETE */
  after: RowValues;
  /** the Column messages as sent, for sqlType, mysqlType, isKey and updated */
  beforeColumns: Column[];
  afterColumns: Column[];
}

export interface CanalEntry {
  entryType: EntryTypeName;
  logfileName: string;
  /** start offset of the binlog event */
  logfileOffset: number;
  serverId: number;
  /** event time in ms (second precision) */
  executeTime: number;
  eventLength: number;
  schemaName: string;
  tableName: string;
  /** null on transaction begin and end, which carry no event type */
  eventType: EventTypeName | null;
  isDdl: boolean;
  /** the statement text of a DDL or query; '' otherwise */
  sql: string;
  gtid: string;
  /** from a transaction end (or begin) body; '' otherwise */
  transactionId: string;
  /** header props such as rowsCount, as a map */
  props: Record<string, string>;
  rows: CanalRow[];
  /** the header exactly as decoded */
  header: Header;
}

function enumName(names: Record<number, string>, n: number): string {
  return names[n] ?? `UNKNOWN_${n}`;
}

function values(cols: Column[]): RowValues {
  const out: RowValues = {};
  for (const c of cols) out[c.name ?? ''] = c.isNull ? null : (c.value ?? '');
  return out;
}

/** Decodes one serialized Canal Entry. Throws (from protobufjs) on bytes that are not one. */
export function toCanalEntry(bytes: Uint8Array): CanalEntry {
  return canalEntryOf(decodeEntryFast(bytes));
}

/** The consumer's view of an entry decoded by either decoder. */
export function canalEntryOf(d: DecodedEntry): CanalEntry {
  const h = d.header;
  const props: Record<string, string> = {};
  for (const p of h.props ?? []) props[p.key ?? ''] = p.value ?? '';
  const rc = d.rowChange;
  const rows: CanalRow[] = (rc?.rowDatas ?? []).map((r) => ({
    before: values(r.beforeColumns),
    after: values(r.afterColumns),
    beforeColumns: r.beforeColumns,
    afterColumns: r.afterColumns,
  }));
  return {
    entryType: enumName(entryTypeNames, d.entryType) as EntryTypeName,
    logfileName: h.logfileName ?? '',
    logfileOffset: h.logfileOffset ?? 0,
    serverId: h.serverId ?? 0,
    executeTime: h.executeTime ?? 0,
    eventLength: h.eventLength ?? 0,
    schemaName: h.schemaName ?? '',
    tableName: h.tableName ?? '',
    // Canal leaves the header's event type unset on begin/end; Java would read UPDATE there,
    // which is meaningless, so absent stays null. ROWDATA takes the RowChange's own type.
    eventType: d.entryType === EntryType.ROWDATA ? (enumName(eventTypeNames, rc?.eventType ?? h.eventType ?? 2) as EventTypeName) : null,
    isDdl: rc?.isDdl ?? false,
    sql: rc?.sql ?? '',
    gtid: h.gtid ?? '',
    transactionId: d.end?.transactionId ?? d.begin?.transactionId ?? '',
    props,
    rows,
    header: h,
  };
}

/**
 * One GET result. Entries are decoded on first access and cached; `raw[i]` are the bytes as
 * received, for consumers that forward them or decode only some.
 */
export class CanalBatch implements Iterable<CanalEntry> {
  private readonly decoded: (CanalEntry | undefined)[];

  constructor(
    /** -1 for an empty result */
    readonly id: number,
    readonly raw: readonly Uint8Array[],
  ) {
    this.decoded = new Array<CanalEntry | undefined>(raw.length);
  }

  get size(): number {
    return this.raw.length;
  }

  get isEmpty(): boolean {
    return this.raw.length === 0;
  }

  /** The i-th entry, decoded now if it was not yet. */
  entry(i: number): CanalEntry {
    const bytes = this.raw[i];
    if (bytes === undefined) throw new RangeError(`batch ${this.id} has ${this.raw.length} entries; there is no entry ${i}`);
    let e = this.decoded[i];
    if (e === undefined) {
      e = toCanalEntry(bytes);
      this.decoded[i] = e;
    }
    return e;
  }

  /** Every entry, decoded. */
  get entries(): CanalEntry[] {
    const out: CanalEntry[] = [];
    for (let i = 0; i < this.raw.length; i++) out.push(this.entry(i));
    return out;
  }

  /** Rows across all entries. */
  get rowCount(): number {
    let n = 0;
    for (const e of this) n += e.rows.length;
    return n;
  }

  *[Symbol.iterator](): Iterator<CanalEntry> {
    for (let i = 0; i < this.raw.length; i++) yield this.entry(i);
  }
}
