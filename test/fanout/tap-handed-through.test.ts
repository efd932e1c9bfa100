// ReaderTap.handedThrough(): where a shared-reader destination's stream stands on an idle source,
// which snapshots ask to emit a chunk when no further entry arrives (docs/snapshots.md). Fake
// parsers stand in for EventParser: attached, the tap answers with the shared parser's point only
// once it has every chunk of the window; on its own parser, with that parser's point once it has
// re-read past what it had delivered before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StartFrom } from '../../src/parser/event-parser.ts';
import { entryPosition, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { FILE, fakeReader, idsOf } from './support/fake-parser.ts';

test('a tap says where its stream stands: attached, after falling behind, on its own parser, and after rejoining', async () => {
  const { parsers, make, reader } = fakeReader();
  const start: StartFrom = { kind: 'position', file: FILE, offset: 4 };
  const a = reader.tap('a', start, make, idsOf(1));
  const b = reader.tap('b', start, make, idsOf(2));
  const got: number[] = [];
  a.on('entries', (es: ParsedEntry[]) => got.push(...es.map((e) => e.position.nextOffset)));
  await Promise.all([a.start(), b.start()]);
  assert.equal(parsers.length, 1, 'both taps share one parser');
  const shared = parsers[0]!;

  assert.equal(a.handedThrough(), undefined, 'nothing read yet');
  shared.txn(100, 200);
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 200, gtidSet: '0-1-200' }, 'attached, with every chunk delivered: the shared parser point');

  // `a` is paused by its pump: the shared stream goes on for `b`; `a` does not have those chunks.
  a.pause();
  shared.txn(200, 250);
  assert.equal(a.handedThrough(), undefined, 'entries wait for the paused tap');
  assert.deepEqual(b.handedThrough(), { file: FILE, offset: 250, gtidSet: '0-1-250' });
  shared.txn(250, 400);
  shared.txn(400, 500);
  assert.equal(reader.counters.detaches, 1, 'more than the window behind: detached');
  assert.equal(a.handedThrough(), undefined, 'detached: nothing');

  // Resumed: it reads on a parser of its own from its last boundary (200).
  a.resume();
  await new Promise((r) => setImmediate(r));
  assert.equal(reader.counters.soloStarts, 1);
  const own = parsers[1]!;
  assert.deepEqual(own.from, { kind: 'cursor', cursor: { journalName: FILE, position: 190, nextPosition: 200, serverId: 1, timestamp: 0, gtid: '0-1-200' } });
  own.handed = { file: FILE, offset: 200, gtidSet: '0-1-200' };
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 200, gtidSet: '0-1-200' }, 'on its own parser: that parser point');
  own.txn(200, 250);
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 250, gtidSet: '0-1-250' });
  own.txn(250, 400);
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 400, gtidSet: '0-1-400' });
  own.txn(400, 500);
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 500, gtidSet: '0-1-500' }, 'caught up on an idle source: still its own parser point');
  // The shared stream moves on (the window keeps it while a tap reads on its own); the tap's own
  // parser reaches the same boundary and it is attached again.
  shared.txn(500, 600);
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 500, gtidSet: '0-1-500' });
  own.txn(500, 600);
  assert.equal(reader.counters.joins, 1, 'attached again');
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 600, gtidSet: '0-1-600' }, 'attached again: the shared parser point');
  shared.txn(600, 700);
  assert.deepEqual(got.slice(-2), [610, 700]);
  assert.deepEqual(a.handedThrough(), { file: FILE, offset: 700, gtidSet: '0-1-700' });
  await Promise.all([a.stop(), b.stop()]);
});

test('a tap re-reading what it delivered before a restart says nothing until its parser is past it', async () => {
  const { parsers, make, reader } = fakeReader();
  const t = reader.tap('t', { kind: 'position', file: FILE, offset: 4 }, make, idsOf(1));
  await t.start();
  const p = parsers[0]!;
  p.txn(100, 200);
  // what a promotion sets: the new parser's first entries repeat what was delivered, up to 200
  t.skipTo = entryPosition(FILE, 190, 200, 1, 0, '', '0-1-200');
  p.handed = { file: FILE, offset: 150, gtidSet: '0-1-150' };
  assert.equal(t.handedThrough(), undefined, 'behind what the tap delivered');
  p.handed = { file: FILE, offset: 200, gtidSet: '0-1-200' };
  assert.deepEqual(t.handedThrough(), { file: FILE, offset: 200, gtidSet: '0-1-200' }, 'past it: the parser point');
  await t.stop();
});
