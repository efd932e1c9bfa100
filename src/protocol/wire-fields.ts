// Field numbers and wire tags of the Canal messages, taken once from the .proto files (through
// proto.ts's reflection) so hand-written writers and readers never spell a field number
// themselves: `fields.Column.value` is the number, `tags.Column.value` the (number << 3 | wire
// type) byte a writer puts down and a reader switches on.
import protobuf from 'protobufjs';
import { pb } from './proto.ts';

const VARINT = 0;
const LENGTH_DELIMITED = 2;

type Numbers<T extends string> = Record<T, number>;

function numbers<T extends string>(type: protobuf.Type): Numbers<T> {
  const out: Record<string, number> = {};
  for (const f of type.fieldsArray) out[f.name] = f.id;
  return out as Numbers<T>;
}

function wireTags<T extends string>(type: protobuf.Type): Numbers<T> {
  const out: Record<string, number> = {};
  for (const f of type.fieldsArray) {
    const delimited = f.repeated || f.resolvedType instanceof protobuf.Type || f.type === 'string' || f.type === 'bytes';
    out[f.name] = (f.id << 3) | (delimited ? LENGTH_DELIMITED : VARINT);
  }
  return out as Numbers<T>;
}

type ColumnField = 'index' | 'sqlType' | 'name' | 'isKey' | 'updated' | 'isNull' | 'props' | 'value' | 'length' | 'mysqlType';
type RowDataField = 'beforeColumns' | 'afterColumns' | 'props';
type MessagesField = 'batchId' | 'messages';
type PacketField = 'magicNumber' | 'version' | 'type' | 'compression' | 'body';

export const fields = {
  Column: numbers<ColumnField>(pb.Column),
  RowData: numbers<RowDataField>(pb.RowData),
  Messages: numbers<MessagesField>(pb.Messages),
  Packet: numbers<PacketField>(pb.Packet),
};

export const tags = {
  Column: wireTags<ColumnField>(pb.Column),
  RowData: wireTags<RowDataField>(pb.RowData),
  Messages: wireTags<MessagesField>(pb.Messages),
  Packet: wireTags<PacketField>(pb.Packet),
};
