// Shared pieces of the parser tests: a parser on a sandbox that records what it hands on, and
// readers that turn entries into compact, comparable shapes.
import type { Column, ParsedEntry } from '../../src/protocol/entry-model.ts';
import { EntryTypeName, EventTypeName } from '../../src/protocol/entry-model.ts';
import { EventParser, type EventParserOptions, type StartFrom } from '../../src/parser/event-parser.ts';
import type { Sandbox } from '../support/sandbox.ts';

let nextSlave = 5000 + (process.pid % 1000) * 7;

export function parserOn(sb: Sandbox, start: StartFrom, extra: Partial<EventParserOptions> = {}): EventParser {
  return new EventParser({ ...sb.replConfig, slaveId: nextSlave++, start, heartbeatMs: 1000, timezone: 'UTC', ...extra });
}

/** Collects every entry a parser hands on, in order. */
export class Recorder {
  readonly entries: ParsedEntry[] = [];
  readonly errors: Error[] = [];
  constructor(readonly parser: EventParser) {
    parser.on('entries', (es: ParsedEntry[]) => {
      for (const e of es) this.entries.push(e);
    });
    parser.on('error', (err: Error) => this.errors.push(err));
  }
  rowEntries(table?: string): ParsedEntry[] {
    return this.entries.filter((e) => e.rowChange && !e.rowChange.isDdl && (table === undefined || e.header.tableName === table));
  }
  /** Every row image of a table as {column: value} objects (after image, or before image for DELETE). */
  rows(table: string): Record<string, string | null>[] {
    const out: Record<string, string | null>[] = [];
    for (const e of this.rowEntries(table)) {
      for (const rd of e.rowChange!.rowDatas) out.push(asObject(rd.afterColumns.length > 0 ? rd.afterColumns : rd.beforeColumns));
    }
    return out;
  }
}

export function asObject(cols: Column[]): Record<string, string | null> {
  const o: Record<string, string | null> = {};
  for (const c of cols) o[c.name] = c.isNull ? null : (c.value ?? '');
  return o;
}

/** A one-line summary of an entry, for comparing sequences: e.g. "ROWDATA INSERT s.t 2". */
export function summary(e: ParsedEntry): string {
  const kind = EntryTypeName[e.entryType]!;
  if (!e.rowChange) return kind;
  const rc = e.rowChange;
  const type = EventTypeName[rc.eventType]!;
  return `${kind} ${type} ${e.header.schemaName}.${e.header.tableName}${rc.isDdl ? ' ddl' : ` ${rc.rowDatas.length}`}`;
}
