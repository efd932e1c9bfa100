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

function insertedIds(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { eventType: string | null; rows: { after: Record<string, string> }[] })
    .filter((l) => l.eventType === 'INSERT')
    .map((l) => l.rows[0]!.after.id!);
}

test('--limit in MEMSIZE mode: each run acknowledges exactly the entries it printed, so repeated runs move on', async () => {
  // MEMSIZE: a fetch of 1-2 units is 1-2 KiB, which holds several small entries: a batch
  // usually goes past the limit. It is printed whole and acknowledged, never given back.
  const s = await serve({ store: { batchMode: 'MEMSIZE', memUnit: 1024 } });
  try {
    const total = 60;
    s.put(transactions(0, total));
    const printed: string[][] = [];
    for (let run = 0; run < 3; run++) {
      const out = capture();
      const err = capture();
      const opts: TailOptions = { host: '127.0.0.1', port: s.port, destination: 'example', clientId: '1001', batchSize: 1000, limit: 2, format: 'json' };
      const code = await runTail(opts, { out: out.stream, err: err.stream });
      assert.equal(code, 0, err.text());
      const ids = insertedIds(out.text());
      assert.ok(ids.length >= 2, `run ${run} printed at least the limit: ${ids.join(',')}`);
      assert.ok(ids.length < total, `run ${run} stopped near the limit, not at the end of the backlog`);
      printed.push(ids);
    }
    const all = printed.flat();
    assert.equal(new Set(all).size, all.length, `no row printed twice over the runs: ${printed.map((p) => p.join(',')).join(' | ')}`);
    assert.deepEqual(all, all.map((_, i) => String(i * 1000)), 'each run starts where the last one stopped');
    // What the runs printed is acknowledged: another consumer gets exactly the rest.
    const c = new CanalClient({ host: '127.0.0.1', port: s.port, destination: 'example', reconnect: false });
    await c.connect();
    await c.subscribe();
    const rest: string[] = [];
    for (;;) {
      const b = await c.get(1000, 200);
      if (b.id === -1) break;
      rest.push(...b.entries.filter((e) => e.eventType === 'INSERT').map((e) => e.rows[0]!.after.id!));
    }
    assert.deepEqual([...all, ...rest], Array.from({ length: total }, (_, i) => String(i * 1000)));
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
