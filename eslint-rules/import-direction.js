// Enforces the folder-to-folder import table of docs/architecture.md ("Import rule"): a module under
// src/<folder>/ may import another folder of src/ only if the table lists it. Only relative imports are
// checked; packages are not sluice's folders.
import path from 'node:path';

/** folder -> the folders of src/ it may import (its own folder is always allowed). Keep in step with the docs. */
export const ALLOWED = {
  protocol: [],
  coord: [],
  observe: [],
  binlog: [],
  store: ['protocol'],
  sink: ['config', 'protocol', 'store'],
  config: ['protocol'],
  parser: ['binlog', 'config', 'protocol'],
  fanout: ['parser', 'protocol'],
  meta: ['coord', 'protocol'],
  snapshot: ['config', 'meta', 'observe', 'parser', 'protocol'],
  server: ['instance', 'observe', 'protocol'],
  instance: ['config', 'fanout', 'meta', 'observe', 'parser', 'protocol', 'sink', 'snapshot', 'store'],
  cluster: ['config', 'coord', 'instance', 'meta', 'observe', 'parser', 'protocol', 'server'],
  client: ['coord', 'protocol'],
  cli: ['client', 'cluster', 'config', 'instance', 'meta', 'observe', 'parser', 'protocol', 'server'],
};

const srcRoot = path.resolve(import.meta.dirname, '..', 'src');

function folderOf(file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : null;
}

export const importDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between src/ folders follow the table in docs/architecture.md' },
    schema: [],
    messages: {
      forbidden: "src/{{from}}/ may not import src/{{to}}/ (docs/architecture.md, import rule: {{from}} may import {{allowed}}). Move the shared piece to a folder both may import.",
      unknownFolder: 'src/{{folder}}/ has no row in the import table: add one to eslint-rules/import-direction.js and docs/architecture.md.',
    },
  },
  create(context) {
    const file = context.filename;
    const from = folderOf(file);
    if (from === null) return {};
    const allowed = ALLOWED[from];
    function check(node, source) {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const to = folderOf(path.resolve(path.dirname(file), source.value));
      if (to === null || to === from) return;
      if (allowed === undefined) {
        context.report({ node, messageId: 'unknownFolder', data: { folder: from } });
      } else if (!allowed.includes(to)) {
        context.report({ node, messageId: 'forbidden', data: { from, to, allowed: allowed.length ? allowed.join(', ') : 'nothing of sluice' } });
      }
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export default { rules: { 'import-direction': importDirection } };
