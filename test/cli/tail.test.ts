// `sluice tail` as a child process against a live pipeline (MariaDB sandbox -> parser -> store ->
// CanalServer): the exact JSON lines, exit codes, and that what it printed was acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { servePipeline } from '../client/support/serve.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tail(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tail', ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const JSON_KEYS = ['entryType', 'logfileName', 'logfileOffset', 'executeTime', 'schemaName', 'tableName', 'eventType', 'isDdl', 'sql', 'gtid', 'transactionId', 'rows'];

test('tail --format json --limit prints exact entries, exits 0, and acknowledges what it printed', async () => {
  const sb = await Sandbox.start();
  let pipe: Awaited<ReturnType<typeof servePipeline>> | undefined;
  try {
    await sb.sql('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) NULL)');
    pipe = await servePipeline(sb, { server: { user: 'canal', passwordHash: storedPasswordHash('tail-Secret') } });
    for (let id = 1; id <= 5; id++) await sb.sql('INSERT INTO items VALUES (?, ?)', [id, id === 2 ? null : `n${id}`]);
    await waitFor(() => pipe!.store.stats().entries >= 15, 'five transactions in the store', 30_000);
    const common = ['--host', '127.0.0.1', '--port', String(pipe.port), '--destination', 'example', '--user', 'canal'];

    const wrong = await tail([...common, '--limit', '1'], { SLUICE_PASSWORD: 'not-it' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /auth failed for user:canal/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, /not-it|tail-Secret/);

    // No credentials at all: the error names tail's own flag and variable, not just user "".
    const anonymous = await tail(['--host', '127.0.0.1', '--port', String(pipe.port), '--destination', 'example', '--limit', '1'], { SLUICE_PASSWORD: '' });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /--user/);
    assert.match(anonymous.stderr, /SLUICE_PASSWORD/);

    const first = await tail([...common, '--format', 'json', '--limit', '3'], { SLUICE_PASSWORD: 'tail-Secret' });
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) assert.deepEqual(Object.keys(l), JSON_KEYS);
    const inserts = lines.filter((l) => l.eventType === 'INSERT');
    assert.deepEqual(
      inserts.map((l) => l.rows),
      [[{ before: {}, after: { id: '1', name: 'n1' } }], [{ before: {}, after: { id: '2', name: null } }], [{ before: {}, after: { id: '3', name: 'n3' } }]],
    );
    const ins = inserts[0]!;
    assert.equal(ins.entryType, 'ROWDATA');
    assert.equal(ins.schemaName, sb.database);
    assert.equal(ins.tableName, 'items');
    assert.equal(ins.isDdl, false);
    assert.equal(typeof ins.logfileName, 'string');
    assert.ok((ins.logfileOffset as number) > 0);
    assert.ok((ins.executeTime as number) > 0 && (ins.executeTime as number) % 1000 === 0);
    assert.deepEqual(
      lines.slice(0, 3).map((l) => [l.entryType, l.eventType]),
      [
        ['TRANSACTIONBEGIN', null],
        ['ROWDATA', 'INSERT'],
        ['TRANSACTIONEND', null],
      ],
    );
    assert.match(lines[2]!.transactionId as string, /^\d+$/);
    assert.equal(lines.at(-1)!.eventType, 'INSERT', 'it stops right after the third row');

    // The printed rows were acknowledged: the next tail starts after them.
    const second = await tail([...common, '--format', 'json', '--idle-exit', '1500'], { SLUICE_PASSWORD: 'tail-Secret' });
    assert.equal(second.code, 0, second.stderr);
    const rest = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { eventType: string | null; rows: { after: Record<string, string | null> }[] });
    assert.deepEqual(rest.filter((l) => l.eventType === 'INSERT').map((l) => l.rows[0]!.after.id), ['4', '5']);
    await waitFor(() => pipe!.store.stats().entries === 0, 'everything acknowledged', 10_000);

    // Text format: one readable line per entry.
    await sb.sql("UPDATE items SET name = 'x' WHERE id = 4");
    const text = await tail([...common, '--idle-exit', '1500'], { SLUICE_PASSWORD: 'tail-Secret' });
    assert.equal(text.code, 0, text.stderr);
    const tl = text.stdout.trim().split('\n');
    assert.equal(tl.length, 3);
    assert.match(tl[0]!, / BEGIN/);
    assert.match(tl[1]!, new RegExp(`UPDATE ${sb.database}\\.items \\{"id":"4","name":"n4"\\} -> \\{"id":"4","name":"x"\\}`));
    assert.match(tl[2]!, / COMMIT xid=\d+/);
  } finally {
    await pipe?.stop();
    await sb.cleanup();
  }
});
