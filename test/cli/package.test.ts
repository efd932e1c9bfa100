// The npm package as a user gets it: the project is built into a staging folder, packed with
// `npm pack`, and the tarball installed into an empty folder. Then the installed `sluice --help`
// runs, `import { CanalClient } from 'sluice/client'` works from JavaScript and type-checks from
// TypeScript, and the example systemd unit's ExecStart (config/sluice.service) serves a private
// MariaDB until SIGTERM to its main pid stops everything.
//
// The install runs with --offline: the tarball's dependencies are already present because the
// empty folder starts with a copy of the project's node_modules (hard links, except npm's own
// bookkeeping file), so the test needs no network and no npm cache, and npm still checks that
// every dependency the package declares is satisfied (it would fail with ENOTCACHED otherwise).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SERVER_NODE_FLAGS } from '../../src/cli/node-flags.ts';
import { EXIT_CONFIG } from '../../src/cli/config-option.ts';
import { SHUTDOWN_LIMIT_MS } from '../../src/cli/start.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.env['npm_execpath'] !== undefined && process.env['npm_execpath'].endsWith('.js') ? [process.execPath, process.env['npm_execpath']] : ['npm'];

async function npm(args: string[], cwd: string): Promise<string> {
  const [cmd, ...pre] = NPM;
  const { stdout } = await execFileP(cmd!, [...pre, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout;
}

let work: string;
let installed: string; // the folder the tarball was installed into
let tarball: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-package-'));
  // Stage the package files and build into the stage: the worktree's own dist/ is left alone.
  const stage = join(work, 'stage');
  await mkdir(stage);
  for (const f of ['package.json', 'README.md', 'proto', 'config']) await cp(join(ROOT, f), join(stage, f), { recursive: true });
  await execFileP(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')]);
  const packed = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage)) as { filename: string }[];
  tarball = join(work, packed[0]!.filename);

  installed = join(work, 'app');
  await mkdir(installed);
  await writeFile(join(installed, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // The real folder: were node_modules a symlink (a worktree sharing another's), cp would copy the
  // link, and the removals below would reach into the project's own node_modules.
  await execFileP('cp', ['-al', await realpath(join(ROOT, 'node_modules')), join(installed, 'node_modules')]);
  // npm rewrites this file; a hard link would let it write into the project's node_modules.
  await rm(join(installed, 'node_modules', '.package-lock.json'), { force: true });
  await rm(join(installed, 'node_modules', '.bin'), { recursive: true, force: true });
  await npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], installed);
});

after(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

test('the packed tarball holds the built CLI, server, client, their types and the example configs', async () => {
  const { stdout } = await execFileP('tar', ['-tzf', tarball]);
  const files = stdout.split('\n');
  for (const f of ['dist/cli/main.js', 'dist/cli/start.js', 'dist/server/canal-server.js', 'dist/instance/instance.js', 'dist/client/index.js', 'dist/client/index.d.ts', 'proto/canal_entry.proto', 'config/sluice.service', 'config/instances/example.json']) {
    assert.ok(files.includes(`package/${f}`), `${f} is in the tarball`);
  }
  assert.ok(!files.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')), 'sources and tests stay out');
});

test('the installed `sluice --help` runs', async () => {
  const { stdout } = await execFileP(join(installed, 'node_modules', '.bin', 'sluice'), ['--help']);
  assert.match(stdout, /Usage: sluice/);
  for (const cmd of ['start', 'check', 'tail', 'positions', 'passwd']) assert.match(stdout, new RegExp(`\\n  ${cmd}\\b`));
});

test("`import { CanalClient } from 'sluice/client'` works and type-checks", async () => {
  await writeFile(join(installed, 'use.mjs'), "import { CanalClient } from 'sluice/client';\nimport * as root from 'sluice';\nconsole.log(typeof CanalClient, typeof root.CanalClient);\n");
  const { stdout } = await execFileP(process.execPath, ['use.mjs'], { cwd: installed });
  assert.equal(stdout.trim(), 'function function');

  await writeFile(
    join(installed, 'use.ts'),
    "import { CanalClient, type CanalEntry } from 'sluice/client';\n" +
      "const c = new CanalClient({ host: '127.0.0.1', port: 11111, destination: 'example' });\n" +
      'export const f = (e: CanalEntry): string => e.tableName + String(c.connected);\n',
  );
  await writeFile(
    join(installed, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, files: ['use.ts'] }),
  );
  // typescript and @types/node come from the copied development dependencies' originals.
  await execFileP(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', installed, '--typeRoots', join(ROOT, 'node_modules/@types')]).catch((err: { stdout?: string }) => {
    assert.fail(`the client's types do not check in a consumer project:\n${err.stdout ?? String(err)}`);
  });
});

/** The [Service] settings of config/sluice.service. */
async function unitSettings(): Promise<Map<string, string>> {
  const text = await readFile(join(ROOT, 'config', 'sluice.service'), 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

test('config/sluice.service: its ExecStart serves; SIGTERM to the main pid stops everything within TimeoutStopSec', async () => {
  const unit = await unitSettings();
  const execStart = unit.get('ExecStart');
  assert.ok(execStart, 'the unit has an ExecStart');
  const argv = execStart.split(/\s+/);
  assert.equal(argv[0], '/usr/bin/node', 'node is started directly, not through npx or npm (their wrapper does not pass SIGTERM on)');
  assert.deepEqual(argv.slice(1, 1 + SERVER_NODE_FLAGS.length), [...SERVER_NODE_FLAGS], 'the unit runs node with the server flags main.js declares');
  const installRoot = '/opt/sluice';
  const script = argv[1 + SERVER_NODE_FLAGS.length]!;
  assert.ok(script.startsWith(installRoot + '/node_modules/sluice/dist/cli/main.js'), script);
  assert.ok(Number(unit.get('TimeoutStopSec')) * 1000 > SHUTDOWN_LIMIT_MS, 'systemd waits longer than sluice’s own shutdown limit before SIGKILL');
  assert.equal(unit.get('KillMode'), 'mixed');
  assert.ok((unit.get('RestartPreventExitStatus') ?? '').split(/\s+/).includes(String(EXIT_CONFIG)), 'a configuration error is not restarted in a loop');

  const sb = await Sandbox.start();
  const etc = join(work, 'etc-sluice');
  try {
    await mkdir(join(etc, 'instances'), { recursive: true });
    await writeFile(join(etc, 'sluice.json'), JSON.stringify({ listen: { port: 0 }, admin: { port: 0 }, dataDir: join(work, 'var-lib-sluice') }));
    const { host, port, user } = sb.replConfig;
    await writeFile(join(etc, 'instances', 'example.json'), JSON.stringify({ source: { host, port, user, password: { env: 'SLUICE_EXAMPLE_DB_PASSWORD' }, slaveId: 7301 } }));
    // Run the unit's command line with the test's folders in place of /opt/sluice and /etc/sluice.
    const args = argv.slice(1).map((a) => a.replace(installRoot, installed).replace('/etc/sluice', etc));
    // detached: its own process group, so "no child left" can be checked on the whole group.
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_EXAMPLE_DB_PASSWORD: sb.replConfig.password } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      await waitFor(() => /"msg":"every instance has started or failed"/.test(out) || child.exitCode !== null, 'the installed server to start its instance', 60_000, 50);
      const started = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"sluice started"'))!) as { canalPort: number };
      assert.match(out, /"states":\{"example":"running"\}/, out);
      const replicas = async () => Number((await sb.sql<{ n: string }[]>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = '${user}'`))[0]!.n);
      assert.ok((await replicas()) > 0, 'the server holds a replication connection');

      process.kill(child.pid!, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), Number(unit.get('TimeoutStopSec')) * 1000).unref())]);
      assert.equal(code, 0, out);
      assert.throws(() => process.kill(-child.pid!, 0), /ESRCH/, 'no process of the group is left');
      await assert.rejects(fetch(`http://127.0.0.1:${started.canalPort}/`), 'the Canal port is closed');
      await waitFor(async () => (await replicas()) === 0, 'MariaDB to see the replication connection closed', 10_000, 50);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  } finally {
    await sb.cleanup();
  }
});
