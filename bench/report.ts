// Output of a bench run: a table for people, then (last line) one JSON object with every figure.

export interface Row {
  workload: string;
  what: string;
  rows: number;
  /** binlog bytes the rows came from, for MB/s */
  bytes?: number;
  seconds: number;
  /** extra text: CPU, RSS, ratios */
  note?: string;
}

export function rate(rows: number, seconds: number): number {
  return seconds > 0 ? Math.round(rows / seconds) : 0;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTable(rows: Row[]): string {
  const head = ['workload', 'measure', 'rows', 'seconds', 'rows/s', 'binlog MB/s', 'notes'];
  const body = rows.map((r) => [
    r.workload,
    r.what,
    r.rows.toLocaleString('en-US'),
    r.seconds.toFixed(3),
    rate(r.rows, r.seconds).toLocaleString('en-US'),
    r.bytes !== undefined && r.seconds > 0 ? (r.bytes / 1e6 / r.seconds).toFixed(1) : '',
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = [false, false, true, true, true, true, false];
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, numeric[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  /** 'min': value must be at least limit; 'max': at most */
  kind: 'min' | 'max';
}

export function targetLines(targets: Target[]): string[] {
  return targets.map((t) => {
    const ok = t.kind === 'min' ? t.value >= t.limit : t.value <= t.limit;
    const rel = t.kind === 'min' ? '>=' : '<=';
    const v = Number.isFinite(t.value) ? (Math.round(t.value * 1000) / 1000).toLocaleString('en-US') : 'n/a';
    return `${ok ? 'PASS' : 'MISS'}  ${t.name}: ${v} (target ${rel} ${t.limit.toLocaleString('en-US')})`;
  });
}

export function targetsJson(targets: Target[]): Record<string, { value: number; limit: number; kind: string; met: boolean }> {
  const out: Record<string, { value: number; limit: number; kind: string; met: boolean }> = {};
  for (const t of targets) out[t.name] = { value: t.value, limit: t.limit, kind: t.kind, met: t.kind === 'min' ? t.value >= t.limit : t.value <= t.limit };
  return out;
}
