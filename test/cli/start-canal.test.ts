import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CanalClient } from '../../src/client/canal-client.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { startSluice, type RunningSluice } from '../../src/cli/start.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';

test('a Canal conf directory runs as it is: canal.user/passwd guard the port, the destination serves rows', async () => {
  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-canal-start-'));
  let sluice: RunningSluice | undefined;
  let client: CanalClient | undefined;
  try {
    await sb.sql('CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2))');
    await writeFile(
      join(dir, 'canal.properties'),
      [
        'canal.ip =',
        'canal.port = 0',
        'canal.metrics.pull.port = 0',
        'canal.user = canal',
        `canal.passwd = ${storedPasswordHash('canal-secret').toUpperCase()}`,
        'canal.file.data.dir = ${canal.conf.dir}/data',
        'canal.destinations = example',
        'canal.instance.tsdb.enable = false',
      ].join('\n'),
    );
    await mkdir(join(dir, 'example'));
    await writeFile(
      join(dir, 'example', 'instance.properties'),
      [
        `canal.instance.master.address = 127.0.0.1:${sb.port}`,
        `canal.instance.dbUsername = ${sb.replConfig.user}`,
        'canal.instance.dbPassword = ${CANAL_TEST_DB_PW}',
        'canal.instance.mysql.slaveId = 6060',
        'canal.instance.filter.regex = sluice_test\\\\.orders',
      ].join('\n'),
    );
    const cfg = await loadConfig(dir, { env: { CANAL_TEST_DB_PW: sb.replConfig.password } });
    sluice = await startSluice(cfg, createLogger({ level: 'silent', pretty: false }));
    await sluice.ready;
    assert.equal(sluice.instances[0]!.status().state, 'running');
    const port = sluice.canalPort;

    const intruder = new CanalClient({ host: '127.0.0.1', port, destination: 'example', user: 'canal', password: 'wrong', reconnect: false });
    await assert.rejects(intruder.connect());
    await intruder.disconnect().catch(() => undefined);

    client = new CanalClient({ host: '127.0.0.1', port, destination: 'example', user: 'canal', password: 'canal-secret', reconnect: false });
    await client.connect();
    await client.subscribe();
    await sb.sql('INSERT INTO orders VALUES (7, 19.90)');
    let values: Record<string, string | null> | undefined;
    await waitFor(
      async () => {
        const b = await client!.get(100, 500);
        for (const e of b) if (e.eventType === 'INSERT') values = e.rows[0]!.after;
        return values !== undefined;
      },
      'the INSERT through the Canal-configured destination',
      30_000,
      0,
    );
    assert.deepEqual(values, { id: '7', total: '19.90' });
  } finally {
    await client?.disconnect().catch(() => undefined);
    await sluice?.stop();
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});
