// Classification of statement (query) events into Canal's event types, with the table a DDL names.
// Canal parses the first statement of a query event to fill the header's schema and table; we do
// the same with a small tokenizer instead of a full SQL grammar, because only the statement's
// leading keywords and its first table name matter.
import { EventType } from '../protocol/entry-model.ts';

export type StatementKind =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  /** SAVEPOINT / ROLLBACK TO / RELEASE SAVEPOINT: transaction control that changes no data */
  | { kind: 'savepoint' }
  | { kind: 'xa'; phase: 'START' | 'END' | 'PREPARE' | 'COMMIT' | 'ROLLBACK'; xid: string }
  /** statement-format DML (binlog_format STATEMENT or MIXED) */
  | { kind: 'dml'; eventType: EventType; schema: string; table: string }
  | { kind: 'ddl'; eventType: EventType; schema: string; table: string; alsoNames: string[] };

interface Token {
  /** upper-cased for keywords; identifiers keep their spelling */
  word: string;
  upper: string;
  quoted: boolean;
}

/** Splits the start of a statement into words, dots, commas and parentheses; skips comments. */
function tokenize(sql: string, max = 64): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n && out.length < max) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      // MariaDB executable comments (/*!50100 ... */, /*M! ... */) hold real SQL: read their body.
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) {
        i += sql[i + 2] === '!' ? 3 : 4;
        while (i < n && sql[i]! >= '0' && sql[i]! <= '9') i++;
      } else {
        const end = sql.indexOf('*/', i + 2);
        i = end < 0 ? n : end + 2;
      }
    } else if (c === '*' && sql[i + 1] === '/') {
      i += 2;
    } else if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '`' || c === '"' || c === "'") {
      let j = i + 1;
      let word = '';
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            word += c;
            j += 2;
            continue;
          }
          break;
        }
        word += sql[j];
        j++;
      }
      out.push({ word, upper: word.toUpperCase(), quoted: true });
      i = j + 1;
    } else if (c === '.' || c === ',' || c === '(' || c === ')' || c === ';' || c === '=') {
      out.push({ word: c, upper: c, quoted: false });
      i++;
    } else {
      let j = i;
      while (j < n && !/[\s.,();=`"'/]/.test(sql[j]!)) j++;
      if (j === i) j++;
      const word = sql.slice(i, j);
      out.push({ word, upper: word.toUpperCase(), quoted: false });
      i = j;
    }
  }
  return out;
}

class Cursor {
  pos = 0;
  constructor(private readonly t: Token[]) {}
  peek(k = 0): Token | undefined {
    return this.t[this.pos + k];
  }
  /** Consumes the given keywords in order if they are next; returns whether it did. */
  accept(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const tok = this.t[this.pos + k];
      if (!tok || tok.quoted || tok.upper !== words[k]) return false;
    }
    this.pos += words.length;
    return true;
  }
  /** Skips any of the given single keywords, in any order. */
  skipAny(...words: string[]): void {
    while (this.peek() && !this.peek()!.quoted && words.includes(this.peek()!.upper)) this.pos++;
  }
  /** Reads `name` or `schema.name`; an unqualified name gets the default schema. */
  name(defaultSchema: string): { schema: string; table: string } | undefined {
    const a = this.peek();
    if (!a || (!a.quoted && /^[.,();=]$/.test(a.word))) return undefined;
    this.pos++;
    if (this.peek()?.word === '.' && !this.peek()!.quoted) {
      const b = this.peek(1);
      if (b) {
        this.pos += 2;
        return { schema: a.word, table: b.word };
      }
    }
    return { schema: defaultSchema, table: a.word };
  }
}

function ddl(eventType: EventType, n: { schema: string; table: string } | undefined, defaultSchema: string, alsoNames: string[] = []): StatementKind {
  return { kind: 'ddl', eventType, schema: n?.schema ?? defaultSchema, table: n?.table ?? '', alsoNames };
}

/**
 * Classifies one query event's SQL. `defaultSchema` is the query's session schema; it qualifies
 * unqualified table names, as Canal does.
 */
export function classifyStatement(sql: string, defaultSchema: string): StatementKind {
  const c = new Cursor(tokenize(sql));
  const first = c.peek()?.upper ?? '';
  if (first === 'BEGIN' || (first === 'START' && c.peek(1)?.upper === 'TRANSACTION')) return { kind: 'begin' };
  if (first === 'COMMIT') return { kind: 'commit' };
  if (first === 'SAVEPOINT' || first === 'RELEASE') return { kind: 'savepoint' };
  if (first === 'ROLLBACK') {
    const rest = c.peek(1)?.upper;
    return rest === 'TO' ? { kind: 'savepoint' } : { kind: 'rollback' };
  }
  if (first === 'XA') {
    const phase = c.peek(1)?.upper;
    if (phase === 'START' || phase === 'BEGIN' || phase === 'END' || phase === 'PREPARE' || phase === 'COMMIT' || phase === 'ROLLBACK') {
      const xid = sql.replace(/^\s*XA\s+\w+\s*/i, '').trim();
      return { kind: 'xa', phase: phase === 'BEGIN' ? 'START' : phase, xid };
    }
  }

  if (c.accept('INSERT') || c.accept('REPLACE')) {
    c.skipAny('LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE', 'INTO');
    const n = c.name(defaultSchema);
    return { kind: 'dml', eventType: EventType.INSERT, schema: n?.schema ?? defaultSchema, table: n?.table ?? '' };
  }
  if (c.accept('UPDATE')) {
    c.skipAny('LOW_PRIORITY', 'IGNORE');
    const n = c.name(defaultSchema);
    return { kind: 'dml', eventType: EventType.UPDATE, schema: n?.schema ?? defaultSchema, table: n?.table ?? '' };
  }
  if (c.accept('DELETE')) {
    c.skipAny('LOW_PRIORITY', 'QUICK', 'IGNORE', 'FROM');
    const n = c.name(defaultSchema);
    return { kind: 'dml', eventType: EventType.DELETE, schema: n?.schema ?? defaultSchema, table: n?.table ?? '' };
  }

  if (c.accept('CREATE')) {
    c.accept('OR', 'REPLACE');
    c.skipAny('TEMPORARY', 'ONLINE', 'OFFLINE', 'UNIQUE', 'FULLTEXT', 'SPATIAL');
    if (c.accept('TABLE')) {
      c.accept('IF', 'NOT', 'EXISTS');
      return ddl(EventType.CREATE, c.name(defaultSchema), defaultSchema);
    }
    if (c.accept('INDEX')) {
      c.accept('IF', 'NOT', 'EXISTS');
      c.name(defaultSchema); // the index name
      c.skipAny('USING', 'BTREE', 'HASH', 'RTREE');
      if (c.accept('ON')) return ddl(EventType.CINDEX, c.name(defaultSchema), defaultSchema);
      return ddl(EventType.CINDEX, undefined, defaultSchema);
    }
    if (c.accept('DATABASE') || c.accept('SCHEMA')) {
      c.accept('IF', 'NOT', 'EXISTS');
      return { kind: 'ddl', eventType: EventType.QUERY, schema: c.peek()?.word ?? defaultSchema, table: '', alsoNames: [] };
    }
    return ddl(EventType.QUERY, undefined, defaultSchema);
  }
  if (c.accept('ALTER')) {
    c.skipAny('ONLINE', 'OFFLINE', 'IGNORE');
    if (c.accept('TABLE')) {
      c.accept('IF', 'EXISTS');
      const n = c.name(defaultSchema);
      c.skipAny('WAIT', 'NOWAIT');
      // The first clause decides, as Canal's parser takes the first alteration's kind.
      if (c.accept('RENAME')) {
        if (c.peek()?.upper === 'TO' || c.peek()?.upper === 'AS') c.pos++;
        if (c.peek()?.upper !== 'COLUMN' && c.peek()?.upper !== 'INDEX' && c.peek()?.upper !== 'KEY') {
          // An unqualified new name stays in the renamed table's schema.
          const to = c.name(n?.schema ?? defaultSchema);
          if (!to) return ddl(EventType.RENAME, n, defaultSchema);
          return ddl(EventType.RENAME, to, defaultSchema, n ? [`${n.schema}.${n.table}`] : []);
        }
        return ddl(EventType.ALTER, n, defaultSchema);
      }
      if (c.accept('ADD')) {
        const k = c.peek()?.upper;
        if (k === 'INDEX' || k === 'KEY' || k === 'UNIQUE' || k === 'FULLTEXT' || k === 'SPATIAL') return ddl(EventType.CINDEX, n, defaultSchema);
        return ddl(EventType.ALTER, n, defaultSchema);
      }
      if (c.accept('DROP', 'INDEX') || c.accept('DROP', 'KEY')) return ddl(EventType.DINDEX, n, defaultSchema);
      return ddl(EventType.ALTER, n, defaultSchema);
    }
    return ddl(EventType.QUERY, undefined, defaultSchema);
  }
  if (c.accept('DROP')) {
    c.skipAny('TEMPORARY', 'ONLINE', 'OFFLINE');
    if (c.accept('TABLE')) {
      c.accept('IF', 'EXISTS');
      return ddl(EventType.ERASE, c.name(defaultSchema), defaultSchema);
    }
    if (c.accept('INDEX')) {
      c.accept('IF', 'EXISTS');
      c.name(defaultSchema);
      if (c.accept('ON')) return ddl(EventType.DINDEX, c.name(defaultSchema), defaultSchema);
      return ddl(EventType.DINDEX, undefined, defaultSchema);
    }
    if (c.accept('DATABASE') || c.accept('SCHEMA')) {
      c.accept('IF', 'EXISTS');
      return { kind: 'ddl', eventType: EventType.QUERY, schema: c.peek()?.word ?? defaultSchema, table: '', alsoNames: [] };
    }
    return ddl(EventType.QUERY, undefined, defaultSchema);
  }
  if (c.accept('TRUNCATE')) {
    c.accept('TABLE');
    return ddl(EventType.TRUNCATE, c.name(defaultSchema), defaultSchema);
  }
  if (c.accept('RENAME')) {
    if (c.accept('TABLE') || c.accept('TABLES')) {
      c.accept('IF', 'EXISTS');
      // Canal's header names the first pair's new table; every other name involved goes to alsoNames,
      // so a filter matching any of them sees the rename.
      const names: string[] = [];
      let header: { schema: string; table: string } | undefined;
      let from = c.name(defaultSchema);
      c.skipAny('WAIT', 'NOWAIT');
      while (from && c.accept('TO')) {
        names.push(`${from.schema}.${from.table}`);
        const to = c.name(defaultSchema);
        if (!to) break;
        if (header) names.push(`${to.schema}.${to.table}`);
        else header = to;
        if (!c.accept(',')) break;
        from = c.name(defaultSchema);
      }
      return ddl(EventType.RENAME, header ?? from, defaultSchema, names);
    }
    return ddl(EventType.QUERY, undefined, defaultSchema);
  }
  return ddl(EventType.QUERY, undefined, defaultSchema);
}

/** The "schema.table" names a DDL affects, for refreshing cached table metadata. */
export function namesTouched(k: StatementKind): string[] {
  if (k.kind !== 'ddl') return [];
  const out = k.table ? [`${k.schema}.${k.table}`] : [];
  return out.concat(k.alsoNames);
}
