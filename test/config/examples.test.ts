import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.ts';

const CONFIG = fileURLToPath(new URL('../../config/', import.meta.url));
const env = { SLUICE_EXAMPLE_DB_PASSWORD: 'example-pw' };

test('the shipped JSON and Canal examples load and describe the same destination', async () => {
  const json = await loadConfig(CONFIG, { env });
  const canal = await loadConfig(CONFIG + 'canal', { env });
  assert.equal(json.format, 'sluice-json');
  assert.equal(canal.format, 'canal-properties');
  assert.deepEqual(canal.ignoredKeys, [], 'the Canal example holds only keys sluice uses');
  for (const cfg of [json, canal]) {
    assert.deepEqual(cfg.server.listen, { host: '127.0.0.1', port: 11111 });
    assert.deepEqual(cfg.server.auth, { user: 'canal', passwordHash: 'e3619321c1a937c46a0d8bd1dac39f93b27d4458' });
    assert.equal(cfg.server.admin.port, 11112);
  }
  const a = json.instances[0]!;
  const b = canal.instances[0]!;
  assert.deepEqual({ ...a, file: '' }, { ...b, file: '' });
  assert.equal(a.source.password, 'example-pw');
});
