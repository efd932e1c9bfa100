// A real stream decoded old and new: one binlog of a MariaDB sandbox holding an A-like workload
// (1000-row multi-row INSERTs), a B-like one (single-row transactions), a table of many column
// types (ENUM/SET, DECIMAL, temporals, BIT, BLOB/TEXT, JSON, UUID/INET, GEOMETRY) with UPDATEs and
// DELETEs, and an ALTER TABLE in the middle, read by sluice's EventParser (its own decoder) and by
// @vlasky/zongji 0.9.0 fed through the same converter the way the parser used it before (zongji's
// rows, GEOMETRY/DECIMAL/DATETIME(n) retyped for their bytes, table metadata loaded before a table
// map is converted). Every entry must be byte for byte the same, and the same as protobufjs's
// encoding of its Column objects.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import ZongJi from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { parserOn, Recorder } from '../parser/helpers.ts';
import { EventConverter, type BinlogEventLike, type TableMapEventLike } from '../../src/parser/event-converter.ts';
import { buildTableCodec, keepGeometryBytes } from '../../src/parser/columns/table-codec.ts';
import { keepRawBytes } from '../../src/parser/columns/raw-values.ts';
import { ZONGJI_VALUE_OPTIONS } from '../../src/parser/columns/zongji-options.ts';
import { TableMetaCache } from '../../src/parser/table-meta.ts';
import { encodeEntry, encodeEntryReference } from '../../src/protocol/entry-codec.ts';
import type { ParsedEntry } from '../../src/protocol/entry-model.ts';

let sb: Sandbox | undefined;
after(async () => {
  await sb?.stop();
});

async function workload(s: Sandbox): Promise<void> {
  await s.sql('CREATE DATABASE IF NOT EXISTS w');
  await s.sql(
    'CREATE TABLE w.a_t (id INT PRIMARY KEY, b BIGINT, s VARCHAR(64), d DECIMAL(12,2), dt DATETIME(3), t TINYINT, tx TEXT, j JSON) DEFAULT CHARSET=utf8mb4',
  );
  await s.sql('CREATE TABLE w.b_t (id INT PRIMARY KEY, v VARCHAR(20), n BIGINT UNSIGNED)');
  await s.sql(
    "CREATE TABLE w.m_t (id INT PRIMARY KEY, e ENUM('a','b','c,d'), st SET('x','y','z'), f FLOAT, dbl DOUBLE, dec65 DECIMAL(65,30), dt0 DATETIME, dt6 DATETIME(6), " +
      'ts3 TIMESTAMP(3) NULL, tm TIME(2), y YEAR, bt BIT(12), bl BLOB, cl CHAR(10) CHARACTER SET latin1, u UUID, i6 INET6, i4 INET4, g GEOMETRY, p POINT, mi MEDIUMINT UNSIGNED)',
  );
  await s.sql('CREATE TABLE w.sentinel (id INT PRIMARY KEY)');
  for (let batch = 0; batch < 2; batch++) {
    const values: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = batch * 1000 + i;
      values.push(`(${id}, ${id * 7919 - 4000000}, 'row ${id} \u00e9\u{1f600}', ${(id * 13.37).toFixed(2)}, '2024-02-29 13:14:${String(id % 60).padStart(2, '0')}.${id % 1000}', ${(id % 256) - 128}, REPEAT('t', ${id % 50}), '{"k": ${id}}')`);
    }
    await s.sql(`INSERT INTO w.a_t VALUES ${values.join(',')}`);
  }
  for (let i = 0; i < 200; i++) await s.sql(`INSERT INTO w.b_t VALUES (${i}, 'v${i}', ${i === 7 ? '18446744073709551615' : i})`);
  await s.sql(
    "INSERT INTO w.m_t VALUES (1, 'c,d', 'x,z', 1.1, PI(), -12345.678900000000000000000000000001, '0000-00-00 00:00:00', '9999-12-31 23:59:59.999999', '2024-11-03 04:30:00.123', '-01:02:03.45', 0, b'100000000001', X'00FF80', 'caf\u00e9', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', '2001:db8::ff00:42:8329', '10.0.0.1', ST_GeomFromText('LINESTRING(0 0, 1 1)'), ST_GeomFromText('POINT(3 4)', 4326), 16777215), " +
      '(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)',
  );
  await s.sql("UPDATE w.m_t SET e = 'b', st = '', f = -1e-5, ts3 = '1970-01-01 00:00:01.5', i6 = '::ffff:1.2.3.4' WHERE id = 1");
  await s.sql("UPDATE w.m_t SET e = 'a', dec65 = 0, u = UUID() WHERE id = 2");
  await s.sql('ALTER TABLE w.a_t ADD COLUMN extra INT UNSIGNED AFTER b, MODIFY t SMALLINT');
  await s.sql("INSERT INTO w.a_t VALUES (5000, 1, 4294967295, 'after alter', 0.5, '2024-01-01 00:00:00.001', 300, 'x', '[]')");
  await s.sql("UPDATE w.a_t SET s = CONCAT(s, '!'), extra = id WHERE id < 20");
  await s.sql('DELETE FROM w.a_t WHERE id BETWEEN 20 AND 40');
  await s.sql('DELETE FROM w.m_t WHERE id = 2');
  await s.sql('INSERT INTO w.sentinel VALUES (1)');
}

/** The entry with its rows as plain Column objects. */
function asObjects(e: ParsedEntry): ParsedEntry {
  const rc = e.rowChange;
  if (rc === undefined) return e;
  return { ...e, rowChange: { ...rc, rowDatas: rc.rowDatas.map((r) => ({ beforeColumns: r.beforeColumns, afterColumns: r.afterColumns })) } };
}

function isSentinel(e: ParsedEntry): boolean {
  return e.header.tableName === 'sentinel' && e.rowChange !== undefined && !e.rowChange.isDdl;
}

/** The stream as zongji decodes it, converted the way EventParser converted zongji's events. */
async function throughZongji(s: Sandbox, file: string, serverId: number, slaveId: number): Promise<ParsedEntry[]> {
  const pool = mysql.createPool({ ...s.replConfig, connectionLimit: 2 });
  const events: BinlogEventLike[] = [];
  const zj = new ZongJi({ ...s.replConfig, ...ZONGJI_VALUE_OPTIONS });
  let done = false;
  const seen = new Promise<void>((resolve, reject) => {
    zj.on('error', reject);
    zj.on('binlog', (raw) => {
      const ev = raw as unknown as BinlogEventLike & TableMapEventLike;
      const name = ev.getEventName();
      if (name === 'tablemap') {
        const entry = ev.tableMap[ev.tableId];
        if (entry) {
          keepGeometryBytes(entry);
          keepRawBytes(entry);
        }
      }
      if (name === 'tablemap' || name === 'writerows' || name === 'updaterows' || name === 'deleterows') ev.mapEntry = ev.tableMap?.[ev.tableId];
      events.push(ev);
      if (name === 'writerows' && ev.mapEntry?.tableName === 'sentinel' && !done) {
        done = true;
        resolve();
      }
    });
  });
  zj.start({ serverId: slaveId, filename: file, position: 4 });
  await seen;
  zj.stop();
  const meta = new TableMetaCache(pool);
  const converter = new EventConverter({
    file,
    offset: 4,
    gtidSeed: '',
    flavor: 'mariadb',
    sourceServerId: serverId,
    checksum: zj.useChecksum,
    meta,
    buildCodec: buildTableCodec,
    format: { timezone: 'UTC' },
  });
  const out: ParsedEntry[] = [];
  try {
    for (const ev of events) {
      const need = converter.tableNeedingMeta(ev, (sc, t) => meta.has(sc, t));
      if (need) await meta.load(need.schema, need.table);
      for (const e of converter.convert(ev)) out.push(e);
    }
  } finally {
    await pool.end();
  }
  return out;
}

test('a real stream (A-like, B-like, many types, an ALTER) gives the same entry bytes through sluice and through zongji', async () => {
  sb = await Sandbox.start();
  const s = sb;
  await s.sql('FLUSH BINARY LOGS');
  const [status] = await s.sql<{ File: string }[]>('SHOW MASTER STATUS');
  const file = status!.File;
  await workload(s);
  const [idRow] = await s.sql<{ id: number }[]>('SELECT @@server_id AS id');

  const parser = parserOn(s, { kind: 'position', file, offset: 4 });
  const rec = new Recorder(parser);
  await parser.start();
  await waitFor(() => rec.entries.some(isSentinel), 'the sentinel row through sluice', 120_000);
  await parser.stop();
  assert.deepEqual(rec.errors, []);
  const mine = rec.entries.slice(0, rec.entries.findIndex(isSentinel) + 1);

  const theirs = await throughZongji(s, file, Number(idRow!.id), 7777);
  const theirsUpTo = theirs.slice(0, theirs.findIndex(isSentinel) + 1);

  assert.ok(mine.filter((e) => e.rowChange && !e.rowChange.isDdl).length > 200, 'the stream holds the workload');
  assert.equal(mine.length, theirsUpTo.length);
  for (let i = 0; i < mine.length; i++) {
    const bytes = Buffer.from(encodeEntry(mine[i]!));
    assert.deepEqual(bytes, Buffer.from(encodeEntry(theirsUpTo[i]!)), `entry ${i} (${mine[i]!.header.tableName} at ${mine[i]!.header.logfileOffset})`);
    // and what protobufjs writes for the entry's Column objects (built from the cells' bytes)
    assert.deepEqual(bytes, Buffer.from(encodeEntryReference(asObjects(mine[i]!))), `entry ${i} against protobufjs`);
  }
});
