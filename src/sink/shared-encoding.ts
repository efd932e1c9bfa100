// The encoding of entries that several destinations receive as the same objects (a shared
// reader): the first destination to store an entry encodes it, the others reuse its bytes, and
// every store keeps a reference to them (EventStore.tryPut's `encoded`) instead of a copy. An
// entry the sink changed for one destination (column filters, row filters, a source tag) is a new
// object and is encoded by that destination's store alone. Entries and their bytes are collected
// together.
import { encodeEntry } from '../protocol/entry-codec.ts';
import type { ParsedEntry } from '../protocol/entry-model.ts';

const encodings = new WeakMap<ParsedEntry, Uint8Array>();

export function sharedEncoding(e: ParsedEntry): Uint8Array {
  let bytes = encodings.get(e);
  if (bytes === undefined) {
    bytes = encodeEntry(e);
    encodings.set(e, bytes);
  }
  return bytes;
}
