// Loads our .proto files once and exposes the reflected message types.
// The files live in <package>/proto, two levels above both src/protocol and dist/protocol.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));

const root = new protobuf.Root();
root.loadSync([protoDir + 'canal_packet.proto', protoDir + 'canal_entry.proto'], { keepCase: false });
root.resolveAll();

const ns = 'com.alibaba.otter.canal.protocol.';
function type(name: string): protobuf.Type {
  return root.lookupType(ns + name);
}
export const pb = {
  Packet: type('Packet'),
  HeartBeat: type('HeartBeat'),
  Handshake: type('Handshake'),
  ClientAuth: type('ClientAuth'),
  Ack: type('Ack'),
  ClientAck: type('ClientAck'),
  Sub: type('Sub'),
  Unsub: type('Unsub'),
  Get: type('Get'),
  Messages: type('Messages'),
  Dump: type('Dump'),
  ClientRollback: type('ClientRollback'),
  Entry: type('Entry'),
  Header: type('Header'),
  Column: type('Column'),
  RowData: type('RowData'),
  RowChange: type('RowChange'),
  TransactionBegin: type('TransactionBegin'),
  TransactionEnd: type('TransactionEnd'),
  Pair: type('Pair'),
} as const;

/** Options for Type.toObject that turn int64 into JS numbers and keep enums numeric. */
export const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Buffer, defaults: false };
