import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import sluice, { ALLOWED } from '../../eslint-rules/import-direction.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const table = ALLOWED;

function lint(file: string, code: string): Linter.LintMessage[] {
  const linter = new Linter({ configType: 'flat' });
  return linter.verify(
    code,
    [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser }, plugins: { sluice }, rules: { 'sluice/import-direction': 'error' } }],
    path.join(repo, file),
  );
}

test('the allowed-import table has no cycle', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (folder: string, trail: string[]): void => {
    if (state.get(folder) === 'done') return;
    assert.notEqual(state.get(folder), 'visiting', `cycle: ${[...trail, folder].join(' -> ')}`);
    state.set(folder, 'visiting');
    for (const next of table[folder] ?? []) visit(next, [...trail, folder]);
    state.set(folder, 'done');
  };
  for (const folder of Object.keys(table)) visit(folder, []);
});

test('every folder of src/ has a row, and every row names only known folders', () => {
  for (const entry of readdirSync(path.join(repo, 'src'), { withFileTypes: true })) {
    if (entry.isDirectory()) assert.ok(table[entry.name], `src/${entry.name}/ has no row`);
  }
  for (const [folder, targets] of Object.entries(table)) {
    for (const t of targets) assert.ok(table[t], `${folder} lists unknown folder ${t}`);
  }
});

test('docs/architecture.md states the same table', () => {
  const docs = readFileSync(path.join(repo, 'docs/architecture.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of docs.split('\n')) {
    const m = /^\| (`[a-z]+\/`(?:, `[a-z]+\/`)*) \| (.+) \|$/.exec(line);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    const targets = m[2] === 'nothing of sluice' ? [] : [...m[2].matchAll(/`([a-z]+)\/`/g)].map((x) => x[1] as string);
    for (const f of m[1].matchAll(/`([a-z]+)\/`/g)) rows.set(f[1] as string, targets.sort());
  }
  assert.deepEqual(Object.fromEntries([...rows].sort()), Object.fromEntries(Object.entries(table).map(([k, v]) => [k, [...v].sort()]).sort()));
});

test('a forbidden import is reported with the rule, an allowed one and a package are not', () => {
  const bad = lint('src/observe/x.ts', "import type { Destination } from '../instance/destination.ts';\nexport type D = Destination;\n");
  assert.equal(bad.length, 1);
  assert.match(bad[0]?.message ?? '', /src\/observe\/ may not import src\/instance\//);
  // The server hosts instances (as in Canal): it sees their Destination contract, never the reverse.
  assert.deepEqual(lint('src/server/x.ts', "import type { Destination } from '../instance/destination.ts';\nexport type D = Destination;\n"), []);
  const reversed = lint('src/instance/x.ts', "import { CanalServer } from '../server/canal-server.ts';\nexport const s = CanalServer;\n");
  assert.equal(reversed.length, 1);
  assert.match(reversed[0]?.message ?? '', /src\/instance\/ may not import src\/server\//);
  const dynamic = lint('src/protocol/x.ts', "export const m = import('../instance/instance.ts');\n");
  assert.equal(dynamic.length, 1);
  const reexport = lint('src/store/x.ts', "export { Pump } from '../sink/pump.ts';\n");
  assert.equal(reexport.length, 1);
  assert.deepEqual(lint('src/parser/columns/x.ts', "import { a } from '../../binlog/events.ts';\nimport { b } from '../row.ts';\nimport pino from 'pino';\nexport const c = [a, b, pino];\n"), []);
  const unknown = lint('src/newfolder/x.ts', "import { a } from '../protocol/entry-model.ts';\nexport const b = a;\n");
  assert.match(unknown[0]?.message ?? '', /has no row/);
});
