// A source with a standby: reads the source (the master) through an EventParser and, when the
// master counts as lost (failover/loss-detector.ts), switches for good to a standby, a replica
// that logs what it replicates, resuming where the master's stream was handed on
// (failover/handover.ts): at a GTID position, exactly, or by time when there are no GTIDs. It
// looks to its owner like one EventParser (entries, state, error, pause/resume, stats). There is
// no automatic switch back: a restart reads the master again.
import { EventEmitter } from 'node:events';
import mysql from 'mysql2/promise';
import type { FailoverSettings, StartRequest } from '../config/types.ts';
import type { ParsedEntry } from '../protocol/entry-model.ts';
import { ParserError } from './errors.ts';
import { EventParser, type EventParserOptions, type LoggerLike, type ParserState, type ParserStats, type StartFrom } from './event-parser.ts';
import { HandOverTracker, OpenTransactionSkip, handedCount, standbyResume, type StandbyResume } from './failover/handover.ts';
import { LossDetector, type LossVerdict } from './failover/loss-detector.ts';
import { standbyHas } from './failover/standby-check.ts';
import type { FilePosition } from './binlog-files.ts';

export interface SourceEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs: number;
}

export type SourceRole = 'master' | 'standby';

/** Which server the stream reads, for /health, metrics, logs and meta.dat. */
export interface ReadingSource {
  role: SourceRole;
  address: string;
  port: number;
  /** when the standby took over (ms) */
  since?: number;
  /** the master's address, once switched */
  switchedFrom?: string;
  /** where the standby resumed, in words */
  resumedAt?: string;
}

export interface SourceFailoverOptions {
  master: SourceEndpoint;
  standby: SourceEndpoint & { start?: Exclude<StartRequest, { kind: 'end' }> };
  failover: FailoverSettings;
  start: StartFrom;
  /** everything else the parsers take (slave id, heartbeat, backoff, destination...) */
  parser: Omit<EventParserOptions, 'host' | 'port' | 'user' | 'password' | 'start' | 'connectTimeoutMs' | 'logger'>;
  logger?: LoggerLike;
  /** called when the standby takes over (before it connects) */
  onSwitch?: (reading: ReadingSource) => void;
}

const silentLogger: LoggerLike = { warn() {}, info() {}, error() {} };
const STANDBY_POLL_MS = 250;
const WAIT_LOG_EVERY_MS = 10_000;

/** Entries a start drops after its point (exact resume inside a transaction), where the start says. */
function skipOf(start: object): number {
  const skip = (start as { skip?: unknown }).skip;
  return typeof skip === 'number' && skip > 0 ? skip : 0;
}

function address(e: { host: string; port: number }): string {
  return `${e.host}:${e.port}`;
}

export class SourceFailover extends EventEmitter {
  private readonly o: SourceFailoverOptions;
  private readonly log: LoggerLike;
  private readonly master: EventParser;
  private current: EventParser;
  private role: SourceRole = 'master';
  private readonly tracker = new HandOverTracker();
  private detector: LossDetector;
  private skip: OpenTransactionSkip | undefined;
  private switching = false;
  private switchedAt: number | undefined;
  private resumedAt: string | undefined;
  private stateValue: ParserState = 'stopped';
  private paused = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private firstReady: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** the master's counters at the switch, so totals never go down */
  private carried = { events: 0, rows: 0, bytes: 0, reconnects: 0 };

  constructor(opts: SourceFailoverOptions) {
    super();
    this.o = opts;
    this.log = opts.logger ?? silentLogger;
    this.detector = new LossDetector(opts.failover, Date.now());
    const s = opts.start;
    // A start inside a transaction (an acknowledgement that ended in it) carries how many of its
    // entries the parser drops: they were handed on before, and the standby must drop them too.
    if (s.kind === 'cursor') this.tracker.seed(s.cursor.gtid, s.cursor.timestamp, skipOf(s.cursor));
    else if (s.kind === 'gtid') this.tracker.seed(s.gtid, 0, skipOf(s));
    this.master = this.makeParser(opts.master, opts.start);
    this.current = this.master;
  }

  get state(): ParserState {
    return this.stateValue;
  }

  get buffered(): number {
    return this.current.buffered;
  }

  /** The server read now. */
  reading(): ReadingSource {
    const e = this.role === 'master' ? this.o.master : this.o.standby;
    const out: ReadingSource = { role: this.role, address: e.host, port: e.port };
    if (this.switchedAt !== undefined) {
      out.since = this.switchedAt;
      out.switchedFrom = address(this.o.master);
    }
    if (this.resumedAt !== undefined) out.resumedAt = this.resumedAt;
    return out;
  }

  /** The current parser's handedThrough() (snapshots, docs/snapshots.md); undefined while switching. */
  handedThrough(): { file: string; offset: number; gtidSet: string } | undefined {
    return this.switching || this.skip !== undefined ? undefined : this.current.handedThrough();
  }

  /** 1 once the standby has taken over. */
  switches(): number {
    return this.role === 'standby' ? 1 : 0;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'stopped') throw new Error(`SourceFailover.start(): already ${this.stateValue}`);
    const ready = new Promise<void>((resolve, reject) => {
      this.firstReady = { resolve, reject };
    });
    this.setState('connecting');
    this.detector = new LossDetector(this.o.failover, Date.now());
    const every = Math.max(50, Math.min(1000, Math.floor(this.o.failover.afterSilenceMs / 4)));
    this.timer = setInterval(() => this.checkSilence(), every);
    this.master.start().catch(() => undefined); // failures arrive as 'error' events
    await ready;
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.setState('stopped');
    this.firstReady?.reject(new ParserError('parser stopped before the stream started', { fatal: false }));
    this.firstReady = undefined;
    await this.current.stop();
  }

  pause(): void {
    this.paused = true;
    this.current.pause();
  }

  resume(): void {
    this.paused = false;
    this.current.resume();
  }

  startPoint(): FilePosition | undefined {
    return this.role === 'master' ? this.master.startPoint() : undefined;
  }

  stats(): ParserStats {
    const s = this.current.stats();
    const c = this.carried;
    return { ...s, events: s.events + c.events, rows: s.rows + c.rows, bytes: s.bytes + c.bytes, reconnects: s.reconnects + c.reconnects, state: this.stateValue };
  }

  private makeParser(e: SourceEndpoint, start: StartFrom): EventParser {
    const p = new EventParser({ ...this.o.parser, host: e.host, port: e.port, user: e.user, password: e.password, connectTimeoutMs: e.connectTimeoutMs, start, logger: this.log });
    p.on('entries', (entries: ParsedEntry[]) => {
      if (p === this.current && !this.switching) this.forward(entries);
    });
    p.on('state', (s: ParserState) => {
      if (p === this.current && !this.switching) this.onState(p, s);
    });
    p.on('error', (err: ParserError) => {
      if (p === this.current && !this.switching) this.onError(err);
    });
    return p;
  }

  private setState(s: ParserState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit('state', s);
  }

  private forward(entries: ParsedEntry[]): void {
    let out = entries;
    if (this.skip !== undefined) {
      out = this.skip.filter(entries); // a mismatch throws: the parser fails the stream with it
      if (this.skip.done) this.skip = undefined;
      if (out.length === 0) return;
    }
    if (this.role === 'master') this.tracker.note(out);
    this.emit('entries', out);
  }

  private onState(p: EventParser, s: ParserState): void {
    if (s === 'running') {
      this.detector.alive(Date.now());
      if (this.role === 'master') this.tracker.seed(p.stats().gtidSet, 0);
      this.setState('running');
      const fr = this.firstReady;
      this.firstReady = undefined;
      fr?.resolve();
    } else if (s === 'retrying') {
      this.setState(s);
    } else if (s === 'connecting') {
      // The standby's first connect is a reconnect of this stream: clients keep being served
      // what the store holds, as while retrying.
      this.setState(this.role === 'standby' ? 'retrying' : s);
    }
    // 'failed' comes with its error; 'stopped' only follows our own stop.
  }

  private onError(err: ParserError): void {
    if (err.fatal) {
      this.fail(err);
      return;
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
    if (this.role !== 'master') return;
    this.detector.seen(this.master.stats().lastReceivedAt);
    const v = this.detector.failure(Date.now());
    if (v.lost) void this.switchOver(v);
  }

  private checkSilence(): void {
    if (this.role !== 'master' || this.switching || this.stateValue === 'running') return;
    this.detector.seen(this.master.stats().lastReceivedAt);
    const v = this.detector.verdict(Date.now());
    if (v.lost) void this.switchOver(v);
  }

  private fail(err: ParserError): void {
    if (this.stateValue === 'failed' || this.stateValue === 'stopped') return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.setState('failed');
    const fr = this.firstReady;
    this.firstReady = undefined;
    fr?.reject(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** The master is lost: stop reading it, find where the standby takes over, wait for it to have that, read it. */
  private async switchOver(v: LossVerdict): Promise<void> {
    if (this.switching || this.role !== 'master') return;
    this.switching = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const from = address(this.o.master);
    const to = address(this.o.standby);
    const handed = this.tracker.state();
    const resume = standbyResume(handed, { fallbackMs: this.o.failover.fallbackMs, lostSince: Date.now() - v.silentMs, ...(this.o.standby.start ? { standbyStart: this.o.standby.start } : {}) });
    const m = this.master.stats();
    this.carried = { events: m.events, rows: m.rows, bytes: m.bytes, reconnects: m.reconnects };
    this.log.warn(
      { from, to, reason: v.reason, resumeAt: resume.describe, gtid: handed.boundaryGtidSet || undefined, openTransaction: resume.skip?.gtid, lastTimestamp: handed.lastTimestamp || undefined },
      `source ${from} lost (${v.reason}): switching to the standby ${to}, resuming at ${resume.describe}`,
    );
    await this.master.stop().catch(() => undefined);
    try {
      await this.waitForStandby(resume);
    } catch (err) {
      this.switching = false;
      if (!this.stopping) this.fail(err instanceof ParserError ? err : new ParserError((err as Error).message, { fatal: true, cause: err }));
      return;
    }
    if (this.stopping) return;
    if (resume.byTime) {
      this.log.warn({ from, to, resumeAt: resume.describe }, 'no GTID position to continue from: the standby is read from a point in time, and entries handed on since then come again');
    }
    this.role = 'standby';
    this.switchedAt = Date.now();
    this.resumedAt = resume.describe;
    this.skip = resume.skip !== undefined && handedCount(resume.skip) > 0 ? new OpenTransactionSkip(resume.skip, to) : undefined;
    const p = this.makeParser(this.o.standby, resume.start);
    this.current = p;
    if (this.paused) p.pause();
    this.switching = false;
    this.o.onSwitch?.(this.reading());
    this.emit('switch', this.reading());
    p.start().catch(() => undefined);
  }

  /**
   * Waits until the standby has logged `required` (it may still be applying its relay log), up
   * to failover.standbyWaitMs; then refuses rather than skip. Also refuses a standby that does not
   * log what it replicates. Resuming by time has nothing to wait for.
   */
  private async waitForStandby(resume: StandbyResume): Promise<void> {
    const to = address(this.o.standby);
    const limit = this.o.failover.standbyWaitMs;
    const deadline = Date.now() + limit;
    let said = '';
    let loggedAt = 0;
    for (;;) {
      if (this.stopping) return;
      let problem: string;
      let conn: mysql.Connection | undefined;
      try {
        const e = this.o.standby;
        conn = await mysql.createConnection({ host: e.host, port: e.port, user: e.user, password: e.password, connectTimeout: e.connectTimeoutMs });
        const r = await standbyHas(conn, resume.required ?? '');
        if (!r.logSlaveUpdates) {
          throw new ParserError(
            `not switching to the standby ${to}: it runs with log_slave_updates=OFF, so its binlog lacks what it replicates and the stream cannot continue there. ` +
              'Set log_slave_updates=ON on the standby (server option --log-slave-updates).',
            { fatal: true },
          );
        }
        if (resume.required === undefined || r.has) return;
        problem = `the standby's binlog reaches GTID ${r.position || '(none)'}, short of ${resume.required} that the stream has reached`;
      } catch (err) {
        if (err instanceof ParserError) throw err;
        problem = `the standby cannot be queried (${(err as Error).message})`;
      } finally {
        await conn?.end().catch(() => conn?.destroy());
      }
      const now = Date.now();
      if (now >= deadline) {
        throw new ParserError(
          `not switching to the standby ${to}: ${problem}, still after waiting failover.standbyWaitMs ${limit} ms. sluice does not skip changes: ` +
            `start the standby's replication so it catches up and restart sluice, bring the source ${address(this.o.master)} back, ` +
            `or choose a new start with \`sluice positions reset --destination ${this.o.parser.destination ?? 'D'} --to ...\`.`,
          { fatal: true },
        );
      }
      if (problem !== said || now - loggedAt >= WAIT_LOG_EVERY_MS) {
        this.log.warn({ standby: to, required: resume.required, waitedMs: limit - (deadline - now), limitMs: limit }, `waiting for the standby: ${problem}`);
        if (problem !== said && this.listenerCount('error') > 0) this.emit('error', new ParserError(`waiting for the standby ${to}: ${problem}`, { fatal: false }));
        said = problem;
        loggedAt = now;
      }
      await new Promise((r) => setTimeout(r, STANDBY_POLL_MS));
    }
  }
}
