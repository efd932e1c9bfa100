// Small statistics for the figures: medians over repeated runs and latency percentiles.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of the finite values. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const s = Array.from(xs).filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

/** Runs `once` n times in sequence and returns every result. */
export async function repeat<T>(n: number, once: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await once(i));
  return out;
}

/** The result whose `seconds` is the median (for odd n; the lower middle otherwise). */
export function medianRun<T extends { seconds: number }>(runs: T[]): T {
  if (runs.length === 0) throw new Error('medianRun of no runs');
  const s = [...runs].sort((a, b) => a.seconds - b.seconds);
  return s[(s.length - 1) >> 1]!;
}
