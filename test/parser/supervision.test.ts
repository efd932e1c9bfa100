// Faults of the source while streaming: SIGKILL and restart, clean restart, binlog rotation and
// purge, a frozen (half-open) server, and a start from a purged file. After each, every row
// written arrives exactly once and in order.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { ParserError } from '../../src/parser/errors.ts';
import type { EventParser } from '../../src/parser/event-parser.ts';
import { parserOn, Recorder } from './helpers.ts';

let sb: Sandbox;
let parser: EventParser;
let rec: Recorder;
const warnings: { attempt: number }[] = [];
let nextId = 1;

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(40))');
  const at = await sb.masterStatus();
  parser = parserOn(
    sb,
    { kind: 'position', file: at.file, offset: at.position },
    {
      heartbeatMs: 1000,
      backoff: { initialMs: 100, maxMs: 1000 },
      logger: { warn: (o: object) => warnings.push(o as { attempt: number }), info() {}, error() {} },
    },
  );
  rec = new Recorder(parser);
  await parser.start();
});

after(async () => {
  await parser?.stop();
  await sb?.cleanup();
});

async function insertRows(n: number, note: string): Promise<void> {
  for (let i = 0; i < n; i++) await sb.sql('INSERT INTO t VALUES (?, ?)', [nextId++, note]);
}

/** Every id written so far arrived exactly once, in order. */
async function assertExactlyOnce(what: string): Promise<void> {
  const want = nextId - 1;
  await waitFor(() => rec.rows('t').length >= want, `${want} rows after ${what}`, 60_000);
  const ids = rec.rows('t').map((r) => Number(r.id));
  assert.deepEqual(ids, Array.from({ length: want }, (_, i) => i + 1), `rows after ${what}`);
}

test('MariaDB killed with SIGKILL and restarted mid-stream: every row exactly once', async () => {
  await insertRows(40, 'before kill');
  // A multi-row transaction whose rows the parser is likely still decoding when the server dies.
  const big = Array.from({ length: 500 }, (_, i) => `(${nextId + i}, 'bulk')`).join(',');
  nextId += 500;
  await sb.sql(`INSERT INTO t VALUES ${big}`);
  await sb.kill9();
  await waitFor(() => parser.state === 'retrying', 'the parser to notice the lost connection', 30_000);
  await sb.restart();
  await insertRows(40, 'after restart');
  await assertExactlyOnce('kill -9');
  assert.ok(parser.stats().reconnects >= 1);
  assert.ok(warnings.length >= 1 && warnings.every((w) => typeof w.attempt === 'number' && w.attempt >= 1), 'each attempt logged at warn with its count');
  assert.equal(rec.errors.every((e) => (e as ParserError).fatal === false), true);
});

test('clean restart, FLUSH BINARY LOGS and PURGE BINARY LOGS while streaming', async () => {
  await insertRows(10, 'before flush');
  await sb.sql('FLUSH BINARY LOGS');
  await insertRows(10, 'after flush');
  await sb.stop();
  await sb.restart();
  await insertRows(10, 'after clean restart');
  // A purge is only harmless to a reader that has moved past the purged files: wait until it has.
  await assertExactlyOnce('clean restart');
  await sb.sql('FLUSH BINARY LOGS');
  const { file } = await sb.masterStatus();
  await waitFor(() => parser.stats().file === file, `the parser to follow the rotation to ${file}`, 30_000);
  await sb.purgeBinlogsTo(file);
  await insertRows(10, 'after purge');
  await assertExactlyOnce('flush, clean restart and purge');
  assert.equal(parser.state, 'running');
  assert.equal(parser.stats().file, file);
});

test('a frozen source (SIGSTOP) is noticed by the watchdog; after SIGCONT nothing is missing', async () => {
  await insertRows(10, 'before freeze');
  await waitFor(() => rec.rows('t').length === nextId - 1, 'rows before the freeze', 30_000);
  const reconnects = parser.stats().reconnects;
  sb.freeze();
  try {
    // 3 heartbeat periods of 1 s; the deadline is generous for a loaded machine.
    await waitFor(() => parser.stats().reconnects > reconnects, 'the watchdog to restart the stream', 20_000);
    assert.ok(rec.errors.some((e) => /no event or heartbeat/.test(e.message)), 'the watchdog says why it restarted');
  } finally {
    sb.thaw();
  }
  await insertRows(10, 'after thaw');
  await assertExactlyOnce('SIGSTOP and SIGCONT');
});

test('starting from a purged binlog file is fatal and names the file and the way out', async () => {
  const p = parserOn(sb, { kind: 'position', file: 'binlog.000001', offset: 4 }, { destination: 'orders' });
  const r = new Recorder(p);
  await assert.rejects(p.start(), (err: unknown) => {
    assert.ok(err instanceof ParserError);
    assert.equal(err.fatal, true);
    assert.match(err.message, /binlog\.000001/);
    assert.match(err.message, /sluice positions reset --destination orders --to/);
    return true;
  });
  assert.equal(p.state, 'failed');
  assert.equal(r.entries.length, 0);
  await p.stop();
});
