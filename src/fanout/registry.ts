// The process's shared readers, one per source identity: destinations whose source has the same
// address, account and decoding options read through one SharedReader. A reader is forgotten
// once its last destination stops, so the next start builds a new one with current settings.
import { SharedReader, type OwnParserFactory, type ReaderTap, type SharedReaderOptions, type StatementDmlHook, type TapServerIds } from './shared-reader.ts';
import type { StartFrom } from '../parser/event-parser.ts';

export interface SourceIdentity {
  host: string;
  port: number;
  user: string;
  password: string;
  /** options that change the decoded entries or the stream: only equal ones share */
  timezone?: string | undefined;
  heartbeatMs: number;
}

function keyOf(s: SourceIdentity): string {
  return JSON.stringify([s.host.toLowerCase(), s.port, s.user, s.password, s.timezone ?? '', s.heartbeatMs]);
}

export class SharedReaders {
  private readonly readers = new Map<string, { reader: SharedReader; taps: number }>();

  /** A tap on the shared reader of `source`, created with `opts` if none runs for it yet. */
  tap(source: SourceIdentity, opts: () => SharedReaderOptions, name: string, start: StartFrom, ownParser: OwnParserFactory, ids: TapServerIds, onStatementDml?: StatementDmlHook): ReaderTap {
    const key = keyOf(source);
    let r = this.readers.get(key);
    if (r === undefined) {
      r = { reader: new SharedReader(opts()), taps: 0 };
      this.readers.set(key, r);
    }
    r.taps++;
    const t = r.reader.tap(name, start, ownParser, ids, onStatementDml);
    const entry = r;
    const stop = t.stop.bind(t);
    let stopped = false;
    t.stop = async () => {
      await stop();
      if (stopped) return;
      stopped = true;
      if (--entry.taps === 0 && this.readers.get(key) === entry) this.readers.delete(key);
    };
    return t;
  }

  /** The reader of `source`, if one runs (tests and the benchmark read its counters). */
  readerOf(source: SourceIdentity): SharedReader | undefined {
    return this.readers.get(keyOf(source))?.reader;
  }
}

/** The process-wide registry the instances use. */
export const sharedReaders = new SharedReaders();
