// Store items for entries that several destinations receive as the same objects (a shared
// reader): the first destination to store an entry encodes it, the others reuse its bytes, and
// every store keeps a reference to them (StoreItem.shared) instead of a copy. An entry the sink
// changed for one destination (column filters, row filters, a source tag) is a new object and is
// encoded for that destination alone. Entries and their items are collected together.
import type { ParsedEntry } from '../protocol/entry-model.ts';
import { storeItemFromEntry, type StoreItem } from '../store/store-item.ts';

const items = new WeakMap<ParsedEntry, StoreItem>();

export function sharedStoreItem(e: ParsedEntry): StoreItem {
  let item = items.get(e);
  if (item === undefined) {
    item = storeItemFromEntry(e);
    item.shared = true;
    items.set(e, item);
  }
  return item;
}
