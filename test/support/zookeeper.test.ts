// The private ZooKeeper the HA tests use: standalone and a three-node ensemble, each node
// stoppable, freezable and restartable, with configurable session timeouts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeper } from './zookeeper.ts';
import { ZkSession } from '../../src/coord/zk-session.ts';
import { waitFor } from './sandbox.ts';

describe('test/support/zookeeper.ts', { concurrency: true }, () => {
  test('standalone: serves on a private port, grants the configured session bounds, SIGSTOP makes the lease lapse', async () => {
    const zk = await ZooKeeper.standalone({ tickTimeMs: 200, minSessionTimeoutMs: 600, maxSessionTimeoutMs: 3_000 });
    after(() => zk.cleanup());
    const node = zk.nodes[0]!;
    assert.notEqual(node.port, 2181);
    assert.equal(await node.mode(), 'standalone');
    const long = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 90_000 });
    assert.equal(long.sessionTimeoutMs, 3_000, 'capped by maxSessionTimeout');
    await long.close();
    const s = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 1_500 });
    assert.equal(s.sessionTimeoutMs, 1_500);
    await s.create('/t', Buffer.from('x'), 'ephemeral');
    const got = await s.get('/t');
    assert.equal(got?.data.toString(), 'x');
    assert.equal(got?.stat.ephemeralOwner, s.sessionId);
    assert.ok(s.leaseValid());
    let lost = false;
    s.on('lease-lost', () => (lost = true));
    node.freeze();
    await waitFor(() => lost, 'the lease to lapse while ZooKeeper is frozen', 5_000);
    assert.equal(s.leaseValid(), false);
    node.thaw();
    await waitFor(() => s.leaseValid() || s.expired, 'an answer or expiry after SIGCONT', 10_000);
    await s.close();
  });

  test('ensemble of three: one leader; two stopped lose the quorum; restarted, it serves again', async () => {
    const zk = await ZooKeeper.ensemble(3, { tickTimeMs: 200 });
    after(() => zk.cleanup());
    const modes = await Promise.all(zk.nodes.map((n) => n.mode()));
    assert.deepEqual([...modes].sort(), ['follower', 'follower', 'leader']);
    assert.equal(zk.connectString.split(',').length, 3);
    await zk.nodes[0]!.stop();
    await zk.nodes[1]!.kill();
    await waitFor(async () => (await zk.nodes[2]!.mode()) === undefined, 'the last node to stop serving without a quorum', 15_000, 100);
    await zk.nodes[0]!.restart(false);
    await zk.nodes[1]!.restart(false);
    await Promise.all(zk.nodes.map((n) => n.waitServing()));
    const s = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 2_000 });
    await s.ensurePath('/a/b');
    assert.deepEqual(await s.children('/a'), ['b']);
    await s.close();
  });
});
