// How long a GET may wait, from its wire fields (docs/protocol.md, GET): exactly -1 means
// "return now", 0 / absent / any other value <= 0 means "block until a full batch", and a
// positive timeout is counted in Java TimeUnit ordinals (anything unknown, e.g. -1, is ms). An
// absent unit reads as 0, nanoseconds, as Canal's proto3 getter returns it.

/** Milliseconds per unit, indexed by java.util.concurrent.TimeUnit ordinal. */
const MS_PER_UNIT = [1e-6, 1e-3, 1, 1_000, 60_000, 3_600_000, 86_400_000];

/** setTimeout's largest delay. */
const MAX_WAIT_MS = 0x7fffffff;

/** The wait in the Destination's terms: -1 now, 0 block for a full batch, > 0 at most that many ms. */
export function getWaitMs(timeout: number | undefined, unit: number | undefined): number {
  if (timeout === -1) return -1;
  if (timeout === undefined || timeout <= 0) return 0;
  const perUnit = MS_PER_UNIT[unit ?? 0] ?? 1;
  // Round sub-millisecond waits up: rounding to 0 would turn "wait briefly" into "block".
  return Math.min(MAX_WAIT_MS, Math.max(1, Math.ceil(timeout * perUnit)));
}

/** Canal clients substitute 1000 for a batch size <= 0 (canal-go passes 0 through). */
export function effectiveFetchSize(fetchSize: number): number {
  return fetchSize > 0 ? fetchSize : 1000;
}
