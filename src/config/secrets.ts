// Secrets stay out of config files: a value may be `{"env": "NAME"}` or a string holding `${NAME}`,
// both read from the environment at load time. A missing variable is a config error, never "".
import { isSecretKey, type IssueList } from './errors.ts';

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type Env = Record<string, string | undefined>;

// Stands in for an unset secret when secrets are optional: 40 hex digits pass as a password and
// as a password hash alike. Never used to connect: such a config only serves to read the rest.
const SECRET_STAND_IN = '0'.repeat(40);

function unsetSecret(issues: IssueList, key: string): boolean {
  return issues.secretsOptional && isSecretKey(key);
}

function isEnvRef(v: unknown): v is { env: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { env?: unknown }).env === 'string';
}

/** Replaces `${NAME}` in one string; records an issue per unset variable. */
export function interpolate(text: string, env: Env, issues: IssueList, file: string, key: string): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) {
      if (unsetSecret(issues, key)) return SECRET_STAND_IN;
      issues.add(file, key, `environment variable ${name} is not set (referenced as \${${name}})`);
      return '';
    }
    return v;
  });
}

/**
 * Returns a copy of a parsed JSON tree with env references resolved and keys starting with `_`
 * (comments) removed, so the schemas can stay strict about unknown keys.
 */
export function resolveJsonTree(value: unknown, env: Env, issues: IssueList, file: string, path: string[] = []): unknown {
  const key = path.join('.');
  if (isEnvRef(value)) {
    const v = env[value.env];
    if (v === undefined) {
      if (unsetSecret(issues, key)) return SECRET_STAND_IN;
      issues.add(file, key, `environment variable ${value.env} is not set (referenced as {"env": "${value.env}"})`);
      // An empty stand-in keeps the schema from reporting the same key a second time as missing.
      return '';
    }
    return v;
  }
  if (typeof value === 'string') return interpolate(value, env, issues, file, key);
  if (Array.isArray(value)) return value.map((v, i) => resolveJsonTree(v, env, issues, file, [...path, String(i)]));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('_')) continue;
      out[k] = resolveJsonTree(v, env, issues, file, [...path, k]);
    }
    return out;
  }
  return value;
}
