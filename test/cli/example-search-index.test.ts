// examples/search-index as its README says to run it: the ```sh commands of its "## Run it"
// section (and its snapshot step) are read from the README and run as written, against a private
// MariaDB, with only what a reader adapts to their machine changed:
//   - `--config config` is a copy of the shipped config/ whose source, ports and data directory
//     point at the private MariaDB and free ports (the shared reader stays on, as shipped);
//   - `export PG_URL=...` is the line examples/search-index/postgres.ts printed, as the README says;
//   - SLUICE_PORT comes from the environment (the README relies on its default, 11111, the
//     shipped listen.port, which the copy cannot take on a shared machine);
//   - `npx sluice` is `node --import tsx src/cli/main.ts` (a worktree has no build), `node` this node.
// Asserted: a wrong password stops the indexer with one clear line (no stack); rows that existed
// before (through the snapshot step) and changes made while it runs reach PostgreSQL; Ctrl-C
// stops the indexer and the private PostgreSQL, which deletes its files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Sandbox, freePort, waitFor } from '../support/sandbox.ts';
import { OwnedProcess } from '../support/owned-process.ts';
import { parseShBlock, shBlocks, type ReadmeCommand } from '../support/readme-commands.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = join(ROOT, 'examples/search-index/README.md');
const EXISTING = 200;
// Generous: a loaded machine (four test runs on two cores) starts node processes slowly.
const LIMIT_MS = 120_000;

interface Running {
  proc: OwnedProcess;
  out: () => string;
  err: () => string;
}

function blockWith(blocks: ReadmeCommand[][], what: string): ReadmeCommand[] {
  const b = blocks.find((cmds) => cmds.some((c) => c.text.includes(what)));
  assert.ok(b, `the README has a sh block with "${what}"`);
  return b;
}

test('search-index example: the README commands index existing rows (snapshot) and new changes into a private PostgreSQL', async () => {
  const blocks = [...shBlocks(README, '## Run it'), ...shBlocks(README, '### Load the rows already in the table')].map(parseShBlock);
  const startBlock = blockWith(blocks, 'sluice start');
  const pgBlock = blockWith(blocks, 'postgres.ts');
  const indexerBlock = blockWith(blocks, 'main.ts');
  const snapshotBlock = blockWith(blocks, 'sluice snapshot');
  assert.equal(startBlock.length, 1);
  assert.equal(pgBlock.length, 1);
  assert.equal(indexerBlock.length, 1);
  assert.ok('PG_URL' in indexerBlock[0]!.env, 'the indexer block exports the PG_URL line that postgres.ts prints');

  const sb = await Sandbox.start();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-example-readme-'));
  const running: Running[] = [];
  let pgDir: string | undefined;
  try {
    // The shipped config, adapted as a reader would to their own source (and to free ports).
    const config = join(dir, 'config');
    await mkdir(join(config, 'instances'), { recursive: true });
    const server = JSON.parse(await readFile(join(ROOT, 'config/sluice.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const canalPort = await freePort();
    const adminPort = await freePort();
    server.listen = { ...server.listen, port: canalPort };
    server.admin = { ...server.admin, port: adminPort };
    (server as Record<string, unknown>).dataDir = join(dir, 'data');
    await writeFile(join(config, 'sluice.json'), JSON.stringify(server));
    const instance = JSON.parse(await readFile(join(ROOT, 'config/instances/example.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    instance.source = { ...instance.source, ...sb.replConfig };
    await writeFile(join(config, 'instances', 'example.json'), JSON.stringify(instance));

    await sb.sql('CREATE DATABASE shop');
    await sb.sql('CREATE TABLE shop.products (id INT PRIMARY KEY, name VARCHAR(100), description TEXT)');
    await sb.sql(`INSERT INTO shop.products SELECT seq, CONCAT('product ', seq), CONCAT('description of ', seq) FROM seq_1_to_${EXISTING}`);

    let pgUrl: string | undefined = undefined;
    const run = (c: ReadmeCommand, extra: Record<string, string> = {}): Running => {
      let argv = c.argv.map((w) => (w === 'config' ? config : w));
      if (argv[0] === 'npx' && argv[1] === 'sluice') argv = ['node', '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...argv.slice(2)];
      if (argv[0] === 'node') argv[0] = process.execPath;
      const env = { ...process.env, SLUICE_PORT: String(canalPort), ...c.env, ...(pgUrl ? { PG_URL: pgUrl } : {}), ...extra };
      const proc = new OwnedProcess(argv[0]!, argv.slice(1), ['ignore', 'pipe', 'pipe'], { cwd: ROOT, env });
      let out = '';
      let err = '';
      proc.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const r = { proc, out: () => out, err: () => err };
      running.push(r);
      return r;
    };
    const finish = async (c: ReadmeCommand, extra: Record<string, string> = {}) => {
      const r = run(c, extra);
      const timer = setTimeout(() => r.proc.killNow(), LIMIT_MS);
      const code = await r.proc.exited;
      clearTimeout(timer);
      return { code, out: r.out(), err: r.err() };
    };
    const alive = (r: Running, what: string) => assert.ok(r.proc.running, `${what} exited early: ${r.err()}${r.out()}`);

    const sluice = run(startBlock[0]!);
    await waitFor(
      async () => {
        alive(sluice, 'sluice start');
        return (await fetch(`http://127.0.0.1:${adminPort}/health`).catch(() => undefined))?.status === 200;
      },
      'sluice to report healthy',
      LIMIT_MS,
      200,
    );

    const pgProc = run(pgBlock[0]!);
    await waitFor(() => (alive(pgProc, 'postgres.ts'), /^export PG_URL=\S+$/m.test(pgProc.out())), 'postgres.ts to print its PG_URL line', LIMIT_MS, 100);
    pgUrl = /^export PG_URL=(\S+)$/m.exec(pgProc.out())![1]!;
    pgDir = /data in (\S+)\)/.exec(pgProc.err())?.[1];
    assert.ok(pgDir, pgProc.err());

    // The client credentials are the shipped config's: a wrong password is one clear line.
    const refused = await finish(indexerBlock[0]!, { SLUICE_PASSWORD: 'wrong' });
    assert.equal(refused.code, 1, refused.err);
    assert.match(refused.err, /^search-index: sluice at 127\.0\.0\.1:\d+ refused the login of user "canal".*Set SLUICE_USER and SLUICE_PASSWORD/);
    assert.doesNotMatch(refused.err, /\n\s+at /, 'no stack trace');
    assert.equal(refused.err.trim().split('\n').length, 1, refused.err);

    const indexer = run(indexerBlock[0]!);
    await waitFor(() => (alive(indexer, 'the indexer'), indexer.out().includes('indexing shop.products')), 'the indexer to start', LIMIT_MS, 100);

    await sb.sql("INSERT INTO shop.products VALUES (1001, 'red shoes', 'running shoes in red'), (1002, 'blue hat', 'a woollen hat')");
    await sb.sql("UPDATE shop.products SET name = 'crimson shoes' WHERE id = 1001");
    await sb.sql('DELETE FROM shop.products WHERE id IN (2, 1002)');
    await sb.sql('UPDATE shop.products SET id = 3000 WHERE id = 3');

    for (const c of snapshotBlock) {
      if (c.argv.includes('--status')) {
        // "until the snapshot shows done"
        await waitFor(async () => /shop\.products +done/.test((await finish(c)).out), 'the snapshot status to show done', LIMIT_MS, 500);
      } else {
        const r = await finish(c);
        assert.equal(r.code, 0, r.err);
      }
    }

    const pool = new pg.Pool({ connectionString: pgUrl });
    try {
      const want = (await sb.sql<{ id: number; name: string }[]>('SELECT id, name FROM shop.products')).map((x) => `shop.products:${x.id}=${x.name}`).sort();
      assert.equal(want.length, EXISTING, 'one row deleted, one inserted since the snapshot step began');
      const docs = async () => (await pool.query<{ doc_id: string; title: string }>('SELECT doc_id, title FROM search_documents')).rows.map((x) => `${x.doc_id}=${x.title}`).sort();
      await waitFor(async () => (alive(indexer, 'the indexer'), JSON.stringify(await docs()) === JSON.stringify(want)), 'the index to equal the table', LIMIT_MS, 200);
      const hits = await pool.query<{ doc_id: string }>("SELECT doc_id FROM search_documents WHERE tsv @@ websearch_to_tsquery('english', 'running shoes')");
      assert.deepEqual(hits.rows.map((r) => r.doc_id), ['shop.products:1001']);
    } finally {
      await pool.end();
    }

    // Ctrl-C stops the indexer, and the private PostgreSQL with its files.
    indexer.proc.proc.kill('SIGINT');
    assert.equal(await indexer.proc.exited, 0, indexer.err());
    pgProc.proc.proc.kill('SIGINT');
    assert.equal(await pgProc.proc.exited, 0, pgProc.err());
    await assert.rejects(access(pgDir), { code: 'ENOENT' }, 'postgres.ts deleted its data directory');
    assert.equal(await sluice.proc.terminate(), 0, sluice.err());
  } finally {
    for (const r of running) await r.proc.kill();
    if (pgDir) await rm(pgDir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    await sb.cleanup();
  }
});
