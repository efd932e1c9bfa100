// A destination's snapshots over its sources: one SnapshotManager for a single-source destination,
// one per source for a group (docs/snapshots.md, Group destinations). Each source's chunks are
// read from that source and bounded by its own watermarks in its own stream; a request names the
// logical table and is accepted on every source that has it, or on none. Progress of all sources
// is persisted together, each record naming its source.
import type { EntryPosition } from '../protocol/entry-model.ts';
import type { SnapshotRecord } from '../meta/meta-file.ts';
import { SnapshotRefused, TableMissing } from './table-shape.ts';
import type { CheckedRequest, SnapshotManager, SnapshotRequest, SnapshotStatus } from './snapshot-manager.ts';
import type { SnapshotFeed } from './snapshot-feed.ts';

export interface SnapshotMember {
  /** the group source's name; undefined for a single-source destination */
  source: string | undefined;
  manager: SnapshotManager;
}

export class SnapshotSet {
  constructor(
    private readonly destination: string,
    private readonly members: readonly SnapshotMember[],
  ) {}

  /** The feed the pump reads for `source` (undefined: the destination's only source). */
  feedOf(source: string | undefined): SnapshotFeed | undefined {
    return this.members.find((m) => m.source === source)?.manager.feed;
  }

  /** Every source's manager, for the calls that go to each alike. */
  managers(): SnapshotManager[] {
    return this.members.map((m) => m.manager);
  }

  async prepare(): Promise<void> {
    for (const m of this.members) await m.manager.prepare();
  }

  start(): void {
    for (const m of this.members) m.manager.start();
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.manager.close()));
  }

  /** Records persisted by an earlier run go back to the source they name. */
  restore(records: readonly SnapshotRecord[]): void {
    for (const m of this.members) {
      const mine = records.filter((r) => r.source === m.source || (this.members.length === 1 && r.source === undefined));
      if (mine.length > 0) m.manager.restore(mine);
    }
  }

  /**
   * Accepts the snapshot on every source that has the table, once each of them passed the checks;
   * refuses it as a whole when one refuses for another reason, or when no source has the table.
   */
  async request(req: SnapshotRequest, reason: SnapshotRecord['reason'] = 'request'): Promise<SnapshotStatus[]> {
    if (this.members.length === 1) return [await this.members[0]!.manager.request(req, reason)];
    const checks = await Promise.allSettled(this.members.map((m) => m.manager.check(req, reason)));
    const ready: { m: SnapshotMember; checked: CheckedRequest }[] = [];
    const refusals: string[] = [];
    const missing: string[] = [];
    checks.forEach((r, i) => {
      const m = this.members[i]!;
      if (r.status === 'fulfilled') ready.push({ m, checked: r.value });
      else if (r.reason instanceof TableMissing) missing.push(m.source!);
      // a source that cannot be asked (down, say) refuses too: the load would miss its rows
      else refusals.push(`source ${m.source}: ${(r.reason as Error).message}`);
    });
    if (refusals.length > 0) throw new SnapshotRefused(refusals.length === this.members.length && sameReason(refusals) ? (checks[0] as PromiseRejectedResult).reason.message : refusals.join('; '));
    if (ready.length === 0) throw new SnapshotRefused(`table ${req.table} does not exist on any source of destination ${this.destination} (${missing.join(', ')})`);
    for (const { m, checked } of ready) m.manager.refuseActive(checked.rec.schema, checked.rec.table);
    return ready.map(({ m, checked }) => m.manager.accept(checked));
  }

  stop(table?: string): SnapshotStatus[] {
    return this.members.flatMap((m) => m.manager.stop(table));
  }

  list(): SnapshotStatus[] {
    return this.members.flatMap((m) => m.manager.list());
  }

  records(): SnapshotRecord[] {
    return this.members.flatMap((m) => m.manager.records());
  }

  /**
   * A client acknowledged: `acked` gives the last acknowledged boundary of each source (of the only
   * source under undefined). Returns true if any progress moved.
   */
  onAck(acked: (source: string | undefined) => EntryPosition | undefined): boolean {
    let moved = false;
    for (const m of this.members) {
      const p = acked(m.source);
      if (p !== undefined && m.manager.onAck(p)) moved = true;
    }
    return moved;
  }
}

/** Every source refused for the same reason (a filter, a bad --where): said once. */
function sameReason(refusals: string[]): boolean {
  const strip = (r: string) => r.slice(r.indexOf(': ') + 2);
  return refusals.every((r) => strip(r) === strip(refusals[0]!));
}
