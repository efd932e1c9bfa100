// The shell commands of a README, as a test runs them: so that the test executes what the docs
// say and the two cannot drift apart. Only the simple shell the READMEs use is understood:
// `\` line continuations, `# comments`, `export NAME=value` lines and `NAME=value` prefixes;
// anything else (quotes, pipes, `$VAR`) is an error here, telling the writer to keep it simple.
import { readFileSync } from 'node:fs';

export interface ReadmeCommand {
  /** NAME=value assignments in force for this command (exports before it, then its own prefixes) */
  env: Record<string, string>;
  /** the command and its arguments */
  argv: string[];
  /** the command as written, continuations joined */
  text: string;
}

/** The bodies of the ```sh blocks under the heading `section` (up to the next heading of the same level or higher). */
export function shBlocks(file: string, section: string): string[] {
  const md = readFileSync(file, 'utf8');
  const start = md.indexOf(`\n${section}\n`);
  if (start < 0) throw new Error(`${file} has no heading "${section}"`);
  const level = /^#+/.exec(section)?.[0].length ?? 2;
  const rest = md.slice(start + section.length + 2);
  const next = new RegExp(`\\n#{1,${level}} `).exec(rest);
  const body = next ? rest.slice(0, next.index) : rest;
  return [...body.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The commands of one block, in order. */
export function parseShBlock(block: string): ReadmeCommand[] {
  const exported: Record<string, string> = {};
  const out: ReadmeCommand[] = [];
  for (const raw of block.replace(/\\\n/g, ' ').split('\n')) {
    const text = raw.replace(/(^|\s)#.*$/, '').trim();
    if (text === '') continue;
    if (/["'`$|;&<>()]/.test(text)) throw new Error(`README command too clever for the test's reader (quotes, $, pipes, ...): ${text}`);
    const words = text.split(/\s+/);
    if (words[0] === 'export') {
      for (const w of words.slice(1)) {
        const eq = w.indexOf('=');
        if (eq <= 0) throw new Error(`export without a value: ${text}`);
        exported[w.slice(0, eq)] = w.slice(eq + 1);
      }
      continue;
    }
    const env = { ...exported };
    let i = 0;
    for (; i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]!); i++) {
      const w = words[i]!;
      env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
    }
    if (i === words.length) throw new Error(`assignments without a command: ${text}`);
    out.push({ env, argv: words.slice(i), text });
  }
  return out;
}
