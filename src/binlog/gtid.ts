// GTID positions: MariaDB's domain-server-sequence position (one GTID per replication domain)
// and MySQL's GTID set (uuid:intervals), parsed, updated and printed.
import { BinlogFormatError } from './bytes.ts';

export interface MariadbGtid {
  domainId: number;
  serverId: number;
  /** u64 sequence number as exact decimal text */
  seqNo: string;
}

function uint32(text: string, gtid: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new BinlogFormatError(`invalid MariaDB GTID '${gtid}': '${text}' is not a 32-bit number`);
  return n;
}

/** One MariaDB GTID 'domain-server-seq'. */
export function parseMariadbGtid(text: string): MariadbGtid {
  const entry = text.trim();
  const parts = entry.split('-');
  if (parts.length !== 3) throw new BinlogFormatError(`invalid MariaDB GTID '${entry}': expected domain-server-sequence, e.g. 0-1-1234`);
  const seq = parts[2]!;
  if (!/^\d+$/.test(seq) || BigInt(seq) > 0xffffffffffffffffn) throw new BinlogFormatError(`invalid MariaDB GTID '${entry}': bad sequence number`);
  return { domainId: uint32(parts[0]!, entry), serverId: uint32(parts[1]!, entry), seqNo: BigInt(seq).toString() };
}

/** A MariaDB GTID position ('' or comma-separated GTIDs, one per domain), in domain order. */
export function parseMariadbPosition(text: string): MariadbGtid[] {
  if (!text) return [];
  const out: MariadbGtid[] = [];
  for (const part of text.split(',')) {
    const g = parseMariadbGtid(part);
    if (out.some((o) => o.domainId === g.domainId)) throw new BinlogFormatError(`Duplicate replication domain ${g.domainId} in GTID position '${text}'`);
    out.push(g);
  }
  return out.sort((a, b) => a.domainId - b.domainId);
}

export function formatMariadbPosition(gtids: readonly MariadbGtid[]): string {
  return gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`).join(',');
}

/** A MySQL GTID set: per source uuid (and tag) the executed transaction numbers as intervals. */
export class MysqlGtidSet {
  /** 'uuid' or 'uuid:tag' -> sorted, coalesced [start, end] intervals */
  private readonly sids = new Map<string, [bigint, bigint][]>();

  static parse(text: string): MysqlGtidSet {
    const set = new MysqlGtidSet();
    if (!text) return set;
    for (const entry of text.split(',')) {
      const parts = entry.trim().toLowerCase().split(':');
      const uuid = parts[0]!;
      let tag = '';
      for (const p of parts.slice(1)) {
        if (/^[a-z_]/.test(p)) {
          tag = p;
          continue;
        }
        const m = /^(\d+)(?:-(\d+))?$/.exec(p);
        if (!m) throw new BinlogFormatError(`invalid MySQL GTID set '${text}'`);
        set.addInterval(uuid, tag, BigInt(m[1]!), BigInt(m[2] ?? m[1]!));
      }
    }
    return set;
  }

  /** Adds one transaction 'uuid:gno' or 'uuid:tag:gno'. */
  add(gtid: string): void {
    const parts = gtid.trim().toLowerCase().split(':');
    if (parts.length < 2 || parts.length > 3) throw new BinlogFormatError(`invalid MySQL GTID '${gtid}'`);
    const gno = BigInt(parts[parts.length - 1]!);
    this.addInterval(parts[0]!, parts.length === 3 ? parts[1]! : '', gno, gno);
  }

  private addInterval(uuid: string, tag: string, start: bigint, end: bigint): void {
    const key = tag === '' ? uuid : `${uuid}:${tag}`;
    const list = this.sids.get(key) ?? [];
    list.push([start, end]);
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: [bigint, bigint][] = [list[0]!];
    for (let i = 1; i < list.length; i++) {
      const last = merged[merged.length - 1]!;
      const next = list[i]!;
      if (next[0] <= last[1] + 1n) {
        if (next[1] > last[1]) last[1] = next[1];
      } else merged.push(next);
    }
    this.sids.set(key, merged);
  }

  toString(): string {
    const keys = [...this.sids.keys()].sort((a, b) => {
      const [ua, ta = ''] = a.split(':');
      const [ub, tb = ''] = b.split(':');
      return ua! < ub! ? -1 : ua! > ub! ? 1 : ta < tb ? -1 : ta > tb ? 1 : 0;
    });
    let text = '';
    let lastUuid = '';
    for (const key of keys) {
      const [uuid, tag = ''] = key.split(':') as [string, string | undefined];
      const ranges = this.sids
        .get(key)!
        .map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`))
        .join(':');
      if (uuid === lastUuid) text += `:${tag}:${ranges}`;
      else {
        text += `${text === '' ? '' : ','}${uuid}${tag === '' ? '' : `:${tag}`}:${ranges}`;
        lastUuid = uuid;
      }
    }
    return text;
  }
}
