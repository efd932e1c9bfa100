import { test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { Sandbox } from './sandbox.ts';

test('sandbox: starts a private ROW-binlog server with a replication account, survives kill -9', async () => {
  const sb = await Sandbox.start();
  try {
    assert.notEqual(sb.port, 3306);
    const vars = await sb.sql<{ Variable_name: string; Value: string }[]>(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','binlog_row_metadata','server_id')",
    );
    const v = Object.fromEntries(vars.map((r) => [r.Variable_name, r.Value]));
    assert.deepEqual(v, { binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_row_metadata: 'FULL', log_bin: 'ON', server_id: String(sb.serverId) });
    const c = await mysql.createConnection(sb.replConfig);
    const [rows] = await c.query('SELECT CURRENT_USER() AS u');
    await c.end();
    assert.match((rows as { u: string }[])[0]!.u, /^sluice_repl@/);
    await sb.sql('CREATE TABLE t (id INT PRIMARY KEY)');
    await sb.sql('INSERT INTO t VALUES (1)');
    await sb.kill9();
    await sb.restart();
    const after = await sb.sql<{ n: number }[]>('SELECT COUNT(*) AS n FROM t');
    assert.equal(Number(after[0]!.n), 1);
  } finally {
    await sb.cleanup();
  }
});
