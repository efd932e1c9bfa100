// Configuration problems are collected, not thrown one at a time: a DBA fixing a file wants every
// mistake in it at once, and nothing may start while any remains.

export interface ConfigIssue {
  /** the file at fault, as the user named it (absolute or relative to the config dir) */
  file: string;
  /** dotted key path inside the file (JSON) or the property key (Canal) */
  key: string;
  /** what is wrong and what is allowed */
  problem: string;
  /** the offending value, when there is one */
  value?: unknown;
}

/** Renders a value for an error message, shortened and with secrets never involved (callers omit them). */
export function showValue(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/** Keys whose values never appear in messages or logs. */
export function isSecretKey(key: string): boolean {
  return /pass(word|wd)|secret/i.test(key);
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.key === '' ? i.file : `${i.file}: ${i.key}`;
  const got = 'value' in i && i.value !== undefined ? ` (got ${showValue(i.value)})` : '';
  return `${where}: ${i.problem}${got}`;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      issues.length === 1
        ? `invalid configuration: ${formatIssue(issues[0]!)}`
        : `invalid configuration (${issues.length} problems):\n` + issues.map((i) => '  - ' + formatIssue(i)).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Gathers issues while loading; `throwIfAny` ends the load when something was wrong. */
export class IssueList {
  readonly issues: ConfigIssue[] = [];
  /** a secret whose variable is unset is not an issue (see LoadOptions.secretsOptional) */
  secretsOptional = false;
  add(file: string, key: string, problem: string, value?: unknown): void {
    const issue: ConfigIssue = { file, key, problem };
    if (value !== undefined) issue.value = isSecretKey(key) ? '<redacted>' : value;
    this.issues.push(issue);
  }
  get empty(): boolean {
    return this.issues.length === 0;
  }
  throwIfAny(): void {
    if (this.issues.length > 0) throw new ConfigError(this.issues);
  }
}
