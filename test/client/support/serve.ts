// Serving a real EventStore through StoreDestination and CanalServer on a loopback port, fed
// either with synthetic transactions (fast, exact) or by the real parser from a MariaDB sandbox.
import { CanalServer, type CanalServerOptions } from '../../../src/server/canal-server.ts';
import { MapRegistry } from '../../../src/server/registry.ts';
import { StoreDestination } from '../../../src/instance/store-destination.ts';
import type { DestinationStatus } from '../../../src/instance/destination.ts';
import { EventStore, type EventStoreOptions } from '../../../src/store/event-store.ts';
import type { StoreItem } from '../../../src/store/store-item.ts';
import { EventSink } from '../../../src/sink/event-sink.ts';
import { Pump } from '../../../src/sink/pump.ts';
import { EventParser } from '../../../src/parser/event-parser.ts';
import { EntryType, EventType, type ParsedEntry } from '../../../src/protocol/entry-model.ts';
import type { Sandbox } from '../../support/sandbox.ts';

export interface Served {
  server: CanalServer;
  port: number;
  tlsPort?: number;
  store: EventStore;
  dest: StoreDestination<StoreItem>;
  state: DestinationStatus;
  put(entries: ParsedEntry[]): void;
  /** closes every client connection from the server side */
  dropSessions(reason: string): void;
  stop(): Promise<void>;
}

export interface ServeOptions {
  name?: string;
  store?: Partial<EventStoreOptions>;
  server?: Partial<Omit<CanalServerOptions, 'destinations'>>;
}

export async function serve(opts: ServeOptions = {}): Promise<Served> {
  const store = new EventStore({ maxEntries: 100_000, maxBytes: 256 * 1024 * 1024, batchMode: 'ITEMSIZE', ...opts.store });
  const sink = new EventSink({});
  const state: DestinationStatus = { state: 'running' };
  const dest = new StoreDestination<StoreItem>({
    name: opts.name ?? 'example',
    store,
    status: () => state,
    narrow: (filter) => {
      const f = sink.narrow(filter);
      return (item) => f.accept(item);
    },
  });
  const server = new CanalServer({ port: 0, destinations: new MapRegistry([dest]), ...opts.server });
  const bound = await server.start();
  return {
    server,
    port: bound.port,
    ...(bound.tlsPort !== undefined ? { tlsPort: bound.tlsPort } : {}),
    store,
    dest,
    state,
    put(entries) {
      for (const e of entries) if (!store.tryPut(e)) throw new Error('test store is full');
    },
    dropSessions(reason) {
      for (const s of server.sessions()) s.close(reason);
    },
    async stop() {
      await server.stop();
      store.close();
    },
  };
}

/** One transaction as the parser makes it: BEGIN, an INSERT of rows id=n.., END (3 entries). */
export function transaction(n: number, rows = 1, table = 't'): ParsedEntry[] {
  const file = 'binlog.000001';
  const base = 4 + n * 300;
  const ts = 1_700_000_000_000 + n * 1000;
  const header = (offset: number): ParsedEntry['header'] => ({ version: 1, logfileName: file, logfileOffset: offset, serverId: 1, serverenCode: 'UTF-8', executeTime: ts, sourceType: 2, eventLength: 60 });
  const pos = (offset: number): ParsedEntry['position'] => ({ file, offset, nextOffset: offset + 60, serverId: 1, timestamp: ts, gtid: `0-1-${n}`, gtidSet: `0-1-${n}` });
  const rowDatas = Array.from({ length: rows }, (_, i) => ({
    beforeColumns: [],
    afterColumns: [
      { index: 0, sqlType: 4, name: 'id', isKey: true, updated: true, isNull: false, value: String(n * 1000 + i), mysqlType: 'int(11)' },
      { index: 1, sqlType: 12, name: 'note', isKey: false, updated: true, isNull: i % 2 === 1, ...(i % 2 === 1 ? {} : { value: `n${n}` }), mysqlType: 'varchar(20)' },
    ],
  }));
  return [
    { entryType: EntryType.TRANSACTIONBEGIN, header: header(base), begin: { threadId: 9 }, position: pos(base) },
    {
      entryType: EntryType.ROWDATA,
      header: { ...header(base + 100), schemaName: 'db', tableName: table, eventType: EventType.INSERT, props: [{ key: 'rowsCount', value: String(rows) }] },
      rowChange: { tableId: 42, eventType: EventType.INSERT, isDdl: false, rowDatas },
      position: pos(base + 100),
    },
    { entryType: EntryType.TRANSACTIONEND, header: header(base + 200), end: { transactionId: String(5000 + n) }, position: pos(base + 200) },
  ];
}

export function transactions(from: number, count: number, rows = 1, table = 't'): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  for (let n = from; n < from + count; n++) out.push(...transaction(n, rows, table));
  return out;
}

export interface LivePipeline extends Served {
  parser: EventParser;
}

/** sandbox -> EventParser (from the current binlog end) -> EventSink -> Pump -> EventStore -> CanalServer. */
export async function servePipeline(sb: Sandbox, opts: ServeOptions = {}): Promise<LivePipeline> {
  const served = await serve(opts);
  const parser = new EventParser({ ...sb.replConfig, slaveId: sb.serverId + 1000, start: { kind: 'end' }, destination: opts.name ?? 'example' });
  const pump = new Pump(new EventSink({}), served.store);
  pump.on('error', (err) => {
    served.state.state = 'failed';
    served.state.error = err.message;
  });
  pump.addSource(parser, 'sandbox');
  parser.on('error', (err: Error) => {
    served.state.error = err.message;
  });
  await parser.start();
  return {
    ...served,
    parser,
    async stop() {
      await parser.stop();
      await served.stop();
    },
  };
}
