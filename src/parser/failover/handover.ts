// What has been handed on from the source, and where the standby must take over so the stream
// continues exactly: at the GTID position of the last complete transaction handed on, dropping
// the entries of a transaction that was cut (handed on in part) as the standby sends them again.
// Without GTIDs the standby is searched by time instead, and entries may repeat.
import { isBoundary, type ParsedEntry } from '../../protocol/entry-model.ts';
import type { StartRequest } from '../../config/types.ts';
import { ParserError } from '../errors.ts';
import type { StartFrom } from '../event-parser.ts';

/** One handed-on entry of an open transaction, enough to recognise it when the standby sends it. */
function signature(e: ParsedEntry): string {
  const rows = e.rowChange?.rowDatas.length ?? 0;
  return `${e.entryType}/${e.header.schemaName ?? ''}.${e.header.tableName ?? ''}/${e.header.eventType ?? ''}/${rows}`;
}

export interface OpenTransaction {
  /** GTID of the transaction, e.g. 0-1-94 */
  gtid: string;
  /** executed GTID position once it completes */
  gtidSet: string;
  /**
   * leading entries handed on before this run (acknowledged, then dropped by the parser when it
   * resumed inside the transaction), whose content is not known here
   */
  earlier: number;
  /** signatures of the entries handed on in this run, in order, after those */
  handed: string[];
}

/** Entries of an open transaction the source has handed on in all. */
export function handedCount(t: OpenTransaction): number {
  return t.earlier + t.handed.length;
}

export interface HandedState {
  /** executed GTID position after the last complete transaction handed on ('' when unknown) */
  boundaryGtidSet: string;
  open: OpenTransaction | undefined;
  /** source time (ms) of the last entry handed on; 0 before any */
  lastTimestamp: number;
  handedAny: boolean;
}

export class HandOverTracker {
  private boundaryGtidSet = '';
  private open: OpenTransaction | undefined;
  private lastTimestamp = 0;
  private handedAny = false;
  /** entries of the first transaction read that were acknowledged before this run */
  private earlier = 0;

  /**
   * Where the stream started (GTID position, source time), used until something is handed on.
   * `earlier`: entries the parser drops after that point, acknowledged before a restart inside
   * a transaction (exact resume).
   */
  seed(gtidSet: string, timestamp: number, earlier?: number): void {
    if (this.handedAny) return;
    if (gtidSet !== '') this.boundaryGtidSet = gtidSet;
    if (timestamp > 0) this.lastTimestamp = timestamp;
    if (earlier !== undefined) this.earlier = earlier;
  }

  /** Records entries as they are handed on (synchronously, in order). */
  note(entries: ParsedEntry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (isBoundary(e)) {
        this.open = undefined;
        if (e.position.gtidSet !== '') this.boundaryGtidSet = e.position.gtidSet;
      } else {
        if (this.open === undefined || this.open.gtid !== e.position.gtid) this.open = { gtid: e.position.gtid, gtidSet: e.position.gtidSet, earlier: this.earlier, handed: [] };
        this.open.handed.push(signature(e));
      }
      this.earlier = 0;
    }
    if (entries.length > 0) {
      this.handedAny = true;
      const ts = entries[entries.length - 1]!.position.timestamp;
      if (ts > 0) this.lastTimestamp = ts;
    }
  }

  state(): HandedState {
    return {
      boundaryGtidSet: this.boundaryGtidSet,
      open: this.open === undefined ? undefined : { ...this.open, handed: [...this.open.handed] },
      lastTimestamp: this.lastTimestamp,
      handedAny: this.handedAny,
    };
  }
}

export interface StandbyResume {
  start: StartFrom;
  /** the open transaction whose handed-on entries the standby sends again and must be dropped */
  skip: OpenTransaction | undefined;
  /** GTID position the standby must have in its binlog first; undefined when resuming by time */
  required: string | undefined;
  /** resumed by time: entries from up to fallbackMs before the last one handed on come again */
  byTime: boolean;
  /** for the switch log line */
  describe: string;
}

/** Where the standby takes over. `lostSince` is when the source was last heard from. */
export function standbyResume(h: HandedState, o: { fallbackMs: number; standbyStart?: Exclude<StartRequest, { kind: 'end' }>; lostSince: number }): StandbyResume {
  const open = h.open !== undefined && h.open.gtid !== '' ? h.open : undefined;
  if (h.boundaryGtidSet !== '' && (h.open === undefined || open !== undefined)) {
    const required = open?.gtidSet ?? h.boundaryGtidSet;
    const cut = open === undefined ? '' : `, dropping the ${handedCount(open)} entries of ${open.gtid} already handed on`;
    return { start: { kind: 'gtid', gtid: h.boundaryGtidSet }, skip: open, required, byTime: false, describe: `GTID ${h.boundaryGtidSet}${cut}` };
  }
  if (!h.handedAny && o.standbyStart !== undefined) {
    const s = o.standbyStart;
    const describe = s.kind === 'position' ? `${s.file}:${s.offset} (the configured standby start)` : s.kind === 'gtid' ? `GTID ${s.gtid} (the configured standby start)` : `time ${new Date(s.ms).toISOString()} (the configured standby start)`;
    return { start: s, skip: undefined, required: s.kind === 'gtid' ? s.gtid : undefined, byTime: s.kind === 'timestamp', describe };
  }
  const from = (h.lastTimestamp > 0 ? h.lastTimestamp : o.lostSince) - o.fallbackMs;
  return {
    start: { kind: 'timestamp', ms: from },
    skip: undefined,
    required: undefined,
    byTime: true,
    describe: `time ${new Date(from).toISOString()} (no GTID position: the last entry's time minus failover.fallbackMs ${o.fallbackMs}; entries from then on may repeat)`,
  };
}

/**
 * Drops, from the standby's first transaction, the entries the source already handed on. Each
 * dropped entry must match what was handed on; anything else means the two binlogs differ, and
 * continuing could lose or duplicate changes.
 */
export class OpenTransactionSkip {
  private next = 0;

  constructor(
    private readonly open: OpenTransaction,
    private readonly standby: string,
  ) {}

  get done(): boolean {
    return this.next >= handedCount(this.open);
  }

  filter(entries: ParsedEntry[]): ParsedEntry[] {
    let i = 0;
    for (; i < entries.length && !this.done; i++) {
      const e = entries[i]!;
      // Entries handed on before a restart are known only by their transaction.
      const known = this.next - this.open.earlier;
      const want = known >= 0 ? this.open.handed[known]! : undefined;
      const got = signature(e);
      if (e.position.gtid !== this.open.gtid || (want !== undefined && got !== want)) {
        throw new ParserError(
          `the standby ${this.standby} does not repeat transaction ${this.open.gtid} as the source sent it: entry ${this.next + 1} of it is ` +
            `${got} in GTID ${e.position.gtid || '(none)'} where the source had ${want ?? `an entry of ${this.open.gtid}`}. The two binlogs differ; not continuing on the standby ` +
            '(it could lose or repeat changes). Check that the standby replicates the source with GTIDs and log_slave_updates.',
          { fatal: true },
        );
      }
      this.next++;
    }
    return i === 0 ? entries : entries.slice(i);
  }
}
