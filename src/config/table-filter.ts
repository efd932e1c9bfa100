// Canal's table filter (AviaterRegexFilter; docs/sink-and-store.md, Table filters): a comma list of regexes, each a
// full, case-insensitive, dot-all match against the lower-cased `schema.table`. We follow Canal
// master's fixed splitting (commas inside {} [] () or after a backslash do not split), so that
// `\d{1,2}` survives; pieces are deliberately not trimmed, exactly as Canal does, because users
// who copy a filter from a working Canal must get the same tables.

export class FilterError extends Error {
  constructor(
    /** the configuration key (or 'subscription filter') the text came from */
    readonly key: string,
    /** the piece of the comma list at fault, as written */
    readonly piece: string,
    /** what is wrong with the piece and what is allowed */
    detail: string,
  ) {
    super(`${key}: ${detail}`);
    this.name = 'FilterError';
  }
}

/** Splits on commas outside (), [] and {} that are not escaped; empty pieces are dropped, none trimmed. */
export function splitFilterText(text: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      i++;
      continue;
    }
    if (c === 0x28 || c === 0x5b || c === 0x7b) depth++;
    else if ((c === 0x29 || c === 0x5d || c === 0x7d) && depth > 0) depth--;
    else if (c === 0x2c /* , */ && depth === 0) {
      if (i > start) pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.length > start) pieces.push(text.slice(start));
  return pieces;
}

export type FilterRole = 'include' | 'exclude';

/** Bounded so a source with an unbounded number of table names cannot grow memory. */
const CACHE_LIMIT = 4096;

export class TableFilter {
  /** pieces longest first, as Canal orders them */
  readonly pieces: readonly string[];
  private readonly regexes: readonly RegExp[];
  private readonly cache = new Map<string, boolean>();

  private constructor(
    readonly text: string,
    readonly key: string,
    readonly role: FilterRole,
    pieces: string[],
    regexes: RegExp[],
  ) {
    this.pieces = pieces;
    this.regexes = regexes;
  }

  /**
   * Compiles `text`; throws FilterError naming `key`, the piece and the regex error. An empty
   * filter matches everything as an include list and nothing as an exclude list (Canal's defaults).
   */
  static compile(text: string, key: string, role: FilterRole = 'include'): TableFilter {
    const pieces = splitFilterText(text).sort((a, b) => b.length - a.length);
    const regexes = pieces.map((piece) => {
      try {
        return new RegExp('^(?:' + piece + ')$', 'is');
      } catch (err) {
        const why = (err as Error).message;
        throw new FilterError(key, piece, `the filter piece ${JSON.stringify(piece)} is not a valid regex (${why}); Canal filter syntax is a comma list of regexes over schema.table, e.g. "shop\\..*,crm\\.customer"`);
      }
    });
    return new TableFilter(text, key, role, pieces, regexes);
  }

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** What an empty filter or an empty name yields. */
  private get fallback(): boolean {
    return this.role === 'include';
  }

  test(schema: string, table: string): boolean {
    return this.testName(schema + '.' + table);
  }

  /** `name` is `schema.table` in any case; it is lower-cased as Canal does. */
  testName(name: string): boolean {
    if (this.regexes.length === 0 || name === '') return this.fallback;
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const lower = name.toLowerCase();
    let hit = false;
    for (const re of this.regexes) {
      if (re.test(lower)) {
        hit = true;
        break;
      }
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(name, hit);
    return hit;
  }

  /** For logs: the key, the role and each regex as it is applied. */
  describe(): string {
    if (this.empty) return `${this.key} (${this.role}): empty, ${this.fallback ? 'every table' : 'no table'}`;
    return `${this.key} (${this.role}): ${this.pieces.map((p) => JSON.stringify(p)).join(' | ')}`;
  }

  /**
   * Likely mistakes that still compile (the pitfalls in docs/sink-and-store.md): whitespace around a piece,
   * which Canal keeps and which then never matches a table name, and an unescaped dot between
   * schema and table, which also matches any character.
   */
  warnings(): string[] {
    const out: string[] = [];
    for (const p of this.pieces) {
      if (p !== p.trim()) out.push(`${this.key}: the piece ${JSON.stringify(p)} has leading or trailing whitespace, which Canal keeps; it matches only names with those spaces`);
      if (/^[A-Za-z0-9_$]+\.[A-Za-z0-9_$]/.test(p)) out.push(`${this.key}: the piece ${JSON.stringify(p)} has an unescaped dot after the schema; it also matches any character there (write \\.)`);
    }
    return out;
  }
}
