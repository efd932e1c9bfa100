// runTail in-process against the real server with synthetic entries: the --limit edge where a
// batch holds rows past the limit (MEMSIZE batches), and --idle-exit with nothing to read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { CanalClient } from '../../src/client/canal-client.ts';
import { runTail, type TailOptions } from '../../src/cli/tail.ts';
import { serve, transactions } from '../client/support/serve.ts';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('a batch holding rows past --limit is rolled back, not acknowledged, so no row is lost', async () => {
  // MEMSIZE: a fetch of 1-2 units is 1-2 KiB, which takes every small entry at once.
  const s = await serve({ store: { batchMode: 'MEMSIZE', memUnit: 1024 } });
  try {
    s.put(transactions(0, 3));
    const out = capture();
    const err = capture();
    const opts: TailOptions = { host: '127.0.0.1', port: s.port, destination: 'example', clientId: '1001', batchSize: 1000, limit: 2, format: 'json' };
    const code = await runTail(opts, { out: out.stream, err: err.stream });
    assert.equal(code, 0, err.text());
    const rows = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { eventType: string | null; rows: { after: Record<string, string> }[] })
      .filter((l) => l.eventType === 'INSERT')
      .map((l) => l.rows[0]!.after.id);
    assert.deepEqual(rows, ['0', '1000'], 'exactly two rows printed');
    assert.match(err.text(), /stopped at the limit inside batch \d+; its entries will be delivered again/);
    // Nothing was acknowledged: the third row (and, at-least-once, the first two) come again.
    const c = new CanalClient({ host: '127.0.0.1', port: s.port, destination: 'example', reconnect: false });
    await c.connect();
    await c.subscribe();
    const b = await c.get(100, 1000);
    const ids = b.entries.filter((e) => e.eventType === 'INSERT').map((e) => e.rows[0]!.after.id);
    assert.deepEqual(ids, ['0', '1000', '2000']);
    await c.disconnect();
  } finally {
    await s.stop();
  }
});

test('--idle-exit ends a tail that finds nothing, with exit code 0', async () => {
  const s = await serve();
  try {
    const out = capture();
    const err = capture();
    const code = await runTail({ host: '127.0.0.1', port: s.port, destination: 'example', clientId: '1001', batchSize: 100, idleExit: 300, format: 'text' }, { out: out.stream, err: err.stream });
    assert.equal(code, 0, err.text());
    assert.equal(out.text(), '');
  } finally {
    await s.stop();
  }
});

test('an unknown destination is an error naming it, exit code 1', async () => {
  const s = await serve();
  try {
    const err = capture();
    const code = await runTail({ host: '127.0.0.1', port: s.port, destination: 'nope', clientId: '1001', batchSize: 100, idleExit: 300, format: 'text' }, { out: capture().stream, err: err.stream });
    assert.equal(code, 1);
    assert.match(err.text(), /^sluice tail: subscription of nope\/1001 failed: .*nope/);
  } finally {
    await s.stop();
  }
});
