// A source that writes row changes as statements (binlog_format=STATEMENT or MIXED) while
// streaming: the QUERY entries are still delivered (as Canal does), and sluice says so: one
// warning per table and period, a metric, and /health degraded naming binlog_format.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { instanceConfig, startInProcess, client, consumeUntil } from '../faults/support/harness.ts';
import { StatementFormatWatch } from '../../src/parser/statement-format.ts';
import { SluiceMetrics } from '../../src/observe/metrics.ts';
import { healthReport } from '../../src/observe/admin-http.ts';

let sb: Sandbox;
let dataDir: string;

before(async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-statement-format-'));
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
  await sb.sql('CREATE TABLE u (id INT PRIMARY KEY)');
});

after(async () => {
  await sb?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('StatementFormatWatch: one warning per table per period; degraded while it keeps happening', () => {
  let now = 1_000_000;
  const warnings: string[] = [];
  const w = new StatementFormatWatch({ warn: (o: object) => warnings.push((o as { table: string }).table), info() {}, error() {} }, 60_000, () => now);
  assert.equal(w.degraded(), undefined);
  for (let i = 0; i < 5; i++) w.note('db', 't', { file: 'b.1', offset: i });
  w.note('db', 'u', { file: 'b.1', offset: 9 });
  assert.deepEqual(warnings, ['db.t', 'db.u']);
  assert.match(w.degraded()!, /binlog_format.*6 row change.*set binlog_format=ROW/);
  now += 60_000;
  assert.equal(w.degraded(), undefined, 'a period without statements clears it');
  w.note('db', 't', { file: 'b.1', offset: 10 });
  assert.deepEqual(warnings, ['db.t', 'db.u', 'db.t'], 'warned again in the next period');
  assert.deepEqual(w.stats(), { count: 7, lastSeenAt: now });
});

test('binlog_format switched to STATEMENT while streaming: QUERY entries delivered, counted, health degraded', async () => {
  const cfg = instanceConfig(sb, 'stmt');
  const s = await startInProcess(cfg, dataDir, 50);
  const conn = await mysql.createConnection({ ...sb.rootConfig, database: sb.database });
  try {
    const c = client(s.port, 'stmt');
    await c.connect();
    await c.subscribe();
    assert.equal(s.instance.degraded(), undefined);
    await conn.query("SET SESSION binlog_format = 'STATEMENT'");
    await conn.query("INSERT INTO t VALUES (1, 'a')");
    await conn.query("UPDATE t SET v = 'b' WHERE id = 1");
    await conn.query('INSERT INTO u VALUES (1)');
    const seen: string[] = [];
    await consumeUntil(
      c,
      (b) => {
        for (const e of b) if (e.entryType === 'ROWDATA') seen.push(`${e.eventType}:${e.tableName}:${e.rows.length}:${e.sql}`);
      },
      () => seen.length >= 3,
      'three statement entries',
    );
    assert.deepEqual(seen, ["INSERT:t:0:INSERT INTO t VALUES (1, 'a')", "UPDATE:t:0:UPDATE t SET v = 'b' WHERE id = 1", 'INSERT:u:0:INSERT INTO u VALUES (1)']);
    await waitFor(() => s.instance.stats().statementDml === 3, 'three statement row changes counted');
    const degraded = s.instance.degraded();
    assert.match(degraded ?? '', /binlog_format: 3 row change\(s\) arrived as statements without rows \(last on .*\.u\); set binlog_format=ROW/);
    const { code, body } = healthReport([{ destination: 'stmt', ...s.instance.status(), degraded: degraded! }]);
    assert.equal(code, 200);
    assert.equal(body.status, 'degraded');
    assert.match(body.instances.stmt!.degraded!, /set binlog_format=ROW/);
    const metrics = new SluiceMetrics({ processMetrics: false });
    metrics.add(s.instance);
    assert.match(await metrics.text(), /sluice_statement_dml_total\{destination="stmt"\} 3/);
    await c.disconnect();
  } finally {
    await conn.end();
    await s.stop();
  }
});
