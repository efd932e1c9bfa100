// Serializes a ParsedEntry into Canal Entry bytes, once, on its way into the store.
import type { Buffer } from 'node:buffer';
import { pb, toObjectOptions } from './proto.ts';
import { EntryType, type ParsedEntry, type Header, type RowChange, type TransactionBegin, type TransactionEnd } from './entry-model.ts';
import { releaseLentMemory, writeEntry, writeEntryAt, writeEntryScratch } from './entry-writer.ts';
import type { ProtoWriter } from './proto-writer.ts';

/** The entry's Canal bytes, written by the hand-made writer of entry-writer.ts. */
export function encodeEntry(e: ParsedEntry): Uint8Array {
  return writeEntry(e);
}

/** The same bytes as encodeEntry, left in the shared writer (`buf[0, pos)`) until the next entry is encoded. */
export function encodeEntryScratch(e: ParsedEntry): ProtoWriter {
  return writeEntryScratch(e);
}

/** The same bytes written from `start` of `target` (see writeEntryAt): `buf[start, pos)` of the writer returned. */
export function encodeEntryAt(e: ParsedEntry, target: Buffer, view: DataView, start: number): ProtoWriter {
  return writeEntryAt(e, target, view, start);
}

/** Drops the writer's reference to the memory last passed to encodeEntryAt. */
export function releaseEncodeTarget(): void {
  releaseLentMemory();
}

/**
 * The same bytes through protobufjs's reflection encoder: the reference the writer is held to
 * (property tests), and far slower. Row data is read through its RowData interface.
 */
export function encodeEntryReference(e: ParsedEntry): Uint8Array {
  let storeValue: Uint8Array;
  if (e.entryType === EntryType.ROWDATA) storeValue = pb.RowChange.encode(e.rowChange ?? { eventType: 7, isDdl: false, rowDatas: [] }).finish();
  else if (e.entryType === EntryType.TRANSACTIONBEGIN) storeValue = pb.TransactionBegin.encode(e.begin ?? {}).finish();
  else if (e.entryType === EntryType.TRANSACTIONEND) storeValue = pb.TransactionEnd.encode(e.end ?? {}).finish();
  else storeValue = new Uint8Array(0);
  return pb.Entry.encode({ header: e.header, entryType: e.entryType, storeValue }).finish();
}

export interface DecodedEntry {
  entryType: EntryType;
  header: Header;
  rowChange?: RowChange;
  begin?: TransactionBegin;
  end?: TransactionEnd;
}
export function decodeEntry(bytes: Uint8Array): DecodedEntry {
  const raw = pb.Entry.toObject(pb.Entry.decode(bytes), toObjectOptions) as { header?: Header; entryType?: number; storeValue?: Uint8Array };
  // Canal's Java side reads an absent entryType as ROWDATA (its proto2 default).
  const entryType = (raw.entryType ?? EntryType.ROWDATA) as EntryType;
  const out: DecodedEntry = { entryType, header: raw.header ?? {} };
  const sv = raw.storeValue ?? new Uint8Array(0);
  if (entryType === EntryType.ROWDATA) {
    const rc = pb.RowChange.toObject(pb.RowChange.decode(sv), toObjectOptions) as Partial<RowChange>;
    out.rowChange = {
      ...rc,
      eventType: rc.eventType ?? 2,
      isDdl: rc.isDdl ?? false,
      rowDatas: (rc.rowDatas ?? []).map((r) => ({ ...r, beforeColumns: r.beforeColumns ?? [], afterColumns: r.afterColumns ?? [] })),
    } as RowChange;
  } else if (entryType === EntryType.TRANSACTIONBEGIN) {
    out.begin = pb.TransactionBegin.toObject(pb.TransactionBegin.decode(sv), toObjectOptions) as TransactionBegin;
  } else if (entryType === EntryType.TRANSACTIONEND) {
    out.end = pb.TransactionEnd.toObject(pb.TransactionEnd.decode(sv), toObjectOptions) as TransactionEnd;
  }
  return out;
}
