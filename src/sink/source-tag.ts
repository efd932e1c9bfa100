// Marks which source of a group destination an entry came from: a header prop `source` naming
// it (the header's serverId is already the source's own server id). The entry is copied, never
// changed in place: the same entry object may go to other destinations sharing the reader.
import type { Pair, ParsedEntry } from '../protocol/entry-model.ts';

/** The header prop key naming an entry's source in a group destination. */
export const SOURCE_PROP = 'source';

export function tagSource(e: ParsedEntry, source: string): ParsedEntry {
  const props: Pair[] = [...(e.header.props ?? []), { key: SOURCE_PROP, value: source }];
  return { ...e, header: { ...e.header, props } };
}
