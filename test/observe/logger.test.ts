import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, instanceLogger } from '../../src/observe/logger.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

test('password fields are redacted at any depth', () => {
  const s = sink();
  const log = instanceLogger(createLogger({ pretty: false, stream: s.stream }), 'shop');
  log.info({ source: { host: 'db', user: 'repl', password: 'hunter2-secret' }, passwordHash: 'abc123hash', cfg: { a: { b: { dbPassword: 'x-secret-y' } } } }, 'starting');
  const line = JSON.parse(s.text()) as Record<string, unknown>;
  assert.equal(line['destination'], 'shop');
  assert.deepEqual(line['source'], { host: 'db', user: 'repl', password: '[redacted]' });
  assert.doesNotMatch(s.text(), /hunter2-secret|abc123hash|x-secret-y/);
});

test('pretty output is human-readable text, not JSON', () => {
  const s = sink();
  const log = createLogger({ pretty: true, stream: s.stream });
  log.info({ destination: 'shop' }, 'hello people');
  assert.match(s.text(), /INFO.*hello people/);
  assert.throws(() => JSON.parse(s.text()));
});

test('the level filters lines', () => {
  const s = sink();
  const log = createLogger({ level: 'warn', pretty: false, stream: s.stream });
  log.info('not shown');
  log.warn('shown');
  assert.doesNotMatch(s.text(), /not shown/);
  assert.match(s.text(), /"msg":"shown"/);
});
