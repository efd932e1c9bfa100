// What the store holds for one entry: its serialized Canal bytes (written to clients as they are)
// and the few facts that batching, filtering and cursors need, so nothing is decoded again. A
// get-time filter (a client's subscription) sees an entry as this.
import { EntryType, EventType, type EntryPosition } from '../protocol/entry-model.ts';

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
