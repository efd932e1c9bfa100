// What the store keeps of each held entry, column by column in typed arrays and arrays of string
// references, instead of the StoreItem object the pump hands in. Why: a held entry lives long
// enough to reach V8's old generation, and once acknowledged it is garbage there until a full
// GC. With single-row transactions (three entries per row) that garbage, a few hundred bytes of
// objects per entry, reached 70 MiB before V8 collected it. Kept this way, a held entry costs no
// object of its own; a StoreItem is rebuilt only when a get hands it out, and dies young.
import { isBoundary, type EntryPosition, type ParsedEntry } from '../protocol/entry-model.ts';
import type { EntryType, EventType } from '../protocol/entry-model.ts';
import type { StoreItem } from './store-item.ts';

const IS_DDL = 1;
const BOUNDARY = 2;
const NO_EVENT_TYPE = -1;

export class EntrySlots {
  private entryType: Uint8Array;
  private eventType: Int16Array;
  private flags: Uint8Array;
  /** offset of the entry's bytes in the store's byte ring, or −1 when it keeps its own buffer */
  private placedAt: Int32Array;
  private length: Int32Array;
  private own: (Uint8Array | undefined)[];
  private schema: string[];
  private table: string[];
  private alsoNames: (string[] | undefined)[];
  private file: string[];
  private offset: Float64Array;
  private nextOffset: Float64Array;
  private serverId: Float64Array;
  private timestamp: Float64Array;
  private gtid: string[];
  private gtidSet: string[];
  /** the exact-resume point of each entry (EntryPosition.resume*) */
  private resumeFile: string[];
  private resumeOffset: Float64Array;
  private resumeGtidSet: string[];
  private resumeSkip: Int32Array;

  constructor(readonly capacity: number) {
    this.entryType = new Uint8Array(capacity);
    this.eventType = new Int16Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.placedAt = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.own = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.schema = new Array<string>(capacity).fill('');
    this.table = new Array<string>(capacity).fill('');
    this.alsoNames = new Array<string[] | undefined>(capacity).fill(undefined);
    this.file = new Array<string>(capacity).fill('');
    this.offset = new Float64Array(capacity);
    this.nextOffset = new Float64Array(capacity);
    this.serverId = new Float64Array(capacity);
    this.timestamp = new Float64Array(capacity);
    this.gtid = new Array<string>(capacity).fill('');
    this.gtidSet = new Array<string>(capacity).fill('');
    this.resumeFile = new Array<string>(capacity).fill('');
    this.resumeOffset = new Float64Array(capacity);
    this.resumeGtidSet = new Array<string>(capacity).fill('');
    this.resumeSkip = new Int32Array(capacity);
  }

  /**
   * Records the facts of `e` (what StoreItem holds), read from the entry itself so no StoreItem
   * is built; its `length` bytes are at `placedAt` in the ring, or in `own` when −1.
   */
  setEntry(i: number, e: ParsedEntry, placedAt: number, length: number, own: Uint8Array | undefined): void {
    const rc = e.rowChange;
    const h = e.header;
    this.entryType[i] = e.entryType;
    this.eventType[i] = rc?.eventType ?? h.eventType ?? NO_EVENT_TYPE;
    this.flags[i] = (rc?.isDdl === true ? IS_DDL : 0) | (isBoundary(e) ? BOUNDARY : 0);
    this.placedAt[i] = placedAt;
    this.length[i] = length;
    this.own[i] = own;
    this.schema[i] = h.schemaName ?? '';
    this.table[i] = h.tableName ?? '';
    const also = e.alsoNames;
    this.alsoNames[i] = also !== undefined && also.length > 0 ? also : undefined;
    this.setPosition(i, e.position);
  }

  private setPosition(i: number, p: EntryPosition): void {
    this.file[i] = p.file;
    this.offset[i] = p.offset;
    this.nextOffset[i] = p.nextOffset;
    this.serverId[i] = p.serverId;
    this.timestamp[i] = p.timestamp;
    // Both kept as they come, even when equal (one domain): they are distinct strings of equal
    // text, and comparing them per entry compared their characters (flattening them first).
    this.gtid[i] = p.gtid;
    this.gtidSet[i] = p.gtidSet;
    const skip = p.resumeSkip ?? 0;
    this.resumeSkip[i] = skip;
    // Read only when skip > 0 (position() builds a boundary's resume point from its own fields).
    if (skip > 0) {
      this.resumeFile[i] = p.resumeFile!;
      this.resumeOffset[i] = p.resumeOffset!;
      this.resumeGtidSet[i] = p.resumeGtidSet!;
    }
  }

  /** Forgets slot `i`, so the buffers and strings it referenced can be collected. */
  clear(i: number): void {
    this.own[i] = undefined;
    this.alsoNames[i] = undefined;
    this.schema[i] = '';
    this.table[i] = '';
    this.file[i] = '';
    this.gtid[i] = '';
    this.gtidSet[i] = '';
    this.resumeFile[i] = '';
    this.resumeGtidSet[i] = '';
  }

  bytesLength(i: number): number {
    return this.length[i]!;
  }

  placement(i: number): number {
    return this.placedAt[i]!;
  }

  ownBytes(i: number): Uint8Array | undefined {
    return this.own[i];
  }

  isBoundary(i: number): boolean {
    return (this.flags[i]! & BOUNDARY) !== 0;
  }

  /** The fields isIsolatedDdl reads. */
  ddlFacts(i: number): Pick<StoreItem, 'entryType' | 'eventType' | 'isDdl'> | undefined {
    if ((this.flags[i]! & IS_DDL) === 0) return undefined;
    const facts: Pick<StoreItem, 'entryType' | 'eventType' | 'isDdl'> = { entryType: this.entryType[i] as EntryType, isDdl: true };
    const ev = this.eventType[i]!;
    if (ev !== NO_EVENT_TYPE) facts.eventType = ev as EventType;
    return facts;
  }

  position(i: number): EntryPosition {
    const p: EntryPosition = {
      file: this.file[i]!,
      offset: this.offset[i]!,
      nextOffset: this.nextOffset[i]!,
      serverId: this.serverId[i]!,
      timestamp: this.timestamp[i]!,
      gtid: this.gtid[i]!,
      gtidSet: this.gtidSet[i]!,
    };
    // Inside a transaction: where a restart right after it resumes (a boundary resumes after itself).
    const skip = this.resumeSkip[i]!;
    if (skip > 0) {
      p.resumeFile = this.resumeFile[i]!;
      p.resumeOffset = this.resumeOffset[i]!;
      p.resumeGtidSet = this.resumeGtidSet[i]!;
      p.resumeSkip = skip;
    }
    return p;
  }

  /** The entry's facts as a StoreItem (for get-time filters), with `bytes` as given (wherever they now live). */
  item(i: number, bytes: Uint8Array): StoreItem {
    const item: StoreItem = {
      bytes,
      position: this.position(i),
      entryType: this.entryType[i] as EntryType,
      isDdl: (this.flags[i]! & IS_DDL) !== 0,
      schema: this.schema[i]!,
      table: this.table[i]!,
      boundary: (this.flags[i]! & BOUNDARY) !== 0,
    };
    const ev = this.eventType[i]!;
    if (ev !== NO_EVENT_TYPE) item.eventType = ev as EventType;
    const also = this.alsoNames[i];
    if (also !== undefined) item.alsoNames = also;
    return item;
  }

  /** A table of twice the capacity holding the same entries, each at its index under the new mask. */
  grown(fromSeq: number, toSeq: number): EntrySlots {
    const bigger = new EntrySlots(this.capacity * 2);
    const oldMask = this.capacity - 1;
    const newMask = bigger.capacity - 1;
    for (let seq = fromSeq; seq < toSeq; seq++) bigger.copyFrom(this, seq & oldMask, seq & newMask);
    return bigger;
  }

  private copyFrom(o: EntrySlots, from: number, to: number): void {
    this.entryType[to] = o.entryType[from]!;
    this.eventType[to] = o.eventType[from]!;
    this.flags[to] = o.flags[from]!;
    this.placedAt[to] = o.placedAt[from]!;
    this.length[to] = o.length[from]!;
    this.own[to] = o.own[from];
    this.schema[to] = o.schema[from]!;
    this.table[to] = o.table[from]!;
    this.alsoNames[to] = o.alsoNames[from];
    this.file[to] = o.file[from]!;
    this.offset[to] = o.offset[from]!;
    this.nextOffset[to] = o.nextOffset[from]!;
    this.serverId[to] = o.serverId[from]!;
    this.timestamp[to] = o.timestamp[from]!;
    this.gtid[to] = o.gtid[from]!;
    this.gtidSet[to] = o.gtidSet[from]!;
    this.resumeFile[to] = o.resumeFile[from]!;
    this.resumeOffset[to] = o.resumeOffset[from]!;
    this.resumeGtidSet[to] = o.resumeGtidSet[from]!;
    this.resumeSkip[to] = o.resumeSkip[from]!;
  }
}
