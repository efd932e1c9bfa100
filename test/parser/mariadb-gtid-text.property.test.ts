// The converter keeps the MariaDB GTID position as text per domain instead of a zongji
// MariadbGtidPosition rebuilt into a string for every transaction. On random seeds and random
// runs of GTIDs the text equals what MariadbGtidPosition.add + toString gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MariadbGtidPosition } from '@vlasky/zongji';
import { addMariadbGtid, parseMariadbPosition } from '../../src/parser/event-converter.ts';

const seqNo = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.maxSafeNat(),
  // zongji's exact-string form of u64 sequence numbers beyond 2^53
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }).map((b) => b.toString()),
);
const gtid = fc.record({ domainId: fc.integer({ min: 0, max: 6 }), serverId: fc.integer({ min: 1, max: 4_294_967_295 }), seqNo });
const seed = fc
  .uniqueArray(gtid, { selector: (g) => g.domainId, maxLength: 4 })
  .map((gs) => gs.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`).join(','));

test('per-domain GTID text equals MariadbGtidPosition after every group', () => {
  fc.assert(
    fc.property(seed, fc.array(gtid, { minLength: 1, maxLength: 30 }), (seedText, groups) => {
      const reference = MariadbGtidPosition.parse(seedText);
      const domains = parseMariadbPosition(seedText);
      for (const g of groups) {
        reference.add(g);
        assert.equal(addMariadbGtid(domains, g.domainId, g.serverId, g.seqNo), reference.toString());
      }
    }),
    { numRuns: 1000 },
  );
});

test('a seed zongji rejects is rejected, naming the duplicate domain', () => {
  assert.throws(() => parseMariadbPosition('0-1-5,0-2-6'), /Duplicate replication domain 0/);
  assert.deepEqual(parseMariadbPosition(''), []);
});
