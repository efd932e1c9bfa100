// One replica stream of a source shared by every destination that reads it (1:n). The shared
// parser's entries go, as the same objects, to each attached destination ("tap"), which applies
// its own filters, store, cursor and back-pressure downstream (its pump). The reader keeps the
// entries not yet handed to every attached tap (its window). A tap whose consumer stops is
// paused by its pump and falls behind; the parser keeps reading for the others, and once the
// tap is more than `windowBytes` of binlog behind it is detached: it no longer holds anything
// back. When it is resumed it reads on its own parser, from just after the last entry it
// delivered, until that parser reaches a transaction boundary the shared stream also has in its
// window (or produces next); then its own parser stops and it is attached again at that point.
// A tap that starts from a cursor inside the window joins there at once; any other start reads
// on its own first. The shared parser runs while at least one attached tap wants entries and
// stops when no tap is attached (a tap reading on its own then takes its place).
//
// Entries are identical whichever parser produced them: both decode the same binlog bytes from
// the same source with the same options, and joins happen only between two transactions.
//
// Server ids: a source drops a replica connection when another one opens with the same server id
// (MariaDB kills the older dump thread), so no two parsers here ever use one id at the same time.
// The shared parser takes the lowest slaveId configured by a destination on the reader when the
// parser is made, leaving out ids that taps reading on their own use at that moment; without one,
// `defaultServerId`. A tap reads on its own with its destination's id, or with its spare id when
// the shared parser holds that one (docs/sink-and-store.md, "Server ids").
import { EventEmitter } from 'node:events';
import { EntryType, isBoundary, type EntryPosition, type LogPosition, type ParsedEntry } from '../protocol/entry-model.ts';
import { cursorFromEntry } from '../protocol/entry-model.ts';
import type { FilePosition } from '../parser/binlog-files.ts';
import type { ParserState, ParserStats, StartFrom } from '../parser/event-parser.ts';

/** What the reader needs of a parser (EventParser, or a fake in tests). */
export interface ParserLike {
  on(event: 'entries', l: (entries: ParsedEntry[]) => void): unknown;
  on(event: 'state', l: (s: ParserState) => void): unknown;
  on(event: 'error', l: (e: Error & { fatal?: boolean }) => void): unknown;
  removeAllListeners(): unknown;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  stats(): ParserStats;
  startPoint(): FilePosition | undefined;
  /** EventParser's: where the stream stands once everything read has been handed on (snapshots) */
  handedThrough?(): HandedThrough | undefined;
}

/** Where a stream stands between events: the end of the last event read, and the executed GTID position. */
export interface HandedThrough {
  file: string;
  offset: number;
  gtidSet: string;
}

/** The server ids of one destination on a shared reader. */
export interface TapServerIds {
  /** the destination's configured slaveId, if any: a candidate for the shared parser */
  configured: number | undefined;
  /** the id its own parser uses (configured, else derived from its name) */
  own: number;
  /** the id its own parser uses instead while the shared parser holds `own` */
  spare: number;
}

/** A tap's own parser, made with the server id it must use. */
export type OwnParserFactory = (start: StartFrom, serverId: number) => ParserLike;

/** A row change that arrived as a statement (the parser's onStatementDml). */
export type StatementDmlHook = (schema: string, table: string, at: { file: string; offset: number }) => void;

export interface SharedReaderOptions {
  /** makes the shared stream's parser with the server id the reader chose */
  makeParser: (start: StartFrom, serverId: number) => ParserLike;
  /** the shared parser's server id when no destination on the reader configures a slaveId */
  defaultServerId: number;
  /** binlog bytes a tap may fall behind the shared stream before it is detached */
  windowBytes: number;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

interface Chunk {
  seq: number;
  entries: ParsedEntry[];
  bytes: number;
  /** the last boundary in the chunk, if its last entry is one */
  endsAt: EntryPosition | undefined;
}

type Mode = 'idle' | 'attached' | 'solo' | 'detached' | 'stopped';

function fileSeq(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Orders binlog positions of one source (file sequence, then offset). */
function comparePos(a: { file: string; offset: number }, b: { file: string; offset: number }): number {
  // Positions of one file (nearly every comparison: each delivery compares with the last) need no
  // parse of the file names, which took a few per cent of the server on single-row transactions.
  if (a.file === b.file) return a.offset - b.offset;
  const fa = fileSeq(a.file);
  const fb = fileSeq(b.file);
  if (fa !== fb) return fa - fb;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.offset - b.offset;
}

const silent = { info() {}, warn() {} };

export class SharedReader {
  private readonly taps = new Set<ReaderTap>();
  private parser: ParserLike | undefined;
  /** the server id of `parser` */
  private parserId: number | undefined;
  /** the tap whose own parser became the shared one (it is attached) */
  private chunks: Chunk[] = [];
  /** seq of the next chunk appended */
  private nextSeq = 0;
  private windowBytesHeld = 0;
  private parserPaused = false;
  /** where the current shared parser began, and whether chunks have been dropped since */
  private sharedStart: StartFrom | undefined;
  private startSeq = 0;
  private trimmedSinceStart = false;
  private sharedStarting: Promise<void> = Promise.resolve();
  private sharedBegan: FilePosition | undefined;
  private state: ParserState = 'stopped';
  readonly log: NonNullable<SharedReaderOptions['logger']>;
  /** counters of the shared stream (for tests and the benchmark) */
  readonly counters = { chunks: 0, detaches: 0, joins: 0, soloStarts: 0, promotions: 0 };

  constructor(private readonly opts: SharedReaderOptions) {
    this.log = opts.logger ?? silent;
  }

  /** A new destination on this source; it reads nothing until start(). */
  tap(name: string, start: StartFrom, ownParser: OwnParserFactory, ids: TapServerIds, onStatementDml?: StatementDmlHook): ReaderTap {
    const t = new ReaderTap(this, name, start, ownParser, ids);
    if (onStatementDml !== undefined) t.onStatementDml = onStatementDml;
    this.taps.add(t);
    return t;
  }

  /** The shared parser saw a row change logged as a statement: every attached destination is told. */
  noteStatementDml(schema: string, table: string, at: { file: string; offset: number }): void {
    for (const t of this.taps) if (t.mode === 'attached') t.onStatementDml?.(schema, table, at);
  }

  /** Attached taps, counted up to `upTo` (every delivery asks whether there are two). */
  tapsAttached(upTo = Infinity): number {
    let n = 0;
    for (const t of this.taps) if (t.mode === 'attached' && ++n >= upTo) break;
    return n;
  }

  /** Destinations on this reader, however they read now. */
  tapCount(): number {
    return this.taps.size;
  }

  sharedState(): ParserState {
    return this.state;
  }

  /** The server id the shared parser uses now (undefined while none runs). */
  sharedServerId(): number | undefined {
    return this.parser === undefined ? undefined : this.parserId;
  }

  /** The lowest configured id of a tap that no parser of a tap's own holds now, else the default. */
  private chooseSharedId(): number {
    const held = new Set<number>();
    for (const t of this.taps) if (t.soloId !== undefined) held.add(t.soloId);
    let best: number | undefined;
    for (const t of this.taps) {
      const c = t.ids.configured;
      if (c !== undefined && !held.has(c) && (best === undefined || c < best)) best = c;
    }
    return best ?? this.opts.defaultServerId;
  }

  /** The seq of the chunk after the boundary at `cursor`, if the window holds it. */
  private findAfter(pos: { file: string; offset: number }): number | undefined {
    const list = this.chunks;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = list[mid]!;
      const last = c.entries[c.entries.length - 1]!.position;
      const cmp = comparePos(last, pos);
      if (cmp === 0) return c.endsAt !== undefined ? c.seq + 1 : undefined;
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  // ---- called by taps

  /** Starts a tap: joins the window at its cursor, starts the shared parser, or reads on its own. */
  async startTap(t: ReaderTap): Promise<void> {
    if (this.parser === undefined) {
      await this.becomeShared(t, t.initialStart);
      return;
    }
    // Destinations starting together from the same place (a server start) share from the first entry.
    if (!this.trimmedSinceStart && this.sharedStart !== undefined && JSON.stringify(this.sharedStart) === JSON.stringify(t.initialStart)) {
      this.attach(t, this.startSeq);
      await this.sharedStarting;
      t.began = this.sharedBegan;
      return;
    }
    const c = t.initialStart.kind === 'cursor' ? t.initialStart.cursor : undefined;
    const at = c === undefined ? undefined : this.findAfter({ file: c.journalName, offset: c.position });
    if (at !== undefined) {
      this.attach(t, at);
      return;
    }
    await this.goSolo(t, t.initialStart, undefined);
  }

  async stopTap(t: ReaderTap): Promise<void> {
    const mode = t.mode;
    t.mode = 'stopped';
    this.taps.delete(t);
    if (t.solo !== undefined) await this.stopSolo(t);
    if (mode === 'attached') await this.afterDetach();
  }

  /** The tap's pump resumed it: deliver what the window holds for it, or restart it on its own. */
  tapResumed(t: ReaderTap): void {
    if (t.mode === 'attached') {
      this.feed(t);
      this.updateParserPause();
    } else if (t.mode === 'detached') {
      void this.goSolo(t, t.resumeFrom(), t.lastEmitted).catch((err: unknown) => t.failWith(err));
    } else if (t.mode === 'solo') {
      t.solo?.resume();
    }
  }

  tapPaused(t: ReaderTap): void {
    if (t.mode === 'solo') t.solo?.pause();
    else if (t.mode === 'attached') this.updateParserPause();
  }

  // ---- the shared stream

  private async becomeShared(t: ReaderTap, start: StartFrom): Promise<void> {
    const id = this.chooseSharedId();
    const p = this.opts.makeParser(start, id);
    this.parser = p;
    this.parserId = id;
    this.chunks = [];
    this.windowBytesHeld = 0;
    this.parserPaused = false;
    this.sharedStart = start;
    this.startSeq = this.nextSeq;
    this.trimmedSinceStart = false;
    this.sharedBegan = undefined;
    this.state = 'connecting';
    this.attach(t, this.nextSeq);
    this.wireShared(p);
    const starting = p.start();
    this.sharedStarting = starting.catch(() => undefined);
    try {
      await starting;
    } catch (err) {
      if (this.parser === p) this.parser = undefined;
      throw err;
    }
    this.sharedBegan = p.startPoint();
    t.began ??= this.sharedBegan;
  }

  private wireShared(p: ParserLike): void {
    p.on('entries', (entries) => {
      if (this.parser === p) this.append(entries);
    });
    p.on('state', (s) => {
      if (this.parser !== p) return;
      this.state = s;
      for (const t of this.taps) if (t.mode === 'attached') t.mirrorState(s);
    });
    p.on('error', (e) => {
      if (this.parser !== p) return;
      for (const t of this.taps) if (t.mode === 'attached') t.mirrorError(e);
      if (e.fatal === true) this.parser = undefined;
    });
  }

  private attach(t: ReaderTap, seq: number): void {
    t.mode = 'attached';
    t.seq = seq;
    t.mirrorState(this.state === 'stopped' ? 'connecting' : this.state);
    this.feed(t);
    this.updateParserPause();
  }

  private append(entries: ParsedEntry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.position;
    const last = entries[entries.length - 1]!;
    const chunk: Chunk = {
      seq: this.nextSeq++,
      entries,
      bytes: Math.max(1, last.position.nextOffset - first.offset),
      endsAt: isBoundary(last) ? last.position : undefined,
    };
    this.chunks.push(chunk);
    this.windowBytesHeld += chunk.bytes;
    this.counters.chunks++;
    for (const t of this.taps) {
      if (t.mode === 'attached') {
        if (t.seq === chunk.seq && !t.paused) {
          t.seq++;
          t.deliver(entries);
        }
      } else if (t.mode === 'solo' && chunk.endsAt !== undefined && t.atBoundary && t.lastEmitted !== undefined && comparePos(t.lastEmitted, chunk.endsAt) === 0) {
        // The shared stream just passed the boundary this tap's own parser stopped at.
        this.rejoin(t, chunk.seq + 1);
      }
    }
    this.trim();
    this.updateParserPause();
  }

  /** Delivers to an attached tap what the window holds for it, while its pump takes it. */
  private feed(t: ReaderTap): void {
    while (t.mode === 'attached' && !t.paused && t.seq < this.nextSeq) {
      const base = this.chunks[0]?.seq ?? this.nextSeq;
      if (t.seq < base) {
        this.detach(t);
        return;
      }
      const chunk = this.chunks[t.seq - base]!;
      t.seq++;
      t.deliver(chunk.entries);
    }
  }

  /** Drops chunks every attached tap has; detaches taps that are more than the window behind. */
  private trim(): void {
    let minSeq = this.nextSeq;
    let solos = 0;
    for (const t of this.taps) {
      if (t.mode === 'attached' && t.seq < minSeq) minSeq = t.seq;
      if (t.mode === 'solo') solos++;
    }
    // Keep a window of history while a tap reads on its own, so it can find its way back.
    const keep = solos > 0 ? this.opts.windowBytes : 0;
    let held = this.windowBytesHeld;
    let drop = 0;
    while (drop < this.chunks.length) {
      const c = this.chunks[drop]!;
      const needed = c.seq >= minSeq;
      if (needed ? held <= this.opts.windowBytes : held - c.bytes < keep) break;
      held -= c.bytes;
      drop++;
    }
    if (drop === 0) return;
    this.trimmedSinceStart = true;
    this.chunks.splice(0, drop);
    this.windowBytesHeld = held;
    const base = this.chunks[0]?.seq ?? this.nextSeq;
    for (const t of this.taps) if (t.mode === 'attached' && t.seq < base) this.detach(t);
  }

  private detach(t: ReaderTap): void {
    t.mode = 'detached';
    this.counters.detaches++;
    this.log.info({ tap: t.name, windowBytes: this.opts.windowBytes }, 'destination fell behind the shared reader window; it will read on its own when its consumer catches up');
    // A detached tap is always paused (it fell behind because its pump paused it).
    if (!t.paused) this.tapResumed(t);
    void this.afterDetach();
  }

  /** The shared parser runs while an attached tap wants entries. */
  private updateParserPause(): void {
    const p = this.parser;
    if (p === undefined) return;
    let wanted = false;
    for (const t of this.taps) if (t.mode === 'attached' && !t.paused && t.seq >= this.nextSeq) wanted = true;
    if (wanted && this.parserPaused) {
      this.parserPaused = false;
      p.resume();
    } else if (!wanted && !this.parserPaused) {
      this.parserPaused = true;
      p.pause();
    }
  }

  /** No tap attached: a tap reading on its own takes the shared parser's place, or the parser stops. */
  private async afterDetach(): Promise<void> {
    if (this.tapsAttached() > 0 || this.parser === undefined) return;
    const old = this.parser;
    this.parser = undefined;
    this.chunks = [];
    this.windowBytesHeld = 0;
    old.removeAllListeners();
    let ahead: ReaderTap | undefined;
    for (const t of this.taps) {
      if (t.mode !== 'solo' || t.solo === undefined) continue;
      if (ahead === undefined || (t.lastEmitted !== undefined && (ahead.lastEmitted === undefined || comparePos(t.lastEmitted, ahead.lastEmitted) > 0))) ahead = t;
    }
    await old.stop().catch(() => undefined);
    if (ahead !== undefined && this.parser === undefined) await this.promote(ahead);
  }

  /**
   * The tap furthest ahead moves from its own parser to a new shared one starting where it is
   * (its own parser is stopped first, so the new one may take its id).
   */
  private async promote(t: ReaderTap): Promise<void> {
    this.counters.promotions++;
    await this.stopSolo(t);
    t.skipTo = t.lastEmitted;
    await this.becomeShared(t, t.resumeFrom()).catch((err: unknown) => t.failWith(err));
  }

  // ---- taps reading on their own

  /**
   * Reads `t` on a parser of its own from `start`, dropping what it already delivered (up to
   * `skipTo`). If no shared parser runs, this parser is the shared one.
   */
  private async goSolo(t: ReaderTap, start: StartFrom, skipTo: EntryPosition | undefined): Promise<void> {
    if (t.mode === 'stopped') return;
    if (this.parser === undefined) {
      t.skipTo = skipTo;
      await this.becomeSharedSkipping(t, start, skipTo);
      return;
    }
    t.mode = 'solo';
    t.skipTo = skipTo;
    this.counters.soloStarts++;
    const id = t.ids.own === this.parserId ? t.ids.spare : t.ids.own;
    const p = t.ownParser(start, id);
    t.solo = p;
    t.soloId = id;
    p.on('entries', (entries) => {
      if (t.solo !== p) return;
      t.deliver(entries);
      if (t.atBoundary && t.lastEmitted !== undefined && t.mode === 'solo') {
        const at = this.findAfter(t.lastEmitted);
        if (at !== undefined) this.rejoin(t, at);
      }
    });
    p.on('state', (s) => {
      if (t.solo === p) t.mirrorState(s);
    });
    p.on('error', (e) => {
      if (t.solo === p) t.mirrorError(e);
    });
    this.trim();
    if (t.paused) p.pause();
    await p.start();
    if (t.began === undefined) t.began = p.startPoint();
  }

  /** becomeShared for a restarted tap: the shared parser's first entries may repeat what it delivered. */
  private async becomeSharedSkipping(t: ReaderTap, start: StartFrom, skipTo: EntryPosition | undefined): Promise<void> {
    t.skipTo = skipTo;
    await this.becomeShared(t, start);
  }

  private rejoin(t: ReaderTap, seq: number): void {
    const p = t.solo;
    t.solo = undefined;
    t.soloId = undefined;
    this.counters.joins++;
    this.log.info({ tap: t.name }, 'destination caught up with the shared reader; reading from it again');
    this.attach(t, seq);
    if (p !== undefined) {
      p.removeAllListeners();
      void p.stop().catch(() => undefined);
    }
  }

  private async stopSolo(t: ReaderTap): Promise<void> {
    const p = t.solo;
    t.solo = undefined;
    if (p === undefined) return;
    p.removeAllListeners();
    await p.stop().catch(() => undefined);
    // Only once its connection is closed may the shared parser take the id.
    if (t.solo === undefined) t.soloId = undefined;
  }

  /**
   * Where `t`'s stream stands when every entry read for it has been delivered (docs/snapshots.md):
   * attached, the shared parser's point once the tap has every chunk of the window; on its own,
   * its parser's. Undefined while entries wait for it (paused behind the window, detached), while
   * it re-reads what it delivered before a restart, or while the parser holds entries.
   */
  handedThroughFor(t: ReaderTap): HandedThrough | undefined {
    let h: HandedThrough | undefined;
    if (t.mode === 'attached') {
      if (t.seq !== this.nextSeq) return undefined;
      h = this.parser?.handedThrough?.();
    } else if (t.mode === 'solo') {
      h = t.solo?.handedThrough?.();
    }
    if (h === undefined) return undefined;
    // Re-reading after a restart: the parser stands behind what the tap delivered until it passes it.
    const skip = t.skipTo;
    if (skip !== undefined && comparePos(h, { file: skip.file, offset: skip.nextOffset }) < 0) return undefined;
    return h;
  }

  /** Stats of the parser a tap reads from now. */
  statsFor(t: ReaderTap): ParserStats | undefined {
    if (t.solo !== undefined) return t.solo.stats();
    return this.parser?.stats();
  }
}

/**
 * One destination's view of a SharedReader: an EventParser-like source (entries, state, error,
 * pause/resume, start/stop, stats, startPoint) for its pump and instance.
 */
export class ReaderTap extends EventEmitter {
  mode: Mode = 'idle';
  /** attached: the seq of the next chunk to deliver */
  seq = 0;
  paused = false;
  solo: ParserLike | undefined;
  /** the server id of `solo` while it runs (and until its connection is closed) */
  soloId: number | undefined;
  /** the last entry delivered, and whether it was a boundary */
  lastEmitted: EntryPosition | undefined;
  atBoundary = false;
  /** the last boundary delivered */
  lastBoundary: EntryPosition | undefined;
  /** entries at or before this position are dropped (already delivered before a restart) */
  skipTo: EntryPosition | undefined;
  began: FilePosition | undefined;
  onStatementDml: StatementDmlHook | undefined;
  private stateValue: ParserState = 'stopped';
  private hasRun = false;

  constructor(
    private readonly reader: SharedReader,
    readonly name: string,
    readonly initialStart: StartFrom,
    readonly ownParser: OwnParserFactory,
    readonly ids: TapServerIds,
  ) {
    super();
  }

  get state(): ParserState {
    return this.stateValue;
  }

  async start(): Promise<void> {
    this.mirrorState('connecting');
    await this.reader.startTap(this);
    // Attached to a running shared parser: running now.
    if (this.mode === 'attached' && this.reader.sharedState() === 'running') this.mirrorState('running');
  }

  async stop(): Promise<void> {
    await this.reader.stopTap(this);
    this.mirrorState('stopped');
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.reader.tapPaused(this);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.reader.tapResumed(this);
  }

  /**
   * The same entry objects go, or may still go, to other destinations while attached: share their
   * encoding. Every other tap counts, attached or not: destinations starting together attach one
   * after another, and one reading on its own rejoins where the window still holds the entries;
   * counting only those attached now encoded the first window twice at every server start.
   */
  entriesShared(): boolean {
    return this.mode === 'attached' && this.reader.tapCount() > 1;
  }

  startPoint(): FilePosition | undefined {
    return this.began === undefined ? undefined : { ...this.began };
  }

  /** Where this destination's stream stands on an idle source, as EventParser.handedThrough() says (snapshots). */
  handedThrough(): HandedThrough | undefined {
    return this.reader.handedThroughFor(this);
  }

  stats(): ParserStats {
    const s = this.reader.statsFor(this);
    const last = this.lastEmitted;
    const base: ParserStats = s ?? { file: '', offset: 0, gtidSet: '', lastEventTimestamp: 0, lastReceivedAt: 0, events: 0, rows: 0, bytes: 0, reconnects: 0, buffered: 0, maxBufferedSeen: 0, state: this.stateValue };
    // Where this destination has read to, not where the shared stream is.
    return last === undefined ? { ...base, state: this.stateValue } : { ...base, file: last.file, offset: last.nextOffset, lastEventTimestamp: last.timestamp, state: this.stateValue };
  }

  /** Where a restart on its own parser begins: after the last boundary delivered, else the original start. */
  resumeFrom(): StartFrom {
    const b = this.lastBoundary;
    if (b === undefined) return this.initialStart;
    const cursor: LogPosition = cursorFromEntry(b);
    return { kind: 'cursor', cursor };
  }

  // ---- called by the reader

  deliver(entries: ParsedEntry[]): void {
    let out = entries;
    const skip = this.skipTo;
    if (skip !== undefined) {
      let i = 0;
      while (i < entries.length && comparePos(entries[i]!.position, skip) <= 0) i++;
      if (i === entries.length) return;
      out = i === 0 ? entries : entries.slice(i);
      this.skipTo = undefined;
    }
    // Heartbeats carry no place of their own in the stream: they do not move lastEmitted.
    for (let i = out.length - 1; i >= 0; i--) {
      const e = out[i]!;
      if (e.entryType === EntryType.HEARTBEAT) continue;
      if (this.lastEmitted === undefined || comparePos(e.position, this.lastEmitted) >= 0) {
        this.lastEmitted = e.position;
        this.atBoundary = isBoundary(e);
      }
      break;
    }
    for (let i = out.length - 1; i >= 0; i--) {
      if (isBoundary(out[i]!)) {
        this.lastBoundary = out[i]!.position;
        break;
      }
    }
    this.emit('entries', out);
  }

  mirrorState(s: ParserState): void {
    if (this.mode === 'stopped' && s !== 'stopped') return;
    // Moving to a parser of its own (or back) is not a new start: the destination keeps serving.
    if (s === 'connecting' && this.hasRun) return;
    if (s === 'running') this.hasRun = true;
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit('state', s);
  }

  mirrorError(e: Error & { fatal?: boolean }): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  failWith(err: unknown): void {
    const e = (err instanceof Error ? err : new Error(String(err))) as Error & { fatal?: boolean };
    this.mirrorState('failed');
    this.mirrorError(e);
  }
}
