// Where an instance's parser begins: the persisted cursor wins (the minimum over the
// destination's clients, so nobody misses anything), then a pending start in meta.dat (set by
// `sluice positions reset`, or kept from an earlier start at the binlog end before any ack),
// then the configured start, then the current end of the binlog.
import type { LogPosition } from '../protocol/entry-model.ts';
import { describeStart, type StartRequest } from '../meta/meta-file.ts';
import { describeCursor } from '../meta/cursor-order.ts';

export type ResolvedStart =
  | { kind: 'cursor'; cursor: LogPosition }
  | StartRequest;

export interface StartChoice {
  start: ResolvedStart;
  /** for the start-up log line */
  reason: string;
}

export function chooseStart(cursor: LogPosition | undefined, reset: StartRequest | undefined, configured: StartRequest | undefined): StartChoice {
  if (cursor) return { start: { kind: 'cursor', cursor }, reason: `resuming after the persisted cursor ${describeCursor(cursor)}` };
  if (reset) return { start: reset, reason: `starting at ${describeStart(reset)}, the pending start in meta.dat (set by sluice positions reset, or kept from a start before any ack)` };
  if (configured) return { start: configured, reason: `no cursor yet: starting at the configured ${describeStart(configured)}` };
  return { start: { kind: 'end' }, reason: 'no cursor and no configured start: starting at the current end of the binlog' };
}
