// What the store holds for one entry: its serialized Canal bytes (written to clients as they are)
// and the few facts that batching, filtering and cursors need, so nothing is decoded again.
import { encodeEntry } from '../protocol/entry-codec.ts';
import { EntryType, EventType, isBoundary, type EntryPosition, type ParsedEntry } from '../protocol/entry-model.ts';

export interface StoreItem {
  bytes: Uint8Array;
  position: EntryPosition;
  entryType: EntryType;
  eventType?: EventType;
  isDdl: boolean;
  schema: string;
  table: string;
  /** other `schema.table` names the entry concerns (the new name of a RENAME) */
  alsoNames?: string[];
  /** a TRANSACTIONEND or a DDL: a cursor may point here */
  boundary: boolean;
  /**
   * The bytes are never written again and other stores hold them too (destinations sharing one
   * reader): the store keeps a reference instead of copying them into its block.
   */
  shared?: boolean;
}

/** Encodes once and keeps the metadata the store and the per-client filters read. */
export function storeItemFromEntry(e: ParsedEntry): StoreItem {
  const item: StoreItem = {
    bytes: encodeEntry(e),
    position: e.position,
    entryType: e.entryType,
    isDdl: e.rowChange?.isDdl === true,
    schema: e.header.schemaName ?? '',
    table: e.header.tableName ?? '',
    boundary: isBoundary(e),
  };
  const eventType = e.rowChange?.eventType ?? e.header.eventType;
  if (eventType !== undefined) item.eventType = eventType;
  if (e.alsoNames !== undefined && e.alsoNames.length > 0) item.alsoNames = e.alsoNames;
  return item;
}

const ISOLATED_DDL = new Set<number>([
  EventType.CREATE,
  EventType.ALTER,
  EventType.ERASE,
  EventType.RENAME,
  EventType.TRUNCATE,
  EventType.CINDEX,
  EventType.DINDEX,
]);

/**
 * The DDL kinds Canal's `ddl.isolation` puts alone in a batch. Other statements flagged as DDL
 * (CREATE DATABASE, GRANT: eventType QUERY) are not isolated, as in Canal.
 */
export function isIsolatedDdl(item: Pick<StoreItem, 'entryType' | 'eventType' | 'isDdl'>): boolean {
  return item.entryType === EntryType.ROWDATA && item.isDdl && item.eventType !== undefined && ISOLATED_DDL.has(item.eventType);
}
