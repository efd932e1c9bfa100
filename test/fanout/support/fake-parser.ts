// A fake EventParser for SharedReader unit tests: it emits the transactions a test asks for and
// records the start and server id it was made with.
import { EventEmitter } from 'node:events';
import { SharedReader, type HandedThrough, type ParserLike, type TapServerIds } from '../../../src/fanout/shared-reader.ts';
import { EntryType, entryPosition, type ParsedEntry } from '../../../src/protocol/entry-model.ts';
import type { ParserStats, StartFrom } from '../../../src/parser/event-parser.ts';

export const FILE = 'bin.000001';

export class FakeParser extends EventEmitter implements ParserLike {
  paused = false;
  running = false;
  handed: HandedThrough | undefined;
  constructor(
    readonly from: StartFrom,
    readonly serverId: number,
  ) {
    super();
  }
  async start(): Promise<void> {
    this.running = true;
    this.emit('state', 'running');
  }
  async stop(): Promise<void> {
    this.running = false;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  stats(): ParserStats {
    return { file: FILE, offset: 0, gtidSet: '', lastEventTimestamp: 0, lastReceivedAt: 0, events: 0, rows: 0, bytes: 0, reconnects: 0, buffered: 0, maxBufferedSeen: 0, state: 'running' };
  }
  startPoint() {
    return { file: FILE, offset: 4 };
  }
  handedThrough(): HandedThrough | undefined {
    return this.handed;
  }
  /** One transaction (begin, end) over [from, to); the parser then stands at `to`. */
  txn(from: number, to: number): void {
    const entries: ParsedEntry[] = [EntryType.TRANSACTIONBEGIN, EntryType.TRANSACTIONEND].map((entryType, i) => ({
      entryType,
      header: {},
      position: entryPosition(FILE, i === 0 ? from : to - 10, i === 0 ? from + 10 : to, 1, 0, '', `0-1-${to}`),
    })) as ParsedEntry[];
    this.handed = { file: FILE, offset: to, gtidSet: `0-1-${to}` };
    this.emit('entries', entries);
  }
}

/** The shared parser's id when no tap configures one. */
export const DEFAULT_ID = 9000;

/** A shared reader of fake parsers (a 100-byte window); `parsers` in the order made. */
export function fakeReader(): { parsers: FakeParser[]; make: (start: StartFrom, serverId: number) => FakeParser; reader: SharedReader } {
  const parsers: FakeParser[] = [];
  const make = (start: StartFrom, serverId: number) => {
    const p = new FakeParser(start, serverId);
    parsers.push(p);
    return p;
  };
  return { parsers, make, reader: new SharedReader({ makeParser: make, defaultServerId: DEFAULT_ID, windowBytes: 100 }) };
}

/** A tap's ids: `configured` (or none), its own id (the configured one, else 5000 + n) and spare 6000 + n. */
export function idsOf(n: number, configured?: number): TapServerIds {
  return { configured, own: configured ?? 5000 + n, spare: 6000 + n };
}

/** Lets the reader's fire-and-forget work (detach, promotion, solo start) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
