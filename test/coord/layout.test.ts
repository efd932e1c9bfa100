// Canal's ZooKeeper layout and running-node JSON, as sluice writes and reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientCursorPath,
  clientFilterPath,
  clientRunningPath,
  destinationMemberPath,
  isClientIdChild,
  serverNodePath,
  serverRunningPath,
} from '../../src/coord/paths.ts';
import { formatClientRunning, formatServerRunning, parseClientRunning, parseServerRunning } from '../../src/coord/running-data.ts';
import { activeAddressIn, isNotActiveRefusal, notActiveMessage } from '../../src/coord/refusal.ts';

test('paths follow Canal: /otter/canal/...', () => {
  assert.equal(serverNodePath('10.0.0.5:11111'), '/otter/canal/cluster/10.0.0.5:11111');
  assert.equal(destinationMemberPath('example', '10.0.0.5:11111'), '/otter/canal/destinations/example/cluster/10.0.0.5:11111');
  assert.equal(serverRunningPath('example'), '/otter/canal/destinations/example/running');
  assert.equal(clientRunningPath('example', '1001'), '/otter/canal/destinations/example/1001/running');
  assert.equal(clientCursorPath('example', '1001'), '/otter/canal/destinations/example/1001/cursor');
  assert.equal(clientFilterPath('example', '1001'), '/otter/canal/destinations/example/1001/filter');
  assert.throws(() => serverRunningPath('a/b'), /destination "a\/b" cannot be a ZooKeeper path segment/);
  assert.throws(() => serverNodePath('host'), /is not host:port/);
  assert.throws(() => serverNodePath('host:70000'), /is not host:port/);
  assert.ok(isClientIdChild('1001'));
  assert.ok(!isClientIdChild('running') && !isClientIdChild('cluster'));
});

test("running JSON: Canal's field names and order, precise errors", () => {
  assert.equal(formatServerRunning({ active: true, address: '127.0.0.1:11111', cid: 1 }).toString(), '{"active":true,"address":"127.0.0.1:11111","cid":1}');
  assert.equal(formatClientRunning({ active: true, address: '127.0.0.1:5000', clientId: 1001 }).toString(), '{"active":true,"address":"127.0.0.1:5000","clientId":1001}');
  assert.deepEqual(parseServerRunning(Buffer.from('{"active":true,"address":"10.1.1.1:11111","cid":2}')), { active: true, address: '10.1.1.1:11111', cid: 2 });
  assert.deepEqual(parseServerRunning('{"address":"h:1","cid":"3"}'), { active: true, address: 'h:1', cid: 3 });
  assert.deepEqual(parseClientRunning('{"active":false,"address":"h:2","clientId":1001}'), { active: false, address: 'h:2', clientId: 1001 });
  assert.throws(() => parseServerRunning(Buffer.alloc(0), '/r'), /\/r is empty/);
  assert.throws(() => parseServerRunning('nope', '/r'), /\/r does not hold JSON/);
  assert.throws(() => parseServerRunning('{"address":"x"}', '/r'), /\/r: server address "x" is not host:port/);
  assert.throws(() => parseClientRunning('{"address":"h:1","clientId":"a"}', '/c'), /"clientId" must be an integer/);
});

test('the refusal a standby sends names the active server', () => {
  const m = notActiveMessage('example', 'standby', '127.0.0.1:11111');
  assert.equal(m, 'destination example is not active on this server (standby); the active server is 127.0.0.1:11111');
  assert.ok(isNotActiveRefusal(m));
  assert.equal(activeAddressIn(m), '127.0.0.1:11111');
  const none = notActiveMessage('example', 'standby', undefined);
  assert.ok(isNotActiveRefusal(none));
  assert.equal(activeAddressIn(none), undefined);
});
