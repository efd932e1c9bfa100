// Entries for store tests, and the test's one way to read a store: getItems() takes a batch with
// the store's one get (getBytes) and decodes each entry's bytes with the protocol's entry reader.
// `serial` is both the entry's position offset and its header's logfileOffset, so order and loss
// are visible in assertions.
import { EntryType, EventType, type EntryPosition, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { encodeEntry } from '../../src/protocol/entry-codec.ts';
import { readEntry } from '../../src/protocol/entry-reader.ts';
import type { BytesBatch, EventStore, GetOptions } from '../../src/store/event-store.ts';

export type Kind = 'begin' | 'row' | 'end' | 'ddl';

export function pos(serial: number): EntryPosition {
  return { file: 'binlog.000001', offset: serial, nextOffset: serial + 1, serverId: 1, timestamp: 1_700_000_000_000, gtid: '', gtidSet: '' };
}

function build(serial: number, kind: Kind, table: string, pad: string): ParsedEntry {
  const position = pos(serial);
  const header = { logfileName: position.file, logfileOffset: serial, gtid: pad };
  switch (kind) {
    case 'begin':
      return { entryType: EntryType.TRANSACTIONBEGIN, header, begin: {}, position };
    case 'end':
      return { entryType: EntryType.TRANSACTIONEND, header, end: {}, position };
    case 'ddl':
      return { entryType: EntryType.ROWDATA, header: { ...header, schemaName: 'db', tableName: table, eventType: EventType.ALTER }, rowChange: { eventType: EventType.ALTER, isDdl: true, rowDatas: [] }, position };
    case 'row':
      return { entryType: EntryType.ROWDATA, header: { ...header, schemaName: 'db', tableName: table, eventType: EventType.INSERT }, rowChange: { eventType: EventType.INSERT, isDdl: false, rowDatas: [] }, position };
  }
}

/** An entry and its bytes, as a store's tryPut takes them: `store.tryPut(...item(...))`. */
export type StoredEntry = [entry: ParsedEntry, encoded: Uint8Array];

/**
 * The entry of `kind` with serial `serial`, its encoding `size` bytes long (padded through its
 * header's gtid text; without `size`, as short as it gets). Throws for a size it cannot reach.
 */
export function item(serial: number, kind: Kind, size?: number, table = 't1'): StoredEntry {
  let e = build(serial, kind, table, '');
  let bytes = encodeEntry(e);
  if (size === undefined) return [e, bytes];
  // Each pad character adds a byte, and a length prefix growing adds one more now and then.
  for (let pad = Math.max(1, size - bytes.byteLength - 4); bytes.byteLength < size; pad++) {
    e = build(serial, kind, table, 'x'.repeat(pad));
    bytes = encodeEntry(e);
  }
  if (bytes.byteLength !== size) throw new Error(`test item: a ${kind} entry cannot be exactly ${size} bytes (next: ${bytes.byteLength})`);
  return [e, bytes];
}

/** The entry of `kind` padded with `pad` characters, whatever size that makes: `store.tryPut(...padded(...))`. */
export function padded(serial: number, kind: Kind, pad: number, table = 't1'): StoredEntry {
  const e = build(serial, kind, table, 'x'.repeat(pad));
  return [e, encodeEntry(e)];
}

/** An entry as a test reads it back from the store: what its decoded bytes say. */
export interface ReadItem {
  position: { file: string; offset: number };
  entryType: EntryType;
  eventType?: EventType;
  isDdl: boolean;
  schema: string;
  table: string;
  bytes: Uint8Array;
  entry: ReturnType<typeof readEntry>;
}

export interface ItemBatch extends Omit<BytesBatch, 'entries'> {
  items: ReadItem[];
}

export function readItem(bytes: Uint8Array): ReadItem {
  const entry = readEntry(bytes);
  const h = entry.header;
  const out: ReadItem = { position: { file: h.logfileName ?? '', offset: Number(h.logfileOffset ?? 0) }, entryType: entry.entryType, isDdl: entry.rowChange?.isDdl === true, schema: h.schemaName ?? '', table: h.tableName ?? '', bytes, entry };
  const eventType = entry.rowChange?.eventType ?? h.eventType;
  if (eventType !== undefined) out.eventType = eventType;
  return out;
}

/** store.getBytes with each entry decoded. */
export async function getItems(store: Pick<EventStore, 'getBytes'>, batchSize: number, timeoutMs: number, opts?: GetOptions): Promise<ItemBatch | null> {
  const b = await store.getBytes(batchSize, timeoutMs, opts);
  if (b === null) return null;
  const { entries, ...range } = b;
  return { ...range, items: entries.map(readItem) };
}

export const serials = (items: readonly { position: { offset: number } }[]): number[] => items.map((i) => i.position.offset);
