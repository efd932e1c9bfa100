// Orders cursors by binlog position, so that a restart resumes from the one furthest behind
// (Canal resumes from the minimum cursor over all subscribed clients).
import type { LogPosition } from '../protocol/entry-model.ts';

// binlog.000009 < binlog.000010 as strings too, but a sequence past 999999 grows a digit: compare numbers.
function fileSeq(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

export function compareCursors(a: LogPosition, b: LogPosition): number {
  const fa = fileSeq(a.journalName);
  const fb = fileSeq(b.journalName);
  if (fa !== fb) return fa - fb;
  if (a.journalName !== b.journalName) return a.journalName < b.journalName ? -1 : 1;
  if (a.position !== b.position) return a.position - b.position;
  // the same resume point: the one that skips more entries there is further on
  return (a.skip ?? 0) - (b.skip ?? 0);
}

export function minCursor(cursors: Iterable<LogPosition | undefined>): LogPosition | undefined {
  let min: LogPosition | undefined;
  for (const c of cursors) if (c && (min === undefined || compareCursors(c, min) < 0)) min = c;
  return min;
}

/** "binlog.000003:1234 (gtid 0-1-94)" for logs and CLI output. */
export function describeCursor(c: LogPosition): string {
  const at = c.nextPosition !== undefined ? `${c.journalName}:${c.nextPosition}` : `${c.journalName}:${c.position}`;
  const skip = c.skip !== undefined && c.skip > 0 ? ` + ${c.skip} entries` : '';
  return c.gtid ? `${at}${skip} (gtid ${c.gtid})` : `${at}${skip}`;
}
