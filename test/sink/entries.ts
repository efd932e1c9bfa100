// ParsedEntry builders for sink and pump tests. `offset` carries a serial number; `ts` is binlog time.
import { EntryType, EventType, type Column, type ParsedEntry } from '../../src/protocol/entry-model.ts';

export interface At {
  offset: number;
  ts?: number;
  file?: string;
}

function position(at: At): ParsedEntry['position'] {
  return { file: at.file ?? 'binlog.000001', offset: at.offset, nextOffset: at.offset + 1, serverId: 1, timestamp: at.ts ?? 1_700_000_000_000, gtid: '', gtidSet: '' };
}

function header(at: At, schema = '', table = '', eventType?: EventType): ParsedEntry['header'] {
  const h: ParsedEntry['header'] = { version: 1, logfileName: at.file ?? 'binlog.000001', logfileOffset: at.offset, serverId: 1, executeTime: at.ts ?? 1_700_000_000_000, sourceType: 1, schemaName: schema, tableName: table, eventLength: 10 };
  if (eventType !== undefined) h.eventType = eventType;
  return h;
}

export function begin(at: At): ParsedEntry {
  return { entryType: EntryType.TRANSACTIONBEGIN, header: header(at), begin: { threadId: 7 }, position: position(at) };
}

export function end(at: At): ParsedEntry {
  return { entryType: EntryType.TRANSACTIONEND, header: header(at), end: { transactionId: String(at.offset) }, position: position(at) };
}

export function col(index: number, name: string, value: string): Column {
  return { index, sqlType: 12, name, isNull: false, value, mysqlType: 'varchar(20)', updated: true };
}

export function rows(at: At, schema: string, table: string, eventType: EventType = EventType.INSERT, columns: Column[] = [col(0, 'id', String(at.offset))]): ParsedEntry {
  const data = eventType === EventType.DELETE ? { beforeColumns: columns, afterColumns: [] } : eventType === EventType.UPDATE ? { beforeColumns: columns, afterColumns: columns } : { beforeColumns: [], afterColumns: columns };
  return {
    entryType: EntryType.ROWDATA,
    header: { ...header(at, schema, table, eventType), props: [{ key: 'rowsCount', value: '1' }] },
    rowChange: { tableId: 1, eventType, isDdl: false, rowDatas: [data] },
    position: position(at),
  };
}

export function ddl(at: At, schema: string, table: string, eventType: EventType, sql: string, alsoNames?: string[]): ParsedEntry {
  const e: ParsedEntry = {
    entryType: EntryType.ROWDATA,
    header: header(at, schema, table, eventType),
    rowChange: { eventType, isDdl: true, sql, rowDatas: [], ddlSchemaName: schema },
    position: position(at),
  };
  if (alsoNames !== undefined) e.alsoNames = alsoNames;
  return e;
}

export function heartbeat(at: At): ParsedEntry {
  return { entryType: EntryType.HEARTBEAT, header: header(at), position: position(at) };
}

export const offsets = (es: readonly { position: { offset: number } }[]): number[] => es.map((e) => e.position.offset);
