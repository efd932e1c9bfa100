// Synthetic store items for store tests: `offset` is a unique serial number, so order and loss
// are visible in assertions without decoding bytes.
import { EntryType, EventType, type EntryPosition } from '../../src/protocol/entry-model.ts';
import type { StoreItem } from '../../src/store/store-item.ts';

export type Kind = 'begin' | 'row' | 'end' | 'ddl';

export function pos(serial: number): EntryPosition {
  return { file: 'binlog.000001', offset: serial, nextOffset: serial + 1, serverId: 1, timestamp: 1_700_000_000_000, gtid: '', gtidSet: '' };
}

export function item(serial: number, kind: Kind, size: number, table = 't1'): StoreItem {
  const base = { bytes: new Uint8Array(size), position: pos(serial), schema: 'db', table };
  switch (kind) {
    case 'begin':
      return { ...base, entryType: EntryType.TRANSACTIONBEGIN, isDdl: false, schema: '', table: '', boundary: false };
    case 'end':
      return { ...base, entryType: EntryType.TRANSACTIONEND, isDdl: false, schema: '', table: '', boundary: true };
    case 'ddl':
      return { ...base, entryType: EntryType.ROWDATA, eventType: EventType.ALTER, isDdl: true, boundary: true };
    case 'row':
      return { ...base, entryType: EntryType.ROWDATA, eventType: EventType.INSERT, isDdl: false, boundary: false };
  }
}

export const serials = (items: readonly StoreItem[]): number[] => items.map((i) => i.position.offset);
