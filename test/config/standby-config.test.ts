// The standby source and failover settings in sluice's JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { FAILOVER_DEFAULTS } from '../../src/config/failover-defaults.ts';

const SOURCE = { host: 'db1', port: 3306, user: 'repl', password: 'pw' };
const ENV = { DB2_PASSWORD: 'pw2' };

async function load(instance: object): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-standby-config-'));
  try {
    await mkdir(join(dir, 'instances'));
    await writeFile(join(dir, 'instances', 'shop.json'), JSON.stringify(instance));
    return await loadConfig(dir, { env: ENV });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a standby with its own account, and the failover defaults', async () => {
  const cfg = await load({ source: SOURCE, standby: { host: 'db2', user: 'repl2', password: { env: 'DB2_PASSWORD' }, start: { gtid: '0-1-5' } } });
  const shop = cfg.instances[0]!;
  assert.deepEqual(shop.standby, { host: 'db2', port: 3306, user: 'repl2', password: 'pw2', connectTimeoutMs: 10_000, start: { kind: 'gtid', gtid: '0-1-5' } });
  assert.deepEqual(shop.failover, FAILOVER_DEFAULTS);
});

test('no standby: none configured, failover defaults still present', async () => {
  const cfg = await load({ source: SOURCE, failover: { afterSilenceMs: 5000 } });
  assert.equal(cfg.instances[0]!.standby, undefined);
  assert.equal(cfg.instances[0]!.failover?.afterSilenceMs, 5000);
});

test('a standby equal to the source, a missing standby account and a bad failover value are named', async () => {
  for (const [instance, re] of [
    [{ source: SOURCE, standby: { host: 'db1', port: 3306, user: 'u', password: '' } }, /instances\/shop\.json: standby\.host: the standby must be another server than source/],
    [{ source: SOURCE, standby: { host: 'db2' } }, /instances\/shop\.json: standby\.user: required key is missing/],
    [{ source: SOURCE, failover: { afterFailedReconnects: 0 } }, /instances\/shop\.json: failover\.afterFailedReconnects/],
  ] as const) {
    await assert.rejects(load(instance), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, re);
      return true;
    });
  }
});
