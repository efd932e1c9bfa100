// Faults a reconnect cannot cure: a source whose settings would make the stream wrong, bad
// credentials, and a second stream with the same server id.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { checkSourceWith } from '../../src/parser/preflight.ts';
import { ParserError, PreflightError } from '../../src/parser/errors.ts';
import { parserOn, Recorder } from './helpers.ts';

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start({ binlogRowMetadata: 'NO_LOG' });
});

after(async () => {
  await sb?.cleanup();
});

test('a source without binlog_row_metadata=FULL is refused with the variable, its value and the fix', async () => {
  const p = parserOn(sb, { kind: 'end' });
  await assert.rejects(p.start(), (err: unknown) => {
    assert.ok(err instanceof PreflightError);
    assert.equal(err.fatal, true);
    assert.match(err.message, /binlog_row_metadata = NO_LOG: set binlog_row_metadata=FULL/);
    assert.deepEqual(err.failed.map((c) => c.name), ['binlog_row_metadata']);
    return true;
  });
  assert.equal(p.state, 'failed');
  await p.stop();
});

test('the check lists every setting, passing ones too', async () => {
  const results = await checkSourceWith(sb.replConfig, 4242);
  const byName = new Map(results.map((r) => [r.name, r]));
  for (const name of ['log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'privilege REPLICATION SLAVE', 'privilege BINLOG MONITOR', 'privilege SELECT', 'server_id']) {
    assert.ok(byName.has(name), `checks ${name}`);
  }
  assert.equal(byName.get('binlog_format')!.ok, true);
  assert.equal(byName.get('binlog_row_metadata')!.ok, false);
  assert.equal(byName.get('binlog_row_metadata')!.value, 'NO_LOG');
  const sameId = await checkSourceWith(sb.replConfig, sb.serverId);
  assert.equal(sameId.find((r) => r.name === 'server_id')!.ok, false, "a slaveId equal to the source's server_id fails");
});

test('wrong password is fatal', async () => {
  const p = parserOn(sb, { kind: 'end' }, { password: 'not-the-password' });
  await assert.rejects(p.start(), (err: unknown) => {
    assert.ok(err instanceof ParserError);
    assert.equal(err.fatal, true);
    assert.equal(err.errno, 1045);
    assert.doesNotMatch(err.message, /not-the-password/);
    return true;
  });
  assert.equal(p.state, 'failed');
  await p.stop();
});

test('a second stream with the same server id makes the first fail for good', async () => {
  await sb.sql('SET GLOBAL binlog_row_metadata = FULL');
  const first = parserOn(sb, { kind: 'end' }, { slaveId: 777 });
  const rec = new Recorder(first);
  await first.start();
  const second = parserOn(sb, { kind: 'end' }, { slaveId: 777 });
  try {
    await second.start();
    await waitFor(() => first.state === 'failed', 'the first stream to fail', 30_000);
    const fatal = rec.errors.find((e) => (e as ParserError).fatal) as ParserError;
    assert.equal(fatal.errno, 4052);
    assert.match(fatal.message, /same server id/);
  } finally {
    await second.stop();
    await first.stop();
  }
});
