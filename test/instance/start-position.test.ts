// The log line that says where an instance starts reads as English for every kind of start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseStart } from '../../src/instance/start-position.ts';

test('the start reason names a configured start without doubled articles ("the configured the current end")', () => {
  const end = chooseStart(undefined, undefined, { kind: 'end' });
  assert.equal(end.reason, 'no cursor yet: starting at the current end of the binlog (the configured start)');
  const pos = chooseStart(undefined, undefined, { kind: 'position', file: 'binlog.000002', offset: 4 });
  assert.equal(pos.reason, 'no cursor yet: starting at binlog.000002:4 (the configured start)');
});
