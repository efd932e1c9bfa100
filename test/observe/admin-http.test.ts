import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceMetrics } from '../../src/observe/metrics.ts';
import { AdminHttpServer } from '../../src/observe/admin-http.ts';
import { FakeInstance, baseStats } from './fake-instance.ts';

test('/metrics serves Prometheus text and /health turns 503 when an instance is not running', async () => {
  const shop = new FakeInstance('shop');
  const crm = new FakeInstance('crm', baseStats({ events: 7 }));
  const metrics = new SluiceMetrics({ bytesBehind: (d) => (d === 'shop' ? 2700 : undefined), now: () => 1_700_000_000_000 + 250 });
  metrics.add(shop);
  metrics.add(crm);
  const instances = [shop, crm];
  const admin = new AdminHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    health: () => instances.map((i) => ({ destination: i.destination, ...i.stats() })),
  });
  const { port } = await admin.listen();
  const base = `http://127.0.0.1:${port}`;
  try {
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await m.text();
    for (const line of [
      'sluice_instance_state{destination="shop",state="running"} 1',
      'sluice_instance_state{destination="shop",state="failed"} 0',
      'sluice_binlog_events_total{destination="shop"} 120',
      'sluice_binlog_events_total{destination="crm"} 7',
      'sluice_binlog_rows_total{destination="shop"} 300',
      'sluice_binlog_bytes_total{destination="shop"} 45000',
      'sluice_delay_ms{destination="shop"} 250',
      'sluice_store_entries{destination="shop"} 5',
      'sluice_store_bytes{destination="shop"} 2048',
      'sluice_store_capacity_entries{destination="shop"} 16384',
      'sluice_store_capacity_bytes{destination="shop"} 67108864',
      'sluice_batches_total{destination="shop"} 10',
      'sluice_acks_total{destination="shop"} 9',
      'sluice_rollbacks_total{destination="shop"} 1',
      'sluice_reconnects_total{destination="shop"} 1',
      'sluice_errors_total{destination="shop"} 2',
      'sluice_outstanding_batches{destination="shop"} 1',
      'sluice_clients{destination="shop"} 1',
      'sluice_bytes_behind{destination="shop"} 2700',
      '# TYPE sluice_acks_total counter',
    ]) {
      assert.ok(text.includes(line), `missing ${line}`);
    }
    assert.match(text, /sluice_process_resident_memory_bytes|sluice_nodejs_heap_size_used_bytes/);

    const h = await fetch(`${base}/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok', instances: { shop: { state: 'running' }, crm: { state: 'running' } } });

    crm.current = baseStats({ state: 'failed', error: 'binlog file binlog.000001 has been purged' });
    const h2 = await fetch(`${base}/health`);
    assert.equal(h2.status, 503);
    assert.deepEqual(await h2.json(), {
      status: 'unavailable',
      instances: { shop: { state: 'running' }, crm: { state: 'failed', error: 'binlog file binlog.000001 has been purged' } },
    });
    const m2 = await (await fetch(`${base}/metrics`)).text();
    assert.ok(m2.includes('sluice_instance_state{destination="crm",state="failed"} 1'));

    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await admin.close();
  }
});

test('two metric registries do not collide (one per server in a process)', async () => {
  const a = new SluiceMetrics({ processMetrics: false });
  const b = new SluiceMetrics({ processMetrics: false });
  a.add(new FakeInstance('x'));
  b.add(new FakeInstance('y'));
  assert.match(await a.text(), /destination="x"/);
  assert.doesNotMatch(await a.text(), /destination="y"/);
});
