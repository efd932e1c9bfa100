// What one `npm run bench` run does: sizes of the workloads and how often each figure is repeated.
import { parseArgs } from 'node:util';
import type { StoreOverrides } from './measures.ts';

export interface BenchPlan {
  quick: boolean;
  /** workload A: batched rows */
  rowsA: number;
  /** workload B: single-row transactions */
  rowsB: number;
  /** workload C: live rows per second, for this many seconds, in transactions of this many rows */
  liveRate: number;
  liveSeconds: number;
  liveRowsPerTx: number;
  /** repeats of each catch-up figure; the median is reported */
  runs: number;
  /** GET size of every consumer: KiB in the default MEMSIZE batch mode */
  batchSize: number;
  /** how long each GET waits on the server for a full batch, ms (it bounds the tail and live delay) */
  getTimeoutMs: number;
  /** profile the server and client processes on A and B (one extra run each) and summarize */
  profile: boolean;
  /** where .cpuprofile files go */
  profileDir: string;
  /** extra node flags for the server process and the client process (what-ifs such as GC settings) */
  serverFlags: string[];
  clientFlags: string[];
  /** which workloads run (all three by default; the targets of the others are then not judged) */
  workloads: Set<'A' | 'B' | 'C'>;
  /** store bounds for every sluice run instead of the config defaults (what-ifs for owners) */
  store: StoreOverrides;
}

/** First id of each workload, far enough apart that they never collide. */
export const FIRST_ID = { A: 1, B: 1_000_001, C: 2_000_001 } as const;

const usage = `usage: npm run bench -- [--quick] [--runs N] [--profile] [--profile-dir DIR]
  --quick         reduced sizes (50k batched rows, 10k single-row transactions, 5 s live), one run each
  --runs N        repeats of each catch-up figure (median reported); default 3, 1 with --quick
  --profile       also run the server and client processes on A and B under --cpu-prof and print their top costs
  --profile-dir   where to keep the .cpuprofile files (default: a temporary folder)
  --store-max-mib N      run sluice with store.maxBytes = N MiB instead of the config default
  --store-max-entries N  run sluice with store.maxEntries = N instead of the config default
  --workloads LIST   which of A,B,C to run (default A,B,C)
  --server-flags=F    extra node flags for the server process, e.g. --server-flags=--max-semi-space-size=32
  --client-flags=F    extra node flags for the client process (several: quote them, space-separated)`;

function optionalInt(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer from ${min} to ${max}, got ${text}`);
  return n;
}

export function parsePlan(argv: string[]): BenchPlan {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        runs: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'profile-dir': { type: 'string', default: '' },
        'store-max-mib': { type: 'string' },
        'store-max-entries': { type: 'string' },
        workloads: { type: 'string', default: 'A,B,C' },
        'server-flags': { type: 'string', default: '' },
        'client-flags': { type: 'string', default: '' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(usage + '\n');
    process.exit(0);
  }
  const quick = values.quick === true;
  const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 15) throw new Error(`--runs must be an integer from 1 to 15, got ${values.runs}`);
  const store: StoreOverrides = {};
  const storeMib = optionalInt(values['store-max-mib'], '--store-max-mib', 1, 4096);
  if (storeMib !== undefined) store.maxBytes = storeMib * 1024 * 1024;
  const storeEntries = optionalInt(values['store-max-entries'], '--store-max-entries', 1, 16_777_216);
  if (storeEntries !== undefined) store.maxEntries = storeEntries;
  const workloads = new Set<'A' | 'B' | 'C'>();
  for (const w of (values.workloads ?? 'A,B,C').split(',').map((x) => x.trim().toUpperCase())) {
    if (w !== 'A' && w !== 'B' && w !== 'C') throw new Error(`--workloads takes a list of A, B and C, got ${JSON.stringify(values.workloads)}`);
    workloads.add(w);
  }
  const flags = (text: string | undefined, name: string): string[] => {
    const list = (text ?? '').split(/\s+/).filter((f) => f !== '');
    const bad = list.find((f) => !f.startsWith('--'));
    if (bad !== undefined) throw new Error(`${name} takes node flags starting with --, got ${JSON.stringify(bad)}`);
    return list;
  };
  return {
    quick,
    workloads,
    serverFlags: flags(values['server-flags'], '--server-flags'),
    clientFlags: flags(values['client-flags'], '--client-flags'),
    rowsA: quick ? 50_000 : 500_000,
    rowsB: quick ? 10_000 : 100_000,
    liveRate: 5_000,
    liveSeconds: quick ? 5 : 30,
    liveRowsPerTx: 10,
    runs,
    batchSize: 1024,
    getTimeoutMs: 10,
    profile: values.profile === true,
    profileDir: values['profile-dir'] ?? '',
    store,
  };
}
