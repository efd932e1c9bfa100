import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import pg from 'pg';
import { PostgresSandbox } from './postgres-sandbox.ts';

test('postgres sandbox: a private server on its own port and folder, answers queries, gone after cleanup', async () => {
  const sb = await PostgresSandbox.start();
  try {
    assert.notEqual(sb.port, 5432);
    const c = new pg.Client(sb.config);
    await c.connect();
    try {
      const r = await c.query<{ db: string; port: string; fsync: string; tsv: string }>(
        "SELECT current_database() AS db, current_setting('port') AS port, current_setting('fsync') AS fsync, to_tsvector('english', 'running shoes')::text AS tsv",
      );
      assert.deepEqual(r.rows, [{ db: 'sluice_test', port: String(sb.port), fsync: 'off', tsv: "'run':1 'shoe':2" }]);
    } finally {
      await c.end();
    }
    await sb.sql('CREATE TABLE t (id int PRIMARY KEY)');
    await sb.sql('INSERT INTO t VALUES ($1), ($2)', [1, 2]);
    assert.deepEqual(await sb.sql('SELECT count(*)::int AS n FROM t'), [{ n: 2 }]);
  } finally {
    await sb.cleanup();
  }
  await assert.rejects(access(sb.dir), { code: 'ENOENT' });
  const late = new pg.Client({ ...sb.config, connectionTimeoutMillis: 2000 });
  await assert.rejects(late.connect(), 'the server is no longer listening');
});
