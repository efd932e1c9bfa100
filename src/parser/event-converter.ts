// Turns binlog events (sluice's own decoder's, or zongji's in the reference tests) into Canal entries (the Entry model in docs/client.md and docs/protocol.md), keeping the
// stream's position: current file, offsets, the transaction's GTID and the executed GTID set.
// Synchronous and free of I/O: table metadata must already be in the cache when a table map
// arrives (EventParser loads it first, holding later events back meanwhile).
import { formatMariadbPosition, MysqlGtidSet, parseMariadbPosition as parsePosition } from '../binlog/gtid.ts';
import { RowsEvent, TableMapEvent } from '../binlog/events.ts';
import { entryFromSchema, type TableMapEntry } from '../binlog/table-map.ts';
import { EntryType, EventType, entryPosition, type Header, type ParsedEntry, type Pair, type RowData } from '../protocol/entry-model.ts';
import type { ColumnFormatOptions, TableCodec, TableMapInput, TableMeta } from './columns/types.ts';
import { classifyStatement, namesTouched, type StatementKind } from './ddl.ts';
import { ParserError } from './errors.ts';

/** MySQL type code of MariaDB/MySQL source: Canal's Header.sourceType MYSQL. */
const SOURCE_TYPE_MYSQL = 2;
const BINLOG_HEADER_LENGTH = 19;
const CHECKSUM_LENGTH = 4;

/** The fields of a zongji event the converter reads; zongji's own classes satisfy it. */
export interface BinlogEventLike {
  getEventName(): string;
  /** sluice's own events carry their name */
  eventName?: string;
  timestamp: number;
  nextPosition: number;
  size: number;
  gtid?: string;
  /** zongji's table map entry for the event's table id as it was when the event arrived */
  mapEntry?: TableMapEntry;
  [field: string]: unknown;
}

/** What the converter needs of the table map event zongji hands over (plus its cached entry). */
export interface TableMapEventLike extends BinlogEventLike {
  tableId: number;
  schemaName: string;
  tableName: string;
  columnTypes: number[];
  tableMap: Record<number, TableMapEntry>;
}

/** The columns module's buildTableCodec: called with the table map event itself. */
export type CodecFactory = (tableMap: TableMapInput, meta: TableMeta | undefined, opts: ColumnFormatOptions) => TableCodec;

export interface MetaLookup {
  get(schema: string, table: string): TableMeta | undefined;
  /** whether get() has an answer (undefined then means the table does not exist now) */
  has?(schema: string, table: string): boolean;
  invalidate(names: readonly string[]): void;
  invalidateSchema(schema: string): void;
}

export interface ConverterOptions {
  /** binlog file the stream starts in (a rotate event at dump start confirms it) */
  file: string;
  /** offset the stream starts at */
  offset?: number;
  /** executed GTID position before the first event ('' if unknown or the source has none) */
  gtidSeed: string;
  flavor: 'mariadb' | 'mysql';
  /** source's @@server_id, for events outside a GTID group */
  sourceServerId: number;
  /** whether events end in a CRC32 checksum (zongji's event.size excludes it) */
  checksum: boolean;
  meta: MetaLookup;
  buildCodec: CodecFactory;
  /** a row change logged as a statement (STATEMENT or MIXED binlog format) was read */
  onStatementDml?: (schema: string, table: string, at: { file: string; offset: number }) => void;
  format: ColumnFormatOptions;
}

/**
 * What a codec was built from: names, the table map's column type codes, and per column its name,
 * COLUMN_TYPE (with lengths and scales) and signedness. Any change needs a new codec.
 */
export interface TableShape {
  schema: string;
  table: string;
  columnTypes: readonly number[];
  columns: readonly ColumnShape[];
}

/** The parts of one zongji column schema that decide how its values convert. */
interface ColumnShape {
  name: unknown;
  type: unknown;
  unsigned: boolean;
}

type ColumnSchema = TableMapEntry['columnSchemas'][number];

interface MappedTable extends TableShape {
  codec: TableCodec;
  /**
   * The arrays the shape was copied from. sluice's decoder hands a table map with the same bytes
   * the same (never again written) arrays, so finding them again proves the same shape.
   */
  srcTypes: readonly number[];
  srcSchemas: readonly ColumnSchema[];
  /** the source has no such table now (its metadata could not be read): Canal's "table error" */
  missing: boolean;
}

/** A copy of the parts of a table map that sameTableShape compares (zongji may reuse its objects). */
export function tableShape(schema: string, table: string, columnTypes: readonly number[], columnSchemas: readonly ColumnSchema[]): TableShape {
  return {
    schema,
    table,
    columnTypes: [...columnTypes],
    columns: columnSchemas.map((c): ColumnShape => ({ name: c.COLUMN_NAME, type: c.COLUMN_TYPE, unsigned: c.UNSIGNED === true })),
  };
}

/** One replication domain's entry in a MariaDB GTID position. */
export interface MariadbDomainGtid {
  domainId: number;
  text: string;
}

/** A GTID position ('' or 'D-S-N,...'), validated, as per-domain entries in domain order. */
export function parseMariadbPosition(text: string): MariadbDomainGtid[] {
  return parsePosition(text).map((g) => ({ domainId: g.domainId, text: formatMariadbPosition([g]) }));
}

/**
 * Records a group's GTID as its domain's last (an overwrite, as MariadbGtidPosition.add does) and
 * returns the position's text, the same as MariadbGtidPosition.toString() gives. Kept as text
 * because it changes with every transaction and is read as text by every entry.
 */
export function addMariadbGtid(domains: MariadbDomainGtid[], domainId: number, serverId: number, seqNo: number | string): string {
  // Sequence numbers are u64: zongji gives an exact string beyond 2^53, which BigInt keeps exact.
  const seq = typeof seqNo === 'number' && Number.isSafeInteger(seqNo) ? String(seqNo) : BigInt(seqNo).toString();
  const text = `${domainId}-${serverId}-${seq}`;
  let i = 0;
  while (i < domains.length && domains[i]!.domainId < domainId) i++;
  if (i < domains.length && domains[i]!.domainId === domainId) domains[i]!.text = text;
  else domains.splice(i, 0, { domainId, text });
  if (domains.length === 1) return text;
  let out = domains[0]!.text;
  for (let k = 1; k < domains.length; k++) out += `,${domains[k]!.text}`;
  return out;
}

/**
 * The names the converter switches on, as literals: zongji's getEventName() lower-cases its class
 * name into a new string for every event, which each comparison then reads character by
 * character; a literal compares by identity.
 */
const EVENT_NAMES = new Map<string, string>(
  [
    'mariadbgtid', 'gtid', 'anonymousgtid', 'query', 'xid', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'rotate',
    'xaprepare', 'format', 'heartbeat', 'mariadbgtidlist', 'binlogcheckpoint', 'previousgtids', 'intvar', 'annotaterows',
    'rowsquery', 'startencryption', 'unknown', 'transactionpayload', 'partialupdaterows',
  ].map((n) => [n, n]),
);
const namesByClass = new Map<unknown, string>();

/**
 * event.getEventName(), remembered per event class: zongji's name depends on the class alone.
 * Objects that carry their own getEventName (test doubles) are asked every time.
 */
export function eventNameOf(event: BinlogEventLike): string {
  const own = event.eventName;
  if (typeof own === 'string') return own;
  const cls = event.constructor;
  let name = namesByClass.get(cls);
  if (name !== undefined) return name;
  const asked = event.getEventName();
  name = EVENT_NAMES.get(asked) ?? asked;
  if (cls !== Object && cls !== undefined && !Object.prototype.hasOwnProperty.call(event, 'getEventName')) namesByClass.set(cls, name);
  return name;
}

/** A rows event's header props by row count: shared and frozen (nothing writes entry props). */
const rowsCountProps: (Pair[] | undefined)[] = [];

function rowsCount(n: number): Pair[] {
  if (n >= 64) return [{ key: 'rowsCount', value: String(n) }];
  let props = rowsCountProps[n];
  if (props === undefined) {
    props = Object.freeze([Object.freeze({ key: 'rowsCount', value: String(n) })]) as unknown as Pair[];
    rowsCountProps[n] = props;
  }
  return props;
}

/** Events that lie between event groups: none of them can start the reading of a transaction. */
const BETWEEN_GROUPS = new Set(['rotate', 'format', 'heartbeat', 'mariadbgtidlist', 'binlogcheckpoint', 'previousgtids', 'startencryption']);

/** Events yield no entry far more often than one: share one (frozen) empty result. */
const NO_ENTRIES: ParsedEntry[] = Object.freeze([]) as unknown as ParsedEntry[];

/**
 * Whether a table map describes the table a codec was built for: same names, column type codes,
 * and per column the name, COLUMN_TYPE and signedness (any change needs a new codec). Compared
 * field by field because a table map arrives with every transaction.
 */
export function sameTableShape(known: TableShape, schema: string, table: string, columnTypes: readonly number[], columnSchemas: readonly ColumnSchema[]): boolean {
  if (known.schema !== schema || known.table !== table) return false;
  const types = known.columnTypes;
  if (types.length !== columnTypes.length) return false;
  for (let i = 0; i < types.length; i++) if (types[i] !== columnTypes[i]) return false;
  const cols = known.columns;
  if (cols.length !== columnSchemas.length) return false;
  for (let i = 0; i < cols.length; i++) {
    const k = cols[i]!;
    const c = columnSchemas[i]!;
    if (k.name !== c.COLUMN_NAME || k.type !== c.COLUMN_TYPE || k.unsigned !== (c.UNSIGNED === true)) return false;
  }
  return true;
}

export class EventConverter {
  /** current binlog file */
  file: string;
  /** end offset of the last event read in `file` (0 before any) */
  offset = 0;
  /** timestamp (ms) of the last event with a real time */
  lastEventTimestamp = 0;
  private readonly opts: ConverterOptions;
  private readonly headerLength: number;
  /** MariaDB: each replication domain's last GTID ('domain-server-seq'), by ascending domain id */
  private mariaDomains: MariadbDomainGtid[] = [];
  private mysqlSet: MysqlGtidSet | undefined;
  private gtidSetText: string;
  private groupServerId: number | undefined;
  /** table maps by table id, kept across transactions so codecs are built once per table */
  private readonly tables = new Map<number, MappedTable>();
  /**
   * Table ids mapped since the current event group began (rows may only use these): the group
   * number each id was last mapped in. A new group is a new number, not a cleared set (a Set's
   * clear allocates a new table, twice per transaction).
   */
  private readonly mappedIn = new Map<number, number>();
  private group = 0;
  /**
   * The resume point of the entries since the last boundary (exact resume): where reading must
   * start to make them again, the GTID position there, and how many entries were made since.
   * An offset of −1: not known yet (a start at a GTID position); the first event of a group fixes it.
   */
  private anchorFile: string;
  private anchorOffset: number;
  private anchorGtid: string;
  private sinceAnchor = 0;

  constructor(opts: ConverterOptions) {
    this.opts = opts;
    this.file = opts.file;
    this.offset = opts.offset ?? 0;
    this.headerLength = BINLOG_HEADER_LENGTH + (opts.checksum ? CHECKSUM_LENGTH : 0);
    this.gtidSetText = opts.gtidSeed;
    this.anchorFile = opts.file;
    this.anchorOffset = opts.file !== '' ? (opts.offset ?? 0) : -1;
    this.anchorGtid = opts.gtidSeed;
    if (opts.flavor === 'mariadb') this.mariaDomains = parseMariadbPosition(opts.gtidSeed);
    else if (opts.gtidSeed !== '') this.mysqlSet = MysqlGtidSet.parse(opts.gtidSeed);
  }

  /** The executed GTID position after the last completed group ('' when unknown). */
  get gtidSet(): string {
    return this.gtidSetText;
  }

  /** The table a table map event names, when its metadata is not cached yet (the caller loads it first). */
  tableNeedingMeta(
    event: BinlogEventLike,
    cached: (schema: string, table: string) => boolean,
    name: string = eventNameOf(event),
  ): { schema: string; table: string } | undefined {
    if (name !== 'tablemap') return undefined;
    const e = event as TableMapEventLike;
    return cached(e.schemaName, e.tableName) ? undefined : { schema: e.schemaName, table: e.tableName };
  }

  /**
   * Converts one event. Returns the entries it yields (zero or one). Throws a fatal ParserError
   * for an event that may carry row changes but cannot be decoded.
   */
  convert(event: BinlogEventLike, name: string = eventNameOf(event)): ParsedEntry[] {
    if (event.timestamp > 0) this.lastEventTimestamp = event.timestamp;
    if (this.anchorOffset < 0 && !BETWEEN_GROUPS.has(name)) {
      this.anchorFile = this.file;
      this.anchorOffset = this.startOffset(event);
      this.anchorGtid = this.gtidSetText;
    }
    const out = this.dispatch(name, event);
    // Rotate events carry the old file's offset in their header; the dispatch already moved to the new file.
    if (name !== 'rotate' && event.nextPosition > 0) this.offset = event.nextPosition;
    return out;
  }

  private dispatch(name: string, event: BinlogEventLike): ParsedEntry[] {
    switch (name) {
      case 'mariadbgtid':
        return this.onMariadbGtid(event);
      case 'gtid':
        this.group++;
        this.groupServerId = undefined;
        if (!this.mysqlSet) this.mysqlSet = new MysqlGtidSet();
        this.mysqlSet.add(String(event.gtid));
        this.gtidSetText = this.mysqlSet.toString();
        return NO_ENTRIES;
      case 'anonymousgtid':
        this.group++;
        this.groupServerId = undefined;
        return NO_ENTRIES;
      case 'query':
        return this.onQuery(event);
      case 'xid':
        this.group++;
        return [this.entry(event, EntryType.TRANSACTIONEND, { schema: '', table: '' }, { end: { transactionId: String(event.xid) } })];
      case 'tablemap':
        if (event instanceof TableMapEvent) this.onOwnTableMap(event);
        else this.onTableMap(event as TableMapEventLike);
        return NO_ENTRIES;
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        return event instanceof RowsEvent ? this.onOwnRows(name, event) : this.onRows(name, event);
      case 'rotate':
        this.file = String(event.binlogName);
        this.offset = Number(event.position);
        if (this.sinceAnchor === 0 && this.anchorOffset >= 0) {
          this.anchorFile = this.file;
          this.anchorOffset = this.offset;
        }
        return NO_ENTRIES;
      case 'xaprepare':
        this.group++;
        return NO_ENTRIES;
      case 'format':
      case 'heartbeat':
      case 'mariadbgtidlist':
      case 'binlogcheckpoint':
      case 'previousgtids':
      case 'intvar':
      case 'annotaterows':
      case 'rowsquery':
      case 'startencryption':
        return NO_ENTRIES;
      case 'unknown':
        // Codes zongji does not know. The one MariaDB writes in ROW mode is the STOP event of a clean
        // shutdown, which has an empty body; anything with a body might hold changes we would lose.
        if (event.size === 0) return NO_ENTRIES;
        throw new ParserError(
          `binlog event at ${this.file}:${this.startOffset(event)} (${event.size} bytes) has a type the parser does not decode; ` +
            'refusing to skip it because it may carry row changes',
          { fatal: true },
        );
      case 'transactionpayload':
        throw new ParserError(
          `binlog event at ${this.file}:${this.startOffset(event)} is a TRANSACTION_PAYLOAD_EVENT (MySQL binlog_transaction_compression=ON), ` +
            'which the parser cannot decode; set binlog_transaction_compression=OFF on the source',
          { fatal: true },
        );
      case 'partialupdaterows':
        throw new ParserError(
          `binlog event at ${this.file}:${this.startOffset(event)} is a PARTIAL_UPDATE_ROWS_EVENT (MySQL binlog_row_value_options=PARTIAL_JSON), ` +
            "which the parser cannot decode; set binlog_row_value_options='' on the source",
          { fatal: true },
        );
      default:
        throw new ParserError(`binlog event '${name}' at ${this.file}:${this.startOffset(event)} is not handled by the parser`, { fatal: true });
    }
  }

  private onMariadbGtid(event: BinlogEventLike): ParsedEntry[] {
    this.group++;
    const serverId = Number(event.serverId);
    this.groupServerId = serverId;
    this.gtidSetText = addMariadbGtid(this.mariaDomains, Number(event.domainId), serverId, event.seqNo as number | string);
    // Standalone groups (DDL) have no BEGIN; XA groups open with their own XA START statement.
    if (event.standalone === true || event.preparedXa === true || event.completedXa === true) return NO_ENTRIES;
    const begin: { threadId?: number } = {};
    if (typeof event.threadId === 'number') begin.threadId = event.threadId;
    return [this.entry(event, EntryType.TRANSACTIONBEGIN, { schema: '', table: '' }, { begin })];
  }

  private onQuery(event: BinlogEventLike): ParsedEntry[] {
    const sql = String(event.query);
    const session = String(event.schema ?? '');
    const k: StatementKind = classifyStatement(sql, session);
    switch (k.kind) {
      case 'begin':
        this.group++;
        return [this.entry(event, EntryType.TRANSACTIONBEGIN, { schema: '', table: '' }, { begin: { threadId: Number(event.slaveProxyId) } })];
      case 'commit':
      case 'rollback':
        this.group++;
        return [this.entry(event, EntryType.TRANSACTIONEND, { schema: '', table: '' }, { end: { transactionId: '0' } })];
      case 'savepoint':
        return NO_ENTRIES;
      case 'xa': {
        const props: Pair[] = [
          { key: 'XA_TYPE', value: `XA ${k.phase}` },
          { key: 'XA_XID', value: k.xid },
        ];
        if (k.phase === 'START') return [this.entry(event, EntryType.TRANSACTIONBEGIN, { schema: '', table: '' }, { begin: { threadId: Number(event.slaveProxyId), props } })];
        if (k.phase === 'END') return [this.entry(event, EntryType.TRANSACTIONEND, { schema: '', table: '' }, { end: { transactionId: '0', props } })];
        if (k.phase === 'PREPARE') return NO_ENTRIES;
        const eventType = k.phase === 'COMMIT' ? EventType.XACOMMIT : EventType.XAROLLBACK;
        return [
          this.entry(event, EntryType.ROWDATA, { schema: session, table: '' }, {
            eventType,
            rowChange: { eventType, isDdl: false, sql, rowDatas: [], props },
          }),
        ];
      }
      case 'dml':
        this.opts.onStatementDml?.(k.schema, k.table, { file: this.file, offset: this.startOffset(event) });
        return [
          this.entry(event, EntryType.ROWDATA, { schema: k.schema, table: k.table }, {
            eventType: k.eventType,
            rowChange: { eventType: k.eventType, isDdl: false, sql, rowDatas: [] },
          }),
        ];
      case 'ddl': {
        const touched = namesTouched(k);
        if (touched.length > 0) {
          this.opts.meta.invalidate(touched);
          this.dropCodecs(touched);
        } else {
          this.opts.meta.invalidateSchema(k.schema);
        }
        const e = this.entry(event, EntryType.ROWDATA, { schema: k.schema, table: k.table }, {
          eventType: k.eventType,
          rowChange: { eventType: k.eventType, isDdl: true, sql, rowDatas: [], ...(session !== '' ? { ddlSchemaName: session } : {}) },
        });
        if (k.alsoNames.length > 0) e.alsoNames = k.alsoNames;
        return [e];
      }
    }
  }

  private onTableMap(e: TableMapEventLike): void {
    const entry = e.mapEntry ?? e.tableMap[e.tableId];
    if (!entry || entry.parentSchema !== e.schemaName || entry.tableName !== e.tableName) {
      throw new ParserError(
        `table map for ${e.schemaName}.${e.tableName} (table id ${e.tableId}) at ${this.file}:${this.startOffset(e)} was not decoded by zongji`,
        { fatal: true },
      );
    }
    const known = this.tables.get(e.tableId);
    const reused = known !== undefined && known.srcSchemas === entry.columnSchemas && known.srcTypes === e.columnTypes && known.schema === e.schemaName && known.table === e.tableName;
    if (!reused && (!known || !sameTableShape(known, e.schemaName, e.tableName, e.columnTypes, entry.columnSchemas))) {
      const meta = this.opts.meta.get(e.schemaName, e.tableName);
      // If zongji has since replaced its entry for this id, show the codec the entry of this event.
      const input: TableMapInput =
        e.tableMap[e.tableId] === entry ? e : (Object.create(e, { tableMap: { value: { [e.tableId]: entry } } }) as TableMapEventLike);
      const codec = this.opts.buildCodec(input, meta, this.opts.format);
      const missing = meta === undefined && this.opts.meta.has?.(e.schemaName, e.tableName) === true;
      this.tables.set(e.tableId, { ...tableShape(e.schemaName, e.tableName, e.columnTypes, entry.columnSchemas), codec, srcTypes: e.columnTypes, srcSchemas: entry.columnSchemas, missing });
    } else if (!reused) {
      known.srcTypes = e.columnTypes;
      known.srcSchemas = entry.columnSchemas;
    }
    this.mappedIn.set(e.tableId, this.group);
  }

  /**
   * A table map of sluice's own decoder. Table maps with equal bytes share one decode, so finding
   * the same arrays again proves the same table; anything else gets a new codec.
   */
  private onOwnTableMap(e: TableMapEvent): void {
    let entry = e.mapEntry;
    if (entry === undefined) {
      // no FULL metadata (or MariaDB 5.3 temporal columns): the table as information_schema has it now
      const meta = this.opts.meta.get(e.schemaName, e.tableName);
      if (meta?.columnSchemas === undefined) {
        throw new ParserError(
          `table map for ${e.schemaName}.${e.tableName} at ${this.file}:${this.startOffset(e)} carries no column metadata ` +
            '(binlog_row_metadata=FULL) and information_schema no longer describes the table; ' +
            'tables with pre-MySQL-5.6 temporal columns need ALTER TABLE ... FORCE on the source',
          { fatal: true },
        );
      }
      try {
        entry = entryFromSchema(e.decoded, meta.columnSchemas);
      } catch (err) {
        throw new ParserError(`${(err as Error).message} (at ${this.file}:${this.startOffset(e)})`, { fatal: true, cause: err });
      }
      e.decoded.entry = entry;
      e.mapEntry = entry;
      e.tableMap[e.tableId] = entry;
    }
    const known = this.tables.get(e.tableId);
    if (known === undefined || known.srcSchemas !== entry.columnSchemas || known.srcTypes !== e.columnTypes || known.schema !== e.schemaName || known.table !== e.tableName) {
      const meta = this.opts.meta.get(e.schemaName, e.tableName);
      const codec = this.opts.buildCodec(e, meta, this.opts.format);
      const missing = meta === undefined && this.opts.meta.has?.(e.schemaName, e.tableName) === true;
      this.tables.set(e.tableId, { ...tableShape(e.schemaName, e.tableName, e.columnTypes, entry.columnSchemas), codec, srcTypes: e.columnTypes, srcSchemas: entry.columnSchemas, missing });
    }
    this.mappedIn.set(e.tableId, this.group);
  }

  private onOwnRows(kind: 'writerows' | 'updaterows' | 'deleterows', event: RowsEvent): ParsedEntry[] {
    const tableId = event.tableId;
    const mapped = this.tables.get(tableId);
    if (!mapped || this.mappedIn.get(tableId) !== this.group || mapped.codec.decodeRows === undefined) {
      throw new ParserError(
        `rows event at ${this.file}:${this.startOffset(event)} refers to table id ${tableId}, which no table map of its transaction describes`,
        { fatal: true },
      );
    }
    let rowDatas: RowData[];
    try {
      rowDatas = mapped.codec.decodeRows(kind, { buf: event.rowsBuf, start: event.rowsStart, end: event.rowsEnd, present: event.present, presentAfter: event.presentAfter });
    } catch (err) {
      throw new ParserError(`could not decode the rows event of ${mapped.schema}.${mapped.table} at ${this.file}:${this.startOffset(event)}: ${(err as Error).message}`, {
        fatal: true,
        cause: err,
      });
    }
    const eventType = kind === 'writerows' ? EventType.INSERT : kind === 'updaterows' ? EventType.UPDATE : EventType.DELETE;
    const e = this.entry(event, EntryType.ROWDATA, { schema: mapped.schema, table: mapped.table }, {
      eventType,
      props: rowDatas.length > 0 ? rowsCount(rowDatas.length) : undefined,
      rowChange: { tableId, eventType, isDdl: false, rowDatas },
    });
    if (mapped.missing) e.tableMissing = true;
    return [e];
  }

  private onRows(kind: 'writerows' | 'updaterows' | 'deleterows', event: BinlogEventLike): ParsedEntry[] {
    const tableId = Number(event.tableId);
    const mapped = this.tables.get(tableId);
    const zjMap = event.mapEntry ?? (event.tableMap as Record<number, TableMapEntry> | undefined)?.[tableId];
    // Decoding rows with another table's map would silently mislabel data: refuse instead.
    if (!mapped || this.mappedIn.get(tableId) !== this.group || !zjMap || zjMap.parentSchema !== mapped.schema || zjMap.tableName !== mapped.table) {
      throw new ParserError(
        `rows event at ${this.file}:${this.startOffset(event)} refers to table id ${tableId}, which no table map of its transaction describes`,
        { fatal: true },
      );
    }
    const rows = event.rows as unknown[];
    const eventType = kind === 'writerows' ? EventType.INSERT : kind === 'updaterows' ? EventType.UPDATE : EventType.DELETE;
    const rowDatas = mapped.codec.toRowDatas(kind, rows, event.columns_present_bitmap as Buffer | undefined, event.columns_present_bitmap2 as Buffer | undefined);
    const e = this.entry(event, EntryType.ROWDATA, { schema: mapped.schema, table: mapped.table }, {
      eventType,
      props: rows.length > 0 ? rowsCount(rows.length) : undefined,
      rowChange: { tableId, eventType, isDdl: false, rowDatas },
    });
    if (mapped.missing) e.tableMissing = true;
    return [e];
  }

  private dropCodecs(names: readonly string[]): void {
    const set = new Set(names);
    for (const [id, t] of this.tables) {
      if (set.has(`${t.schema}.${t.table}`)) {
        this.tables.delete(id);
        this.mappedIn.delete(id);
      }
    }
  }

  private startOffset(event: BinlogEventLike): number {
    return event.nextPosition > 0 ? event.nextPosition - (event.size + this.headerLength) : this.offset;
  }

  private entry(
    event: BinlogEventLike,
    entryType: EntryType,
    names: { schema: string; table: string },
    body: {
      eventType?: EventType;
      props?: Pair[] | undefined;
      rowChange?: ParsedEntry['rowChange'];
      begin?: ParsedEntry['begin'];
      end?: ParsedEntry['end'];
    },
  ): ParsedEntry {
    const eventLength = event.size + this.headerLength;
    const offset = this.startOffset(event);
    const serverId = this.groupServerId ?? this.opts.sourceServerId;
    const header: Header = {
      version: 1,
      logfileName: this.file,
      logfileOffset: offset,
      serverId,
      serverenCode: 'UTF-8',
      executeTime: event.timestamp,
      sourceType: SOURCE_TYPE_MYSQL,
      schemaName: names.schema,
      tableName: names.table,
      eventLength,
    };
    if (body.eventType !== undefined) header.eventType = body.eventType;
    if (body.props) header.props = body.props;
    if (this.gtidSetText !== '') header.gtid = this.gtidSetText;
    const gtid = typeof event.gtid === 'string' ? event.gtid : '';
    let position;
    if (entryType === EntryType.TRANSACTIONEND || body.rowChange?.isDdl === true) {
      // A boundary: a restart after it begins right after it, and so do the entries that follow.
      position = entryPosition(this.file, offset, event.nextPosition, serverId, event.timestamp, gtid, this.gtidSetText);
      this.anchorFile = this.file;
      this.anchorOffset = event.nextPosition;
      this.anchorGtid = this.gtidSetText;
      this.sinceAnchor = 0;
    } else {
      this.sinceAnchor++;
      position = entryPosition(this.file, offset, event.nextPosition, serverId, event.timestamp, gtid, this.gtidSetText, {
        file: this.anchorFile,
        offset: this.anchorOffset,
        gtidSet: this.anchorGtid,
        skip: this.sinceAnchor,
      });
    }
    const e: ParsedEntry = { entryType, header, position };
    if (body.rowChange) e.rowChange = body.rowChange;
    if (body.begin) e.begin = body.begin;
    if (body.end) e.end = body.end;
    return e;
  }
}
