// A source that cannot be reached at all is a failed connect, not a lost stream: the retry line
// must not say "binlog stream lost" before any stream was read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { EventParser } from '../../src/parser/event-parser.ts';
import { waitFor } from '../support/sandbox.ts';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('retrying a source that never accepted a connection logs a failed connect, not a lost stream', async () => {
  const warnings: string[] = [];
  const parser = new EventParser({
    host: '127.0.0.1',
    port: await closedPort(),
    user: 'u',
    password: 'p',
    slaveId: 4242,
    start: { kind: 'end' },
    preflight: false,
    connectTimeoutMs: 2000,
    backoff: { initialMs: 50, maxMs: 100 },
    logger: { warn: (_o: object, msg?: string) => warnings.push(msg ?? ''), info() {}, error() {} },
  });
  void parser.start().catch(() => undefined);
  try {
    await waitFor(() => warnings.length >= 2, 'two retry lines', 30_000);
    assert.ok(warnings.every((m) => !m.includes('binlog stream lost')), warnings.join(' | '));
    assert.match(warnings[0]!, /could not connect to the source; retrying/);
  } finally {
    await parser.stop();
  }
});
