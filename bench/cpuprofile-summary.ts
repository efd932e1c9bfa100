// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the functions and the files with the
// most self time, so that a profile of the server process can be read in a report.
// CLI: node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Cost {
  /** function name, or file/package for the per-file view */
  name: string;
  /** where it is: path:line (relative to the repository or a package name) */
  where: string;
  selfMs: number;
  /** share of all sampled time, idle excluded */
  percent: number;
}

export interface ProfileSummary {
  /** sampled time with idle excluded, ms */
  busyMs: number;
  idleMs: number;
  gcMs: number;
  functions: Cost[];
  files: Cost[];
  /** sluice's own functions (src/) by time in them and everything they called */
  inclusive: Cost[];
}

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** A short, stable name for a script URL: repository-relative, or `pkg:<name>/path` inside node_modules. */
export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  let p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + '/node_modules/'.length).split('/');
    const pkgLen = rest[0]?.startsWith('@') ? 2 : 1;
    return `pkg:${rest.slice(0, pkgLen).join('/')}/${rest.slice(pkgLen).join('/')}`;
  }
  if (p.startsWith(repoRoot)) p = p.slice(repoRoot.length);
  // Workers compiled by build-workers.ts: name the file by its place in the repository.
  const built = /\/sluice-bench-build-[^/]+\/(.*)$/.exec(p);
  if (built) p = built[1]!;
  return p;
}

/** `pkg:@scope/name` or `pkg:name` for a file inside node_modules, else undefined. */
function packageOf(file: string): string | undefined {
  if (!file.startsWith('pkg:')) return undefined;
  const parts = file.slice(4).split('/');
  return 'pkg:' + parts.slice(0, parts[0]!.startsWith('@') ? 2 : 1).join('/');
}

export function summarize(profile: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample; it is charged to sample i.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  let idleUs = 0;
  let gcUs = 0;
  let busyUs = 0;
  const fnCost = new Map<string, { name: string; where: string; us: number }>();
  const fileCost = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)?.callFrame;
    if (!cf) continue;
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    if (cf.functionName === '(garbage collector)') gcUs += us;
    const file = shortUrl(cf.url);
    const where = cf.url === '' ? file : `${file}:${cf.lineNumber + 1}`;
    const name = cf.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const c = fnCost.get(key) ?? { name, where, us: 0 };
    c.us += us;
    fnCost.set(key, c);
    const fileKey = cf.url === '' ? name : packageOf(file) ?? file;
    fileCost.set(fileKey, (fileCost.get(fileKey) ?? 0) + us);
  }
  const pct = (us: number): number => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  const inclusive = inclusiveCosts(profile, byId, selfUs)
    .slice(0, top)
    .map((c) => ({ name: c.name, where: c.where, selfMs: Math.round(c.us / 100) / 10, percent: pct(c.us) }));
  const functions = [...fnCost.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((c) => ({ name: c.name, where: c.where, selfMs: Math.round(c.us / 100) / 10, percent: pct(c.us) }));
  const files = [...fileCost.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([f, us]) => ({ name: f, where: f, selfMs: Math.round(us / 100) / 10, percent: pct(us) }));
  return { busyMs: Math.round(busyUs / 1000), idleMs: Math.round(idleUs / 1000), gcMs: Math.round(gcUs / 1000), functions, files, inclusive };
}

function costKey(cf: CallFrame): { key: string; name: string; where: string } {
  const file = shortUrl(cf.url);
  const where = cf.url === '' ? file : `${file}:${cf.lineNumber + 1}`;
  const name = cf.functionName || '(anonymous)';
  return { key: `${name}@${where}`, name, where };
}

// Anonymous wrappers (module bodies, callbacks) would rank first with their whole subtree.
const NOT_A_FUNCTION = new Set(['(anonymous)']);

/**
 * Inclusive time of sluice's own functions (src/), ranked: what each of our calls costs with the
 * library code under it. A function recursing into itself is counted once per stack.
 */
function inclusiveCosts(profile: CpuProfile, byId: Map<number, ProfileNode>, selfUs: Map<number, number>): { name: string; where: string; us: number }[] {
  const total = new Map<number, number>();
  const totalOf = (id: number): number => {
    const known = total.get(id);
    if (known !== undefined) return known;
    // Iterative post-order: profiles of deep stacks would overflow a recursive walk.
    const stack: { id: number; done: boolean }[] = [{ id, done: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      const node = byId.get(top.id);
      if (!node) continue;
      if (top.done) {
        let t = selfUs.get(top.id) ?? 0;
        for (const c of node.children ?? []) t += total.get(c) ?? 0;
        total.set(top.id, t);
      } else if (!total.has(top.id)) {
        stack.push({ id: top.id, done: true });
        for (const c of node.children ?? []) stack.push({ id: c, done: false });
      }
    }
    return total.get(id) ?? 0;
  };
  const root = profile.nodes[0];
  if (!root) return [];
  totalOf(root.id);
  const acc = new Map<string, { name: string; where: string; us: number }>();
  const onStack = new Map<string, number>();
  const walk: { id: number; leave: boolean }[] = [{ id: root.id, leave: false }];
  while (walk.length > 0) {
    const step = walk.pop()!;
    const node = byId.get(step.id);
    if (!node) continue;
    const k = costKey(node.callFrame);
    if (step.leave) {
      onStack.set(k.key, (onStack.get(k.key) ?? 1) - 1);
      continue;
    }
    if ((onStack.get(k.key) ?? 0) === 0 && !NOT_A_FUNCTION.has(k.name) && k.where.startsWith('src/')) {
      const c = acc.get(k.key) ?? { name: k.name, where: k.where, us: 0 };
      c.us += total.get(step.id) ?? 0;
      acc.set(k.key, c);
    }
    onStack.set(k.key, (onStack.get(k.key) ?? 0) + 1);
    walk.push({ id: step.id, leave: true });
    for (const ch of node.children ?? []) walk.push({ id: ch, leave: false });
  }
  return [...acc.values()].sort((a, b) => b.us - a.us);
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`busy ${s.busyMs} ms (idle ${s.idleMs} ms excluded), of which GC ${s.gcMs} ms`, '', 'top functions by self time:'];
  for (const f of s.functions) lines.push(`  ${f.percent.toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(8)} ms  ${f.name}  ${f.where}`);
  lines.push('', 'self time by file / package:');
  for (const f of s.files) lines.push(`  ${f.percent.toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(8)} ms  ${f.name}`);
  lines.push('', "inclusive time of sluice's functions (with everything they call):");
  for (const f of s.inclusive) lines.push(`  ${f.percent.toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(8)} ms  ${f.name}  ${f.where}`);
  return lines.join('\n');
}

export function readProfile(path: string): CpuProfile {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Partial<CpuProfile>;
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) {
    throw new Error(`${path} is not a V8 .cpuprofile (needs nodes, samples and timeDeltas)`);
  }
  return p as CpuProfile;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topIdx = args.indexOf('--top');
  const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 25;
  if (file === undefined || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(formatSummary(summarize(readProfile(file), top)) + '\n');
}
