// GET's wait from its wire fields, as Canal's SessionHandler reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveFetchSize, getWaitMs } from '../../src/server/get-wait.ts';

test('get wait: -1 now; absent, 0 and other negatives block; positives in TimeUnit ordinals', () => {
  assert.equal(getWaitMs(-1, 2), -1);
  assert.equal(getWaitMs(undefined, 2), 0);
  assert.equal(getWaitMs(0, 2), 0);
  assert.equal(getWaitMs(-5, 2), 0);
  assert.equal(getWaitMs(250, 2), 250); // ms
  assert.equal(getWaitMs(3, 3), 3000); // s
  assert.equal(getWaitMs(2, 4), 120_000); // min
  assert.equal(getWaitMs(1500, 1), 2); // µs, rounded up
  assert.equal(getWaitMs(5, 0), 1); // ns: never rounded down to "block"
  assert.equal(getWaitMs(5, undefined), 1); // absent unit is Java's 0: ns
  assert.equal(getWaitMs(40, -1), 40); // Go and Python send -1: ms
  assert.equal(getWaitMs(40, 9), 40); // unknown ordinal: ms
  assert.equal(getWaitMs(30, 6), 0x7fffffff); // 30 days, capped at what a timer can hold
});

test('fetch size: <= 0 means 1000, as the Java client substitutes', () => {
  assert.equal(effectiveFetchSize(0), 1000);
  assert.equal(effectiveFetchSize(-3), 1000);
  assert.equal(effectiveFetchSize(7), 7);
});
