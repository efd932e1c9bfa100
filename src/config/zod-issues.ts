// Turns zod's issues into sentences a DBA can act on: the key path, what was found and what is
// allowed (including the list of valid keys when one is misspelt).
import type { z } from 'zod';
import type { IssueList } from './errors.ts';

type AnySchema = z.ZodType;

function unwrap(schema: AnySchema): AnySchema {
  let s = schema as unknown as { def: { type: string; innerType?: AnySchema; in?: AnySchema } };
  for (let i = 0; i < 10; i++) {
    const d = s.def;
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'nullable') && d.innerType) s = d.innerType as never;
    else if (d.type === 'pipe' && d.in) s = d.in as never;
    else break;
  }
  return s as unknown as AnySchema;
}

/** The keys an object schema accepts at `path`, for "allowed keys" hints. */
function keysAt(root: AnySchema, path: PropertyKey[]): string[] {
  let s = unwrap(root);
  for (const p of path) {
    const shape = (s as unknown as { shape?: Record<string, AnySchema> }).shape;
    if (!shape || typeof p !== 'string' || !(p in shape)) return [];
    s = unwrap(shape[p]!);
  }
  const shape = (s as unknown as { shape?: Record<string, AnySchema> }).shape;
  return shape ? Object.keys(shape) : [];
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function addZodIssues(issues: IssueList, file: string, schema: AnySchema, error: z.ZodError, prefix: string[] = []): void {
  for (const raw of error.issues) {
    const i = raw as z.core.$ZodIssue & { input?: unknown };
    const path = [...prefix, ...i.path.map(String)];
    const key = path.join('.');
    switch (i.code) {
      case 'invalid_type':
        if (i.input === undefined) issues.add(file, key, `required key is missing; expected ${i.expected}`);
        else issues.add(file, key, `expected ${i.expected}, got ${typeName(i.input)}`, i.input);
        break;
      case 'unrecognized_keys': {
        const allowed = keysAt(schema, i.path);
        for (const k of i.keys) {
          issues.add(file, [...path, k].join('.'), `unknown key; allowed here: ${allowed.join(', ') || '(none)'} (keys starting with _ are comments)`);
        }
        break;
      }
      case 'invalid_value':
        issues.add(file, key, `must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`, i.input);
        break;
      case 'too_big':
        issues.add(file, key, i.origin === 'string' ? `must be at most ${String(i.maximum)} characters` : `must be at most ${String(i.maximum)}`, i.input);
        break;
      case 'too_small':
        issues.add(file, key, i.origin === 'string' ? `must not be empty` : `must be at least ${String(i.minimum)}`, i.input);
        break;
      case 'invalid_union':
        issues.add(file, key, key.endsWith('timestamp') ? 'must be epoch milliseconds or an ISO-8601 date-time with offset' : i.message, i.input);
        break;
      default:
        issues.add(file, key, i.message, i.input);
    }
  }
}
