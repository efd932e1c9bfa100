// Compiles the measured worker processes (and the parts of sluice they import) to plain
// JavaScript in a temporary folder, so that they run as production does (`npm run build`, then
// node): no TypeScript loader thread taking CPU, memory and profile samples in the process being
// measured. Type errors are not this step's business (`npm run typecheck` is), so it emits
// without checking.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const repo = fileURLToPath(new URL('../', import.meta.url));

export const WORKERS = ['server', 'consumer', 'stage', 'zongji-decode', 'store-throughput', 'fanout-consumer'] as const;

export interface BuiltWorkers {
  /** folder holding <name>.js for every worker */
  workersDir: string;
  /** the compiled CLI (src/cli/main.ts), for benches that start `sluice start` as production does */
  cliMain: string;
  cleanup(): Promise<void>;
}

export async function buildWorkers(): Promise<BuiltWorkers> {
  const out = await mkdtemp(join(tmpdir(), 'sluice-bench-build-'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await execFileP(
      process.execPath,
      [
        tsc,
        '--noCheck',
        '--outDir',
        out,
        '--rootDir',
        repo,
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--rewriteRelativeImportExtensions',
        '--allowImportingTsExtensions',
        '--esModuleInterop',
        '--resolveJsonModule',
        '--skipLibCheck',
        '--types',
        'node',
        ...WORKERS.map((w) => join(repo, 'bench', 'workers', `${w}.ts`)),
        join(repo, 'src', 'cli', 'main.ts'),
      ],
      { cwd: repo, maxBuffer: 16 * 1024 * 1024 },
    );
    // The compiled files find their packages, the .proto files (src/protocol/proto.ts resolves
    // them as ../../proto) and ESM mode through the same layout as the repository.
    await symlink(join(repo, 'node_modules'), join(out, 'node_modules'), 'dir');
    await symlink(join(repo, 'proto'), join(out, 'proto'), 'dir');
    await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
  } catch (err) {
    await rm(out, { recursive: true, force: true });
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`compiling the bench workers failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return { workersDir: join(out, 'bench', 'workers'), cliMain: join(out, 'src', 'cli', 'main.js'), cleanup: () => rm(out, { recursive: true, force: true }) };
}
