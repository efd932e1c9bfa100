// Binlog event type codes (MySQL's Log_event_type, plus MariaDB's own from 160) and the names
// the parser switches on. Names are the lower-case class names zongji 0.9.0 gives its events, so
// events of either decoder read the same to the converter and its tests.

export const EventCode = {
  UNKNOWN: 0,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  HEARTBEAT: 27,
  ROWS_QUERY: 29,
  WRITE_ROWS_V2: 30,
  UPDATE_ROWS_V2: 31,
  DELETE_ROWS_V2: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  GTID_TAGGED: 42,
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  START_ENCRYPTION: 164,
  QUERY_COMPRESSED: 165,
  WRITE_ROWS_COMPRESSED_V1: 166,
  UPDATE_ROWS_COMPRESSED_V1: 167,
  DELETE_ROWS_COMPRESSED_V1: 168,
  WRITE_ROWS_COMPRESSED: 169,
  UPDATE_ROWS_COMPRESSED: 170,
  DELETE_ROWS_COMPRESSED: 171,
} as const;

export type RowsKind = 'writerows' | 'updaterows' | 'deleterows';

/** The event name of each code; codes not listed are 'unknown'. */
const NAMES: Record<number, string> = {
  [EventCode.QUERY]: 'query',
  [EventCode.QUERY_COMPRESSED]: 'query',
  [EventCode.ROTATE]: 'rotate',
  [EventCode.INTVAR]: 'intvar',
  [EventCode.FORMAT_DESCRIPTION]: 'format',
  [EventCode.XID]: 'xid',
  [EventCode.TABLE_MAP]: 'tablemap',
  [EventCode.WRITE_ROWS_V1]: 'writerows',
  [EventCode.WRITE_ROWS_V2]: 'writerows',
  [EventCode.WRITE_ROWS_COMPRESSED_V1]: 'writerows',
  [EventCode.WRITE_ROWS_COMPRESSED]: 'writerows',
  [EventCode.UPDATE_ROWS_V1]: 'updaterows',
  [EventCode.UPDATE_ROWS_V2]: 'updaterows',
  [EventCode.UPDATE_ROWS_COMPRESSED_V1]: 'updaterows',
  [EventCode.UPDATE_ROWS_COMPRESSED]: 'updaterows',
  [EventCode.DELETE_ROWS_V1]: 'deleterows',
  [EventCode.DELETE_ROWS_V2]: 'deleterows',
  [EventCode.DELETE_ROWS_COMPRESSED_V1]: 'deleterows',
  [EventCode.DELETE_ROWS_COMPRESSED]: 'deleterows',
  [EventCode.HEARTBEAT]: 'heartbeat',
  [EventCode.ROWS_QUERY]: 'rowsquery',
  [EventCode.GTID]: 'gtid',
  [EventCode.GTID_TAGGED]: 'gtid',
  [EventCode.ANONYMOUS_GTID]: 'anonymousgtid',
  [EventCode.PREVIOUS_GTIDS]: 'previousgtids',
  [EventCode.XA_PREPARE]: 'xaprepare',
  [EventCode.PARTIAL_UPDATE_ROWS]: 'partialupdaterows',
  [EventCode.TRANSACTION_PAYLOAD]: 'transactionpayload',
  [EventCode.ANNOTATE_ROWS]: 'annotaterows',
  [EventCode.BINLOG_CHECKPOINT]: 'binlogcheckpoint',
  [EventCode.MARIADB_GTID]: 'mariadbgtid',
  [EventCode.MARIADB_GTID_LIST]: 'mariadbgtidlist',
  [EventCode.START_ENCRYPTION]: 'startencryption',
};

export function eventName(code: number): string {
  return NAMES[code] ?? 'unknown';
}

/** Rows events whose post-header carries the v2 extra-data block. */
export function hasExtraData(code: number): boolean {
  return (code >= EventCode.WRITE_ROWS_V2 && code <= EventCode.DELETE_ROWS_V2) || (code >= EventCode.WRITE_ROWS_COMPRESSED && code <= EventCode.DELETE_ROWS_COMPRESSED);
}

/** MariaDB log_bin_compress=ON rows events: the row images are one compressed payload. */
export function isCompressedRows(code: number): boolean {
  return code >= EventCode.WRITE_ROWS_COMPRESSED_V1 && code <= EventCode.DELETE_ROWS_COMPRESSED;
}
