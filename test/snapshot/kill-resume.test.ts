// `sluice start` with a snapshot requested by `sluice snapshot`, killed with SIGKILL in the middle
// of it: after the restart the snapshot resumes after its last acknowledged chunk (not from the
// first row) and the consumer's map ends equal to the table. Also --status and --stop.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Sandbox, freePort, waitFor } from '../support/sandbox.ts';
import { CanalClient } from '../../src/client/canal-client.ts';
import { readMetaFile } from '../../src/meta/meta-file.ts';
import { spawnCli, runCli } from '../cli/run-cli.ts';
import { javaDoubleToString } from '../../src/parser/columns/java-number.ts';
import { MapConsumer, consume, tableAsMap, diffMaps } from './support.ts';

const DEST = 'kr';
const ROWS = 60_000;

let sb: Sandbox | undefined;
let dir: string | undefined;
let child: ChildProcess | undefined;
let c: CanalClient | undefined;

after(async () => {
  await c?.disconnect().catch(() => undefined);
  child?.kill('SIGKILL');
  await sb?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startSluice(env: Record<string, string>): Promise<void> {
  child = spawnCli(['start', '--config', dir!, '--json'], env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => out.includes('"every instance has started or failed"') || child!.exitCode !== null, 'sluice to start', 45_000);
  assert.ok(child.exitCode === null && /"states":\{"kr":"running"\}/.test(out.split('\n').find((l) => l.includes('every instance')) ?? ''), `sluice runs: ${err} ${out.slice(-2000)}`);
}

test('SIGKILL mid-snapshot: the snapshot resumes at the next chunk and the consumer map equals the table', async () => {
  sb = await Sandbox.start();
  dir = await mkdtemp(join(tmpdir(), 'sluice-snapkill-'));
  const db = sb.database;
  await sb.sql('CREATE TABLE sentinel (id VARCHAR(20) PRIMARY KEY)');
  await sb.sql('CREATE TABLE k (id BIGINT PRIMARY KEY, v VARCHAR(30), f DOUBLE)');
  await sb.sql(`INSERT INTO k SELECT seq, CONCAT('v', seq), seq / 3 FROM seq_1_to_${ROWS}`);
  await sb.sql('CREATE TABLE other (id INT PRIMARY KEY)');
  await sb.sql('INSERT INTO other SELECT seq FROM seq_1_to_50000');
  const [canalPort, adminPort] = [await freePort(), await freePort()];
  await mkdir(join(dir, 'instances'));
  await writeFile(join(dir, 'sluice.json'), JSON.stringify({ listen: { port: canalPort }, admin: { port: adminPort }, dataDir: join(dir, 'data'), flushIntervalMs: 100 }));
  const { host, port, user, password } = sb.replConfig;
  await writeFile(
    join(dir, 'instances', `${DEST}.json`),
    JSON.stringify({ source: { host, port, user, password: '${KR_PASSWORD}' }, filter: { include: `${db}\\..*` }, snapshot: { chunkSize: 1000 }, store: { maxEntries: 256 }, reader: { shared: false } }),
  );
  const env = { KR_PASSWORD: password };
  await startSluice(env);

  const consumer = new MapConsumer(() => ['id']);
  const connect = async (): Promise<CanalClient> => {
    const cl = new CanalClient({ host: '127.0.0.1', port: canalPort, destination: DEST, clientId: '1001', reconnect: false });
    await cl.connect();
    await cl.subscribe('');
    return cl;
  };
  c = await connect();
  const requested = await runCli(['snapshot', '--config', dir, '--destination', DEST, '--table', `${db}.k`]);
  assert.equal(requested.code, 0, requested.stderr);
  assert.match(requested.stdout, new RegExp(`accepted: ${db}\\.k +queued`));
  const refused = await runCli(['snapshot', '--config', dir, '--destination', DEST, '--table', `${db}.missing`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`table ${db}\\.missing does not exist`));

  let stop = false;
  const workload = (async () => {
    let i = 0;
    while (!stop) {
      const id = 1 + Math.floor(Math.random() * ROWS);
      if (i % 3 === 0) await sb!.sql('UPDATE k SET v = ? WHERE id = ?', [`u${i}`, id]);
      else if (i % 3 === 1) await sb!.sql('DELETE FROM k WHERE id = ?', [id]);
      else await sb!.sql('INSERT IGNORE INTO k VALUES (?, ?, ?)', [ROWS + i, `n${i}`, i * 0.25]);
      i++;
    }
  })();
  try {
    await consume(c, consumer, () => consumer.snapshotRows >= 20_000, 'a third of the snapshot');
    // Once the acknowledged progress is on disk (one flush interval), unacknowledged batches in flight, then the kill.
    await waitFor(async () => ((await readMetaFile(join(dir!, 'data'), DEST))?.snapshots?.find((s) => s.table === 'k')?.rows ?? 0) >= 10_000, 'progress in meta.dat');
    await c.getWithoutAck(500, 200);
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    await c.disconnect().catch(() => undefined);
    const meta = await readMetaFile(join(dir, 'data'), DEST);
    const saved = meta?.snapshots?.find((s) => s.table === 'k');
    assert.ok(saved?.after !== undefined && saved.rows >= 10_000, `meta.dat holds the acknowledged progress: ${JSON.stringify(meta?.snapshots)}`);
    const resumeAfter = Number(saved.after[0]);

    await startSluice(env);
    c = await connect();
    let firstAfterRestart: number | undefined;
    const apply = consumer.applyEntry.bind(consumer);
    consumer.applyEntry = (e) => {
      if (firstAfterRestart === undefined && e.props.snapshot === 'true' && e.rows.length > 0) firstAfterRestart = Number(e.rows[0]!.after.id);
      apply(e);
    };
    let state = '';
    const poller = setInterval(() => {
      fetch(`http://127.0.0.1:${adminPort}/snapshots?destination=${DEST}`)
        .then(async (r) => ((await r.json()) as { destinations: Record<string, { table: string; state: string }[]> }).destinations[DEST]!)
        .then((list) => (state = list.find((x) => x.table === `${db}.k`)?.state ?? ''))
        .catch(() => undefined);
    }, 100);
    try {
      await consume(c, consumer, () => state === 'done', 'the resumed snapshot completes');
    } finally {
      clearInterval(poller);
    }
    assert.ok(firstAfterRestart !== undefined && firstAfterRestart > resumeAfter && firstAfterRestart <= resumeAfter + 1000, `the first snapshot row after the restart (${firstAfterRestart}) is in the chunk after the last acknowledged key ${resumeAfter}`);
    const shown = await runCli(['snapshot', '--config', dir, '--status']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`${db}\\.k +done +\\d+ rows acknowledged`));

    // --stop: a snapshot of another table, stopped while it waits for the consumer
    const other = await runCli(['snapshot', '--config', dir, '--destination', DEST, '--table', `${db}.other`, '--chunk-size', '500']);
    assert.equal(other.code, 0, other.stderr);
    const stopped = await runCli(['snapshot', '--config', dir, '--destination', DEST, '--stop', '--table', `${db}.other`]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`stopped ${db}\\.other +stopped`));
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`sluice_snapshot_rows\\{destination="${DEST}",table="${db}\\.k"\\} \\d+`));
    assert.match(metrics, new RegExp(`sluice_snapshot_active\\{destination="${DEST}",table="${db}\\.other"\\} 0`));
  } finally {
    stop = true;
    await workload;
  }
  await sb.sql("INSERT INTO sentinel VALUES ('end')");
  await consume(c, consumer, () => consumer.sentinels.has('end'), 'the sentinel');
  const want = await tableAsMap(sb, 'k', ['id'], 'id, v, f');
  // DOUBLE as Canal writes it (Java's Double.toString)
  for (const r of want.values()) if (r.f !== null) r.f = javaDoubleToString(Number(r.f));
  const diff = diffMaps(consumer.table(`${db}.k`), want);
  assert.equal(diff, '', diff);
});
