// The data directory going bad: cursor writes that keep failing are counted (metrics) and, after
// a few flush intervals, reported by /health as degraded naming the file and the cause; a data
// directory that cannot be written at start fails the instance naming dataDir and the cause.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { healthReport } from '../../src/observe/admin-http.ts';
import { SluiceMetrics } from '../../src/observe/metrics.ts';
import { instanceConfig, startInProcess, client, consumeUntil } from '../faults/support/harness.ts';

let sb: Sandbox;
let dataDir: string;

before(async () => {
  sb = await Sandbox.start();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-cursor-write-'));
  await sb.sql('CREATE TABLE t (id INT PRIMARY KEY)');
});

after(async () => {
  await sb?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function metric(text: string, name: string, destination: string): number {
  const m = new RegExp(`^${name}\\{destination="${destination}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('cursor writes that keep failing: counted in metrics and errors, /health degraded after three flush intervals, cleared when writes work again', async () => {
  const flushMs = 200;
  const s = await startInProcess(instanceConfig(sb, 'rofs'), dataDir, flushMs);
  const metrics = new SluiceMetrics({ processMetrics: false });
  metrics.add(s.instance);
  const health = () => healthReport([{ destination: 'rofs', ...s.instance.status(), ...(s.instance.degraded() !== undefined ? { degraded: s.instance.degraded()! } : {}) }]);
  const folder = join(dataDir, 'rofs');
  let broken = false;
  try {
    const c = client(s.port, 'rofs');
    await c.connect();
    await c.subscribe();
    assert.equal(health().body.status, 'ok');
    // The destination's folder becomes unusable (a file stands in its place: this works as root too).
    await rename(folder, folder + '.away');
    await writeFile(folder, 'not a folder');
    broken = true;
    let n = 0;
    await sb.sql('INSERT INTO t VALUES (1)');
    await consumeUntil(c, (b) => (n += b.entries.filter((e) => e.eventType === 'INSERT').length), () => n >= 1, 'the insert');
    await waitFor(() => (s.instance.stats().cursorWriteErrors ?? 0) > 0, 'a failed cursor write', 10_000);
    const text = await metrics.text();
    assert.ok(metric(text, 'sluice_cursor_write_errors_total', 'rofs') >= 1, text);
    assert.ok(metric(text, 'sluice_errors_total', 'rofs') >= 1, 'failed cursor writes count as errors');
    await waitFor(() => health().body.status === 'degraded', '/health to report degraded', 10_000);
    const h = health();
    assert.equal(h.code, 200, 'still serving');
    assert.match(h.body.instances['rofs']!.degraded ?? '', /cursor file .*meta\.dat could not be written for \d+ s \(.+\).*dataDir/);
    // Writable again: the next flush succeeds and the condition clears.
    await rm(folder);
    await rename(folder + '.away', folder);
    broken = false;
    await waitFor(() => health().body.status === 'ok', '/health back to ok', 10_000);
    await c.disconnect();
  } finally {
    if (broken) {
      await rm(folder, { force: true });
      await rename(folder + '.away', folder);
    }
    await s.stop();
  }
});

test('a data directory that cannot be written fails the instance naming dataDir and the cause', async () => {
  const blocker = join(dataDir, 'a-file');
  await writeFile(blocker, '');
  const bad = join(blocker, 'data');
  const s = await startInProcess(instanceConfig(sb, 'nodir'), bad);
  try {
    const st = s.instance.status();
    assert.equal(st.state, 'failed');
    assert.match(st.error ?? '', new RegExp(`data directory \\(dataDir ${bad.replace(/[/.]/g, '\\$&')}\\) cannot be written for destination nodir: a part of the path is a file, not a folder \\(ENOTDIR`));
  } finally {
    await s.stop();
  }
});
