// The converter refuses what it cannot decode: MySQL-only event types (which cannot be produced
// on MariaDB here, so they are fed as event objects) and rows without their table map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventConverter, type BinlogEventLike } from '../../src/parser/event-converter.ts';
import { ParserError, classifyError } from '../../src/parser/errors.ts';
import type { TableCodec } from '../../src/parser/columns/types.ts';

function converter(): EventConverter {
  return new EventConverter({
    file: 'binlog.000007',
    gtidSeed: '0-1-10',
    flavor: 'mariadb',
    sourceServerId: 1,
    checksum: true,
    meta: { get: () => undefined, invalidate: () => undefined, invalidateSchema: () => undefined },
    buildCodec: (t): TableCodec => ({ schema: t.schemaName, table: t.tableName, tableId: t.tableId, toRowDatas: () => [] }),
    format: { timezone: 'UTC' },
  });
}

function ev(name: string, fields: Record<string, unknown> = {}, nextPosition = 500, size = 40): BinlogEventLike {
  return { getEventName: () => name, timestamp: 1_700_000_000_000, nextPosition, size, ...fields };
}

function assertFatal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ParserError);
    assert.equal(err.fatal, true);
    assert.match(err.message, pattern);
    return true;
  });
}

test('MySQL TRANSACTION_PAYLOAD and PARTIAL_UPDATE_ROWS events stop the stream, naming the event and its position', () => {
  assertFatal(() => converter().convert(ev('transactionpayload')), /TRANSACTION_PAYLOAD_EVENT.*binlog_transaction_compression/);
  assertFatal(() => converter().convert(ev('partialupdaterows')), /PARTIAL_UPDATE_ROWS_EVENT.*binlog_row_value_options/);
  assertFatal(() => converter().convert(ev('transactionpayload', {}, 1000, 77)), /binlog\.000007:900/);
});

test('an unknown event with a body is fatal; the empty STOP event of a clean shutdown is not', () => {
  assertFatal(() => converter().convert(ev('unknown', {}, 800, 12)), /binlog\.000007:765 .*does not decode/);
  assert.deepEqual(converter().convert(ev('unknown', {}, 800, 0)), []);
  assertFatal(() => converter().convert(ev('somethingnew')), /'somethingnew'/);
});

test('rows whose table id no table map of the transaction describes are refused', () => {
  const c = converter();
  c.convert(ev('mariadbgtid', { domainId: 0, serverId: 1, seqNo: 11, standalone: false }));
  const tableMap = { 5: { parentSchema: 's', tableName: 'a', columnSchemas: [] } };
  c.convert(ev('tablemap', { tableId: 5, schemaName: 's', tableName: 'a', columnTypes: [3], tableMap }));
  assert.equal(c.convert(ev('writerows', { tableId: 5, rows: [{}], tableMap })).length, 1);
  assertFatal(() => c.convert(ev('writerows', { tableId: 6, rows: [{}], tableMap })), /table id 6/);
  c.convert(ev('xid', { xid: 3 }));
  // A new transaction must map the table again before its rows.
  c.convert(ev('mariadbgtid', { domainId: 0, serverId: 1, seqNo: 12, standalone: false }));
  assertFatal(() => c.convert(ev('writerows', { tableId: 5, rows: [{}], tableMap })), /table id 5/);
  // zongji's cache describing another table under the same id is refused too.
  const moved = { 5: { parentSchema: 's', tableName: 'b', columnSchemas: [] } };
  c.convert(ev('tablemap', { tableId: 5, schemaName: 's', tableName: 'a', columnTypes: [3], tableMap }));
  assertFatal(() => c.convert(ev('writerows', { tableId: 5, rows: [{}], tableMap: moved })), /table id 5/);
});

test('the executed GTID position advances per group and rotates change the file', () => {
  const c = converter();
  const [begin] = c.convert(ev('mariadbgtid', { domainId: 0, serverId: 1, seqNo: 11, standalone: false, gtid: '0-1-11' }));
  assert.equal(begin!.position.gtidSet, '0-1-11');
  assert.equal(begin!.header.gtid, '0-1-11');
  const [end] = c.convert(ev('xid', { xid: '18446744073709551615', gtid: '0-1-11' }, 600, 8));
  assert.equal(end!.end!.transactionId, '18446744073709551615');
  assert.equal(end!.header.logfileOffset, 600 - 8 - 23);
  c.convert(ev('rotate', { binlogName: 'binlog.000008', position: 4 }, 700, 21));
  assert.equal(c.file, 'binlog.000008');
  assert.equal(c.offset, 4);
});

test('errors are told apart by errno: fatal ones name the file and the way out', () => {
  const purged = classifyError(
    Object.assign(new Error('Could not find first log file name in binary log index file'), { errno: 1236, code: 'ER_MASTER_FATAL_ERROR_READING_BINLOG' }),
    { file: 'binlog.000001', offset: 4, destination: 'orders' },
  );
  assert.equal(purged.fatal, true);
  assert.match(purged.message, /binlog\.000001/);
  assert.match(purged.message, /sluice positions reset --destination orders --to/);
  // MariaDB ends its message with a full stop: one sentence end, not "purged.. Run".
  const dotted = classifyError(
    Object.assign(new Error('Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged.'), { errno: 1236 }),
    { file: 'binlog.000001', offset: 4, destination: 'orders' },
  );
  assert.doesNotMatch(dotted.message, /\.\./);
  for (const errno of [1045, 4052, 1945, 1955]) {
    assert.equal(classifyError(Object.assign(new Error('x'), { errno, code: 'ER_INVALID_MFA_PLUGIN_SPECIFIED' }), {}).fatal, true, `errno ${errno}`);
  }
  assert.equal(classifyError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), {}).fatal, false);
  assert.equal(classifyError(Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' }), {}).fatal, false);
});

test('a table map waiting in the queue is decoded with the entry zongji had when it arrived', () => {
  let seen: unknown;
  const c = new EventConverter({
    file: 'binlog.000001',
    gtidSeed: '',
    flavor: 'mariadb',
    sourceServerId: 1,
    checksum: true,
    meta: { get: () => undefined, invalidate: () => undefined, invalidateSchema: () => undefined },
    buildCodec: (t): TableCodec => {
      seen = t.tableMap[t.tableId];
      return { schema: t.schemaName, table: t.tableName, tableId: t.tableId, toRowDatas: () => [] };
    },
    format: { timezone: 'UTC' },
  });
  const then = { parentSchema: 's', tableName: 'a', columnSchemas: [] };
  const now = { parentSchema: 's', tableName: 'other', columnSchemas: [] };
  c.convert(ev('mariadbgtid', { domainId: 0, serverId: 1, seqNo: 1, standalone: false }));
  c.convert(ev('tablemap', { tableId: 5, schemaName: 's', tableName: 'a', columnTypes: [3], tableMap: { 5: now }, mapEntry: then }));
  assert.equal(seen, then);
  assert.equal(c.convert(ev('writerows', { tableId: 5, rows: [{}], tableMap: { 5: now }, mapEntry: then })).length, 1);
});
