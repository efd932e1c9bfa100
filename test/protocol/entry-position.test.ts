// Positions are built by a constructor (for V8's sake, see entryPosition), yet must stay plain
// objects to every reader: same prototype, same own enumerable fields in the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryPosition } from '../../src/protocol/entry-model.ts';

test('entryPosition gives a plain object equal to the literal of the same fields', () => {
  const p = entryPosition('binlog.000003', 4, 120, 7, 1_795_000_000_000, '0-7-9', '0-7-9');
  // without a resume point the entry resumes right after itself (a boundary)
  const literal = {
    file: 'binlog.000003',
    offset: 4,
    nextOffset: 120,
    serverId: 7,
    timestamp: 1_795_000_000_000,
    gtid: '0-7-9',
    gtidSet: '0-7-9',
    resumeFile: 'binlog.000003',
    resumeOffset: 120,
    resumeGtidSet: '0-7-9',
    resumeSkip: 0,
  };
  assert.deepStrictEqual(p, literal);
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.deepEqual(Object.keys(p), Object.keys(literal));
  assert.equal(JSON.stringify(p), JSON.stringify(literal));
  assert.deepStrictEqual({ ...p }, literal);
  // positions built with doubles (as the store rebuilds them) are the same kind of object
  const q = entryPosition('binlog.000003', 2 ** 33, 2 ** 33 + 0.5, 7, 1.5, '', '');
  assert.equal(q.offset, 2 ** 33);
  assert.equal(q.nextOffset, 2 ** 33 + 0.5);
  assert.equal(Object.getPrototypeOf(q), Object.prototype);
});
