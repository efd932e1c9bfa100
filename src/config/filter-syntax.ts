// Load-time checks of Canal's filter strings (canal-protocol.md §9), so a bad regex fails at
// start-up naming its key instead of when the first row arrives.

/** Splits on commas outside (), [] and {} and not escaped, as Canal master does; empty pieces dropped. */
export function splitFilter(text: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1]!;
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    if (c === ',' && depth === 0) {
      if (cur !== '') pieces.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur !== '') pieces.push(cur);
  return pieces;
}

/** Returns why a table filter is unusable, or undefined when every piece compiles. */
export function tableFilterProblem(text: string): string | undefined {
  for (const piece of splitFilter(text)) {
    try {
      new RegExp('^(?:' + piece + ')$', 'is');
    } catch (err) {
      return `the regex ${JSON.stringify(piece)} does not compile (${(err as Error).message}); write Canal filter syntax: comma-separated regexes over schema.table, e.g. "shop\\\\..*,crm\\\\.customer"`;
    }
  }
  return undefined;
}

const FIELD_RULE = /^[^.:,/\s]+\.[^.:,/\s]+:[^:,/\s]+(\/[^:,/\s]+)*$/;

/** Checks `schema.table:col1/col2,schema2.table2:col1` (Canal's filter.field syntax). */
export function fieldFilterProblem(text: string): string | undefined {
  for (const rule of text.split(',')) {
    if (rule === '') continue;
    if (!FIELD_RULE.test(rule)) {
      return `the rule ${JSON.stringify(rule)} is not schema.table:col1/col2 (Canal's filter.field syntax: comma-separated rules, columns separated by /)`;
    }
  }
  return undefined;
}
