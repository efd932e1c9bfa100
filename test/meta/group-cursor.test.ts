// A group cursor keeps the part of a source that has had nothing acknowledged since this start:
// a cursor written without it would send that source back to its configured start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupCursor, sourcePart } from '../../src/meta/group-cursor.ts';
import type { EntryPosition, LogPosition } from '../../src/protocol/entry-model.ts';

const acked: EntryPosition = { file: 'b.000002', offset: 900, nextOffset: 950, serverId: 12, timestamp: 5, gtid: '', gtidSet: '' };
const resumed: LogPosition = { journalName: 'a.000001', position: 400, serverId: 11, timestamp: 3, gtid: '' };

test('a source without an ack since the start keeps the part it resumed from', () => {
  const c = groupCursor(['shard1', 'shard2'], new Map([['shard2', acked]]), new Map([['shard1', resumed]]));
  assert.deepEqual(sourcePart(c, 'shard1', 'shard1'), resumed);
  assert.equal(sourcePart(c, 'shard2', 'shard1')?.position, 900);
  assert.equal(c?.journalName, 'a.000001', "Canal's fields repeat the primary's part");
});

test('an acknowledged boundary replaces the resumed part', () => {
  const mine: EntryPosition = { ...acked, file: 'a.000001', offset: 700, serverId: 11 };
  const c = groupCursor(['shard1', 'shard2'], new Map([['shard1', mine]]), new Map([['shard1', resumed]]));
  assert.equal(sourcePart(c, 'shard1', 'shard1')?.position, 700);
  assert.equal(sourcePart(c, 'shard2', 'shard1'), undefined);
});
