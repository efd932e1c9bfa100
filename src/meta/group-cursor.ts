// A group destination's cursor: one position per source, carried as an extension of the one-source
// cursor. The Canal fields (journalName, position, ...) repeat the primary (first configured)
// source's position, or the first source that has one, so Canal tools still read a cursor; the
// `sources` list is what a group resumes from. Each source's part is that source's last
// acknowledged transaction boundary, so every source resumes exactly where its own acknowledged
// entries end, whatever the interleaving in the store was.
import { cursorFromEntry, type EntryPosition, type LogPosition, type SourceCursor } from '../protocol/entry-model.ts';
import { compareCursors } from './cursor-order.ts';

/**
 * Builds the cursor from each source's last acknowledged boundary, in the group's source order.
 * A source with nothing acknowledged since this start keeps the part it resumed from (`resumed`):
 * dropping it would send that source back to its configured start on the next restart.
 */
export function groupCursor(order: readonly string[], acked: ReadonlyMap<string, EntryPosition>, resumed: ReadonlyMap<string, LogPosition> = new Map()): LogPosition | undefined {
  const sources: SourceCursor[] = [];
  for (const name of order) {
    const p = acked.get(name);
    if (p !== undefined) sources.push({ source: name, ...cursorFromEntry(p) });
    else {
      const r = resumed.get(name);
      if (r !== undefined) sources.push({ ...withoutParts(r), source: name });
    }
  }
  const head = sources[0];
  if (head === undefined) return undefined;
  const { source: _primary, ...canal } = head;
  return { ...canal, sources };
}

function withoutParts(c: LogPosition): LogPosition {
  const { sources: _parts, ...one } = c;
  return one;
}

/**
 * `source`'s resume position in `cursor`. A cursor without a sources list (written by Canal, or
 * by this destination before it became a group) is the primary source's position.
 */
export function sourcePart(cursor: LogPosition | undefined, source: string, primary: string): LogPosition | undefined {
  if (cursor === undefined) return undefined;
  if (cursor.sources === undefined) {
    if (source !== primary) return undefined;
    const { sources: _none, ...one } = cursor;
    return one;
  }
  const part = cursor.sources.find((s) => s.source === source);
  if (part === undefined) return undefined;
  const { source: _name, ...pos } = part;
  return pos;
}

/** Per source, the position furthest behind over all clients' cursors (a restart resumes there). */
export function minSourceParts(cursors: Iterable<LogPosition | undefined>, order: readonly string[]): Map<string, LogPosition> {
  const out = new Map<string, LogPosition>();
  const list = [...cursors];
  for (const name of order) {
    for (const c of list) {
      const part = sourcePart(c, name, order[0]!);
      const prev = out.get(name);
      if (part !== undefined && (prev === undefined || compareCursors(part, prev) < 0)) out.set(name, part);
    }
  }
  return out;
}
