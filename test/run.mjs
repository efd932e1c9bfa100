// Runs the test files with node:test, TypeScript loaded through tsx, in three groups:
//   unit         no servers: pure logic, in-process sockets at most (`npm run test:unit`)
//   integration  private MariaDB / PostgreSQL / ZooKeeper servers or the CLI as a child process
//   fault        test/faults/: kills, restarts and freezes of sources and of sluice
// `node test/run.mjs` runs all three, one group after the other; `--group NAME` (repeatable) runs
// some; file arguments run just those files. A file's group follows from what it imports, so a
// new test needs no registration.
//
// Files of a group run in parallel processes: integration tests mostly wait on their own servers.
// Fault tests run fewer at a time, since what they measure (a source that stops answering, a
// heartbeat that stops) is what an overloaded machine also produces. SLUICE_TEST_CONCURRENCY
// overrides the integration figure. `--coverage` reports line, branch and function coverage of
// the files under src/ (node's built-in coverage).
//
// The runner's children die with it: on SIGINT/SIGTERM/SIGHUP it passes the signal on, and a
// runner killed outright takes them with it through the kernel's parent-death signal.
import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

// Plain node runs this file, so it cannot import src/cli/parent-death.ts; the same idea, inline:
// util-linux's setpriv sets the parent-death signal and execs node.
function dieWithParent(cmd, argv) {
  if (process.platform === 'linux') {
    for (const dir of ['/usr/bin', '/bin']) {
      try {
        accessSync(join(dir, 'setpriv'), constants.X_OK);
        return [join(dir, 'setpriv'), ['--pdeathsig', 'KILL', '--', cmd, ...argv]];
      } catch {
        // not here
      }
    }
  }
  return [cmd, argv];
}

const GROUPS = ['unit', 'integration', 'fault'];
const SERVER_USE = /support\/(sandbox|postgres-sandbox|zookeeper)\.ts|Sandbox\.start|servePipeline|run-cli\.ts|spawnCli|src\/cli\/(demo|main)\.ts/;

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function groupOf(file) {
  if (file.split(/[\\/]/).includes('faults')) return 'fault';
  return SERVER_USE.test(readFileSync(file, 'utf8')) ? 'integration' : 'unit';
}

const args = process.argv.slice(2);
const wanted = [];
const files = [];
let coverage = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--group') {
    const g = args[++i];
    if (!GROUPS.includes(g)) {
      process.stderr.write(`test/run.mjs: --group must be one of ${GROUPS.join(', ')}, got ${JSON.stringify(g)}\n`);
      process.exit(2);
    }
    wanted.push(g);
  } else if (args[i] === '--coverage') coverage = true;
  else files.push(args[i]);
}

const cores = availableParallelism();
const concurrency = {
  unit: Math.max(2, cores),
  integration: Number(process.env.SLUICE_TEST_CONCURRENCY ?? 4),
  fault: Math.min(2, Number(process.env.SLUICE_TEST_CONCURRENCY ?? 2)),
};

/** Batches to run: [label, concurrency, files]. */
function plan() {
  if (files.length > 0) return [['files', Number(process.env.SLUICE_TEST_CONCURRENCY ?? 4), files]];
  const all = find('test').sort();
  return (wanted.length > 0 ? wanted : GROUPS).map((g) => [g, concurrency[g], all.filter((f) => groupOf(f) === g)]).filter(([, , f]) => f.length > 0);
}

let current;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (current && current.exitCode === null) current.kill(signal);
    process.exit(1);
  });
}

function run(label, n, list) {
  const nodeArgs = ['--import', 'tsx', '--test', `--test-concurrency=${n}`, '--test-timeout=300000'];
  if (coverage) nodeArgs.push('--experimental-test-coverage');
  process.stderr.write(`# test/run.mjs: ${label}: ${list.length} file(s), ${n} at a time\n`);
  return new Promise((resolve) => {
    current = spawn(...dieWithParent(process.execPath, [...nodeArgs, ...list]), { stdio: 'inherit' });
    current.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let status = 0;
for (const [label, n, list] of plan()) {
  const code = await run(label, n, list);
  if (code !== 0) status = code;
}
process.exit(status);
