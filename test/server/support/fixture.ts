// A real EventStore filled with real encoded Canal entries, served through StoreDestination and
// CanalServer on a loopback port: everything a session test needs except MySQL.
import { EventStore, type EventStoreOptions } from '../../../src/store/event-store.ts';
import type { StoreItem } from '../../../src/store/store-item.ts';
import { EntryType, EventType, type ParsedEntry, type LogPosition } from '../../../src/protocol/entry-model.ts';
import { decodeEntry } from '../../../src/protocol/entry-codec.ts';
import { StoreDestination } from '../../../src/instance/store-destination.ts';
import { MapRegistry } from '../../../src/server/registry.ts';
import { CanalServer, type CanalServerOptions } from '../../../src/server/canal-server.ts';
import type { DestinationStatus } from '../../../src/instance/destination.ts';
import type { ServerLogger } from '../../../src/observe/server-logger.ts';

/** One transaction as the parser makes it: BEGIN, one INSERT row into db.<table>, END. */
export function transaction(n: number, table = 't'): ParsedEntry[] {
  const file = 'binlog.000001';
  const base = 4 + n * 300;
  const header = (offset: number): ParsedEntry['header'] => ({
    version: 1,
    logfileName: file,
    logfileOffset: offset,
    serverId: 1,
    serverenCode: 'UTF-8',
    executeTime: 1_700_000_000_000 + n * 1000,
    sourceType: 2,
    eventLength: 60,
  });
  const pos = (offset: number): ParsedEntry['position'] => ({ file, offset, nextOffset: offset + 60, serverId: 1, timestamp: 1_700_000_000_000 + n * 1000, gtid: `0-1-${n}`, gtidSet: `0-1-${n}` });
  return [
    { entryType: EntryType.TRANSACTIONBEGIN, header: { ...header(base), schemaName: '', tableName: '' }, begin: { threadId: 9 }, position: pos(base) },
    {
      entryType: EntryType.ROWDATA,
      header: { ...header(base + 100), schemaName: 'db', tableName: table, eventType: EventType.INSERT, props: [{ key: 'rowsCount', value: '1' }] },
      rowChange: {
        tableId: 42,
        eventType: EventType.INSERT,
        isDdl: false,
        rowDatas: [{ beforeColumns: [], afterColumns: [{ index: 0, sqlType: 4, name: 'id', isKey: true, updated: true, isNull: false, value: String(n), mysqlType: 'int(11)' }] }],
      },
      position: pos(base + 100),
    },
    { entryType: EntryType.TRANSACTIONEND, header: header(base + 200), end: { transactionId: String(1000 + n) }, position: pos(base + 200) },
  ];
}

/** The entries of transactions from..from+count-1, as the pump puts them (the store encodes them). */
export function items(from: number, count: number, table = 't'): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  for (let n = from; n < from + count; n++) out.push(...transaction(n, table));
  return out;
}

/** "B", "I:<id>", "E" per entry: compact and order-revealing. */
export function summarize(entries: Uint8Array[]): string[] {
  return entries.map((bytes) => {
    const e = decodeEntry(bytes);
    if (e.entryType === EntryType.TRANSACTIONBEGIN) return 'B';
    if (e.entryType === EntryType.TRANSACTIONEND) return 'E';
    return `I:${e.header.tableName}:${e.rowChange?.rowDatas[0]?.afterColumns[0]?.value}`;
  });
}

export interface Fixture {
  server: CanalServer;
  port: number;
  tlsPort?: number;
  store: EventStore;
  dest: StoreDestination<StoreItem>;
  registry: MapRegistry;
  state: DestinationStatus;
  acks: { clientId: string; cursor: LogPosition }[];
  subs: { clientId: string; filter: string }[];
  unsubs: string[];
  logs: { level: string; msg: string; obj: object }[];
  put(list: ParsedEntry[]): void;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  store?: Partial<EventStoreOptions>;
  server?: Partial<Omit<CanalServerOptions, 'destinations' | 'logger'>>;
  name?: string;
  /** narrowing filter factory: table-name regex on the item's table */
  narrow?: boolean;
  /** keep only error lines (long runs that would log thousands of warnings) */
  quiet?: boolean;
}

export async function startFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const store = new EventStore({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, batchMode: 'ITEMSIZE', ...opts.store });
  const logs: Fixture['logs'] = [];
  const logger: ServerLogger = {
    info: (obj, msg = '') => void (opts.quiet !== true && logs.push({ level: 'info', msg, obj })),
    warn: (obj, msg = '') => void (opts.quiet !== true && logs.push({ level: 'warn', msg, obj })),
    error: (obj, msg = '') => logs.push({ level: 'error', msg, obj }),
    debug: (obj, msg = '') => void (opts.quiet !== true && logs.push({ level: 'debug', msg, obj })),
  };
  const fx = { state: { state: 'running' }, acks: [], subs: [], unsubs: [], logs, store } as unknown as Fixture;
  const dest = new StoreDestination<StoreItem>({
    name: opts.name ?? 'example',
    store,
    status: () => fx.state,
    onAck: (clientId, cursor) => fx.acks.push({ clientId, cursor }),
    onSubscribe: (clientId, filter) => fx.subs.push({ clientId, filter }),
    onUnsubscribe: (clientId) => fx.unsubs.push(clientId),
    ...(opts.narrow === true
      ? {
          narrow: (filter: string) => {
            const re = new RegExp(`^(?:${filter})$`, 'i');
            return (item: StoreItem) => item.table === '' || re.test(`${item.schema}.${item.table}`);
          },
        }
      : {}),
    logger,
  });
  const registry = new MapRegistry([dest]);
  const server = new CanalServer({ port: 0, destinations: registry, logger, ...opts.server });
  const bound = await server.start();
  fx.server = server;
  fx.port = bound.port;
  if (bound.tlsPort !== undefined) fx.tlsPort = bound.tlsPort;
  fx.dest = dest;
  fx.registry = registry;
  fx.put = (list) => {
    for (const it of list) if (!store.tryPut(it)) throw new Error('test store full');
  };
  fx.stop = async () => {
    await server.stop();
    store.close();
  };
  return fx;
}
