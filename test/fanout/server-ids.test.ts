// The server ids of a shared reader's connections (docs/sink-and-store.md, "Server ids"): the
// shared parser uses the lowest slaveId the destinations on it configure (else the reader's
// default), and no two parsers ever hold one id at once: a destination whose own id the shared
// parser holds reads on its own with its spare id, and a new shared parser leaves out the ids
// that destinations reading on their own hold. Fake parsers record the id each was made with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StartFrom } from '../../src/parser/event-parser.ts';
import { DEFAULT_ID, FILE, fakeReader, idsOf, settle, type FakeParser } from './support/fake-parser.ts';

const START: StartFrom = { kind: 'position', file: FILE, offset: 4 };

/** The ids of the parsers connected now: each at most once. */
function assertDistinct(parsers: FakeParser[]): void {
  const ids = parsers.filter((p) => p.running).map((p) => p.serverId);
  assert.equal(new Set(ids).size, ids.length, `running parsers hold distinct ids: ${ids.join(', ')}`);
}

test('the shared parser takes the lowest configured slaveId; without one, the default', async () => {
  const { parsers, make, reader } = fakeReader();
  const taps = [reader.tap('a', START, make, idsOf(1, 300)), reader.tap('b', START, make, idsOf(2, 200)), reader.tap('c', START, make, idsOf(3))];
  await Promise.all(taps.map((t) => t.start()));
  assert.equal(parsers.length, 1);
  assert.equal(parsers[0]!.serverId, 200);
  assert.equal(reader.sharedServerId(), 200);
  await Promise.all(taps.map((t) => t.stop()));

  const other = fakeReader();
  const t = other.reader.tap('d', START, other.make, idsOf(4));
  await t.start();
  assert.equal(other.parsers[0]!.serverId, DEFAULT_ID, 'no destination configures one: the default');
  await t.stop();
});

test("a destination whose id the shared parser holds reads on its own with its spare id; the others with their own", async () => {
  const { parsers, make, reader } = fakeReader();
  const a = reader.tap('a', START, make, idsOf(1, 300));
  const b = reader.tap('b', START, make, idsOf(2, 200));
  const c = reader.tap('c', START, make, idsOf(3, 400));
  await Promise.all([a.start(), b.start(), c.start()]);
  const shared = parsers[0]!;
  assert.equal(shared.serverId, 200);
  // b and a fall a window behind and are detached; c keeps the shared parser going.
  b.pause();
  a.pause();
  shared.txn(100, 200);
  shared.txn(200, 300);
  assert.equal(reader.counters.detaches, 2);
  b.resume();
  a.resume();
  await settle();
  assert.equal(reader.counters.soloStarts, 2);
  const byTapOrder = parsers.slice(1).map((p) => p.serverId).sort();
  assert.deepEqual(byTapOrder, [300, 6002], "b's own id 200 is the shared parser's: b uses its spare 6002; a its own 300");
  assertDistinct(parsers);
  await Promise.all([a.stop(), b.stop(), c.stop()]);
});

test('a new shared parser leaves out the ids destinations reading on their own hold', async () => {
  const { parsers, make, reader } = fakeReader();
  // y starts alone: the shared parser takes y's 200.
  const y = reader.tap('y', START, make, idsOf(1, 200));
  await y.start();
  assert.equal(parsers[0]!.serverId, 200);
  // x and z start from elsewhere: each reads on its own, with its own id.
  const x = reader.tap('x', { kind: 'position', file: FILE, offset: 50 }, make, idsOf(2, 100));
  const z = reader.tap('z', { kind: 'position', file: FILE, offset: 60 }, make, idsOf(3, 300));
  await Promise.all([x.start(), z.start()]);
  const [shared, ownX, ownZ] = parsers as [FakeParser, FakeParser, FakeParser];
  assert.deepEqual([ownX.serverId, ownZ.serverId], [100, 300]);
  ownX.txn(60, 70);
  ownZ.txn(70, 500);
  // y falls behind and is detached: no tap is attached, so the one furthest ahead on its own
  // (z) becomes the shared stream on a new parser. x still holds 100 with its own parser.
  y.pause();
  shared.txn(100, 200);
  shared.txn(200, 300);
  await settle();
  assert.equal(reader.counters.promotions, 1);
  const promoted = parsers[3]!;
  assert.equal(promoted.serverId, 200, "the lowest configured id no parser of a tap's own holds (x's 100 is held)");
  assert.equal(ownZ.running, false, "z's own parser stopped before the new shared one started");
  assertDistinct(parsers);
  // y comes back: its own id 200 is the shared parser's, so it reads on its own with its spare.
  y.resume();
  await settle();
  assert.equal(parsers[4]!.serverId, 6001);
  assertDistinct(parsers);
  await Promise.all([x.stop(), y.stop(), z.stop()]);
});
