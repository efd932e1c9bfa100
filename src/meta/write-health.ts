// When failing cursor writes become an operator's problem. One failed write is retried at the
// next flush and costs nothing; writes that keep failing mean acknowledged positions are not
// persisted, so a restart would re-deliver everything since the last good write. After a few
// flush intervals of failure it is reported (health `degraded`, see docs/operations.md).
import type { MetaStoreStats } from './meta-store.ts';

/** Failing this many flush intervals in a row makes the failure a reported condition. */
export const FAILING_INTERVALS = 3;

/** The reported condition, or undefined while writes succeed (or have failed only briefly). */
export function cursorWriteProblem(stats: MetaStoreStats, path: string, flushIntervalMs: number, now = Date.now()): string | undefined {
  if (stats.failingSince === undefined) return undefined;
  const failingMs = now - stats.failingSince;
  if (failingMs < FAILING_INTERVALS * Math.max(flushIntervalMs, 1)) return undefined;
  return (
    `the cursor file ${path} could not be written for ${Math.round(failingMs / 1000)} s (${stats.lastWriteError ?? 'unknown error'}); ` +
    'acknowledged positions are not being persisted, so a restart would deliver again everything since the last write: ' +
    'make the data directory (dataDir) writable'
  );
}
