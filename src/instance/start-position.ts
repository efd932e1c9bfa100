// Where an instance's parser begins: the persisted cursor wins (the minimum over the
// destination's clients, so nobody misses anything), then a pending start in meta.dat (set by
// `sluice positions reset`, or kept from an earlier start at the binlog end before any ack),
// then the configured start, then the current end of the binlog.
import type { LogPosition } from '../protocol/entry-model.ts';
import { describeStart, type StartRequest } from '../meta/meta-file.ts';
import { describeCursor } from '../meta/cursor-order.ts';
import type { SourceAddress } from '../meta/meta-file.ts';
import type { StandbyConfig } from '../config/types.ts';

export type ResolvedStart =
  | { kind: 'cursor'; cursor: LogPosition }
  /** a cursor's GTID position, with the entries after it that were acknowledged (exact resume) */
  | { kind: 'gtid'; gtid: string; skip?: number }
  | StartRequest;

export interface StartChoice {
  start: ResolvedStart;
  /** for the start-up log line */
  reason: string;
}

export function chooseStart(cursor: LogPosition | undefined, reset: StartRequest | undefined, configured: StartRequest | undefined): StartChoice {
  if (cursor) return { start: { kind: 'cursor', cursor }, reason: `resuming after the persisted cursor ${describeCursor(cursor)}` };
  if (reset) return { start: reset, reason: `starting at ${describeStart(reset)}, the pending start in meta.dat (set by sluice positions reset, or kept from a start before any ack)` };
  if (configured) return { start: configured, reason: `no cursor yet: starting at ${describeStart(configured)} (the configured start)` };
  return { start: { kind: 'end' }, reason: 'no cursor and no configured start: starting at the current end of the binlog' };
}

/**
 * The start for the master. A cursor taken while the standby was read (its recorded source is
 * the standby's address) holds a file and offset of the standby's binlog, which mean nothing on
 * the master: the master resumes after the cursor's GTID position instead (exact), or, with no
 * GTID, from the cursor's time minus the fallback window (entries may repeat). `reason` is set
 * (for a warn line) when the start was changed.
 */
export function startOnMaster(
  start: ResolvedStart,
  cursorSource: SourceAddress | undefined,
  standby: Pick<StandbyConfig, 'host' | 'port'> | undefined,
  fallbackMs: number,
): { start: ResolvedStart; reason?: string } {
  if (start.kind !== 'cursor' || cursorSource === undefined || standby === undefined) return { start };
  if (cursorSource.address !== standby.host || cursorSource.port !== standby.port) return { start };
  const c = start.cursor;
  const on = `the cursor ${describeCursor(c)} was taken on the standby ${standby.host}:${standby.port}`;
  if (c.gtid !== '') {
    // A cursor inside a transaction also says how many of its entries were acknowledged: the
    // master drops as many after the GTID position (exact resume), as it would after its own cursor.
    const skip = c.skip !== undefined && c.skip > 0 ? c.skip : undefined;
    return {
      start: skip === undefined ? { kind: 'gtid', gtid: c.gtid } : { kind: 'gtid', gtid: c.gtid, skip },
      reason: `${on}: back on the master, resuming after its GTID position ${c.gtid}${skip === undefined ? '' : `, dropping the ${skip} entries after it already acknowledged`}`,
    };
  }
  const ms = c.timestamp - fallbackMs;
  return {
    start: { kind: 'timestamp', ms },
    reason: `${on} and has no GTID: back on the master, resuming from ${new Date(ms).toISOString()} (its time minus failover.fallbackMs); entries since then may repeat`,
  };
}
