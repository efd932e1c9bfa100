// Field numbers and wire tags of the Canal messages, taken once from the .proto files (through
// proto.ts's reflection) so hand-written writers and readers never spell a field number
// themselves: `fields.Column.value` is the number, `tags.Column.value` the (number << 3 | wire
// type) byte a writer puts down and a reader switches on. The field names below are checked
// against the .proto files at load: a name that is not there throws.
import protobuf from 'protobufjs';
import { pb } from './proto.ts';

export const WIRE_VARINT = 0;
export const WIRE_LENGTH_DELIMITED = 2;

type Numbers<T extends string> = Readonly<Record<T, number>>;

function numbers<T extends string>(type: protobuf.Type, names: readonly T[]): Numbers<T> {
  const out: Record<string, number> = {};
  for (const name of names) out[name] = fieldOf(type, name).id;
  return out as Numbers<T>;
}

function wireTags<T extends string>(type: protobuf.Type, names: readonly T[]): Numbers<T> {
  const out: Record<string, number> = {};
  for (const name of names) {
    out[name] = tagOf(type, fieldOf(type, name));
  }
  return out as Numbers<T>;
}

function fieldOf(type: protobuf.Type, name: string): protobuf.Field {
  const f = type.fields[name];
  if (f === undefined) throw new Error(`wire-fields.ts: ${type.name} has no field ${name} in the .proto files`);
  return f;
}

/** A field's tag: (number << 3) | wire type. The hand-written writers put it down as one byte. */
export function tagOf(type: protobuf.Type, f: protobuf.Field): number {
  const tag = (f.id << 3) | wireTypeOf(f);
  if (tag > 0x7f) throw new Error(`wire-fields.ts: ${type.name}.${f.name}'s tag does not fit one byte`);
  return tag;
}

/** The wire type a field's values are written with (the Canal messages use only these two). */
export function wireTypeOf(f: protobuf.Field): number {
  const delimited = f.repeated || f.resolvedType instanceof protobuf.Type || f.type === 'string' || f.type === 'bytes';
  return delimited ? WIRE_LENGTH_DELIMITED : WIRE_VARINT;
}

const names = {
  Packet: ['magicNumber', 'version', 'type', 'compression', 'body'],
  Handshake: ['communicationEncoding', 'seeds', 'supportedCompressions'],
  ClientAuth: ['username', 'password', 'netReadTimeout', 'netWriteTimeout', 'destination', 'clientId', 'filter', 'startTimestamp'],
  Ack: ['errorCode', 'errorMessage'],
  ClientAck: ['destination', 'clientId', 'batchId'],
  Sub: ['destination', 'clientId', 'filter'],
  Unsub: ['destination', 'clientId', 'filter'],
  Get: ['destination', 'clientId', 'fetchSize', 'timeout', 'unit', 'autoAck'],
  Messages: ['batchId', 'messages'],
  ClientRollback: ['destination', 'clientId', 'batchId'],
  Entry: ['header', 'entryType', 'storeValue'],
  Header: ['version', 'logfileName', 'logfileOffset', 'serverId', 'serverenCode', 'executeTime', 'sourceType', 'schemaName', 'tableName', 'eventLength', 'eventType', 'props', 'gtid'],
  Column: ['index', 'sqlType', 'name', 'isKey', 'updated', 'isNull', 'props', 'value', 'length', 'mysqlType'],
  RowData: ['beforeColumns', 'afterColumns', 'props'],
  RowChange: ['tableId', 'eventType', 'isDdl', 'sql', 'rowDatas', 'props', 'ddlSchemaName'],
  TransactionBegin: ['executeTime', 'transactionId', 'props', 'threadId'],
  TransactionEnd: ['executeTime', 'transactionId', 'props'],
  Pair: ['key', 'value'],
} as const;

type Names = typeof names;
type Message = keyof Names;
type Table = { readonly [M in Message]: Numbers<Names[M][number]> };

function table(of: (type: protobuf.Type, list: readonly string[]) => Numbers<string>): Table {
  const out: Record<string, Numbers<string>> = {};
  for (const m of Object.keys(names) as Message[]) out[m] = of(pb[m], names[m]);
  return out as unknown as Table;
}

/** Field numbers, by message and field name. */
export const fields: Table = table(numbers);

/** Wire tags (number << 3 | wire type), by message and field name; every one fits a byte. */
export const tags: Table = table(wireTags);
