// The binlog decoder's own rules, on hand-made events: the GTID label of a transaction's events,
// truncated events refused (and fatal for the parser), rows of a table never mapped dropped and
// counted, and equal table maps sharing one decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { BinlogDecoder, RowsEvent, type BinlogEvent } from '../../src/binlog/events.ts';
import { BinlogFormatError } from '../../src/binlog/bytes.ts';
import { classifyError } from '../../src/parser/errors.ts';

function event(code: number, body: Buffer, nextPosition = 100): Buffer {
  const h = Buffer.alloc(19);
  h.writeUInt32LE(1_700_000_000, 0);
  h[4] = code;
  h.writeUInt32LE(7, 5);
  h.writeUInt32LE(19 + body.length, 9);
  h.writeUInt32LE(nextPosition, 13);
  return Buffer.concat([h, body]);
}

function gtid(seq: number, flags = 0): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32LE(seq, 0);
  b.writeUInt32LE(0, 8);
  b[12] = flags;
  return event(162, b);
}

function query(sql: string): Buffer {
  const b = Buffer.alloc(13);
  return event(2, Buffer.concat([b, Buffer.from([0]), Buffer.from(sql)]));
}

function xid(): Buffer {
  return event(16, Buffer.alloc(8));
}

function tableMap(id: number): Buffer {
  const body = Buffer.concat([Buffer.from([id, 0, 0, 0, 0, 0, 1, 0, 1]), Buffer.from('s'), Buffer.from([0, 1]), Buffer.from('t'), Buffer.from([0, 1, 3, 0, 0])]);
  return event(19, body, 0);
}

function decodeAll(d: BinlogDecoder, events: Buffer[]): (BinlogEvent | undefined)[] {
  return events.map((e) => d.decode(e, 0, e.length));
}

test("every event of a transaction carries its GTID, through the XID or COMMIT that ends it, and none after", () => {
  const d = new BinlogDecoder({ checksum: false, mariadb: true });
  const out = decodeAll(d, [gtid(5), query('BEGIN'), xid(), query('FLUSH TABLES'), gtid(6), query('  commit '), query('SET x=1'), gtid(7, 1), query('CREATE TABLE a (i INT)'), query('x')]);
  assert.deepEqual(
    out.map((e) => e?.gtid),
    ['0-7-5', '0-7-5', '0-7-5', undefined, '0-7-6', '0-7-6', undefined, '0-7-7', '0-7-7', '0-7-7'],
  );
  assert.equal(out[0]!.eventName, 'mariadbgtid');
  assert.equal(out[5]!.query, '  commit ');
});

test('a truncated event is refused, and the parser treats it as fatal', () => {
  const d = new BinlogDecoder({ checksum: true, mariadb: true });
  const cut = gtid(5).subarray(0, 19 + 6);
  assert.throws(() => d.decode(cut, 0, cut.length), BinlogFormatError);
  const short = Buffer.alloc(10);
  assert.throws(() => d.decode(short, 0, short.length), /shorter than its header/);
  const pe = classifyError(new BinlogFormatError('truncated x'), { file: 'binlog.000001', offset: 4 });
  assert.equal(pe.fatal, true);
  assert.match(pe.message, /binlog\.000001:4.*truncated x/);
});

test('rows of a table id no table map named are dropped and counted; equal table maps share one decode', () => {
  const d = new BinlogDecoder({ checksum: false, mariadb: true });
  const rows = event(30, Buffer.concat([Buffer.from([9, 0, 0, 0, 0, 0, 1, 0, 2, 0, 1, 1]), Buffer.from([0, 5, 0, 0, 0])]));
  assert.equal(d.decode(rows, 0, rows.length), undefined);
  assert.equal(d.unmappedRows, 1);
  const [a, b] = decodeAll(d, [tableMap(9), tableMap(9)]);
  assert.equal(a!.columnTypes, b!.columnTypes);
  assert.notEqual(a, b);
  const r = d.decode(rows, 0, rows.length);
  assert.ok(r instanceof RowsEvent);
  assert.equal(r.eventName, 'writerows');
  assert.equal(r.rowsEnd - r.rowsStart, 5);
});
