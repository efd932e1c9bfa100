// The zongji decode patches (src/parser/zongji-patch.ts) change no byte: the same binlog, with its
// repeated table maps, ALTER TABLEs in between (same table id reused with other bytes included),
// read with the patches on and off, gives identical Canal entries; and the fast unsigned reads
// equal Buffer.readUIntLE, errors included.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { parserOn, Recorder } from './helpers.ts';
import { installZongjiPatches, MAX_REMEMBERED_TABLE_MAPS, patchStats, remember, setZongjiPatchesEnabled } from '../../src/parser/zongji-patch.ts';
import { writeEntry } from '../../src/protocol/entry-writer.ts';

let sb: Sandbox;
let start: { file: string; position: number };

before(async () => {
  sb = await Sandbox.start();
  await sb.sql(
    "CREATE TABLE pt (id INT PRIMARY KEY, u INT UNSIGNED, d DECIMAL(10,3), s VARCHAR(20), e ENUM('a','b'), st SET('x','y'), g GEOMETRY, dt DATETIME(3), bl BLOB) DEFAULT CHARSET=utf8mb4",
  );
  await sb.sql('CREATE TABLE other (id INT PRIMARY KEY, v TINYINT)');
  await sb.sql('CREATE TABLE done_p (id INT PRIMARY KEY)');
  start = await sb.masterStatus();
  const row = (i: number) =>
    `(${i}, ${4000000000 + i}, ${i}.125, 's${i}', '${i % 2 ? 'a' : 'b'}', 'x,y', ST_GeomFromText('POINT(${i} 1)'), '2024-01-02 03:04:05.${100 + i}', x'00ff${i.toString(16).padStart(2, '0')}')`;
  for (let i = 1; i <= 6; i++) await sb.sql(`INSERT INTO pt VALUES ${row(i)}`);
  await sb.sql('INSERT INTO other VALUES (1, -1)');
  await sb.sql("UPDATE pt SET s = 'changed' WHERE id = 2");
  await sb.sql('DELETE FROM pt WHERE id = 3');
  await sb.sql('ALTER TABLE pt ADD COLUMN extra INT AFTER id');
  for (let i = 7; i <= 9; i++) await sb.sql(`INSERT INTO pt (id, u, d, s, e, st, g, dt, bl, extra) VALUES ${row(i).slice(0, -1)}, ${i})`);
  await sb.sql("ALTER TABLE pt MODIFY e ENUM('a','b','c')");
  for (let i = 10; i <= 12; i++) await sb.sql(`INSERT INTO pt (id, u, d, s, e, st, g, dt, bl, extra) VALUES ${row(i).slice(0, -1)}, -${i})`);
  await sb.sql('DELETE FROM other WHERE id = 1');
  await sb.sql('ALTER TABLE other MODIFY v TINYINT UNSIGNED');
  await sb.sql('INSERT INTO other VALUES (2, 255)');
  await sb.sql('INSERT INTO other VALUES (3, 254)');
  await sb.sql('INSERT INTO done_p VALUES (1)');
});

after(async () => {
  setZongjiPatchesEnabled(true);
  await sb?.cleanup();
});

async function readAll(): Promise<{ bytes: string[]; rec: Recorder }> {
  const parser = parserOn(sb, { kind: 'position', file: start.file, offset: start.position });
  const rec = new Recorder(parser);
  await parser.start();
  try {
    await waitFor(() => rec.rows('done_p').length === 1, 'the marker row', 30_000);
  } finally {
    await parser.stop();
  }
  assert.deepEqual(rec.errors, []);
  return { bytes: rec.entries.map((e) => writeEntry(e).toString('hex')), rec };
}

test('the patches install on the pinned zongji', async () => {
  const r = await installZongjiPatches();
  assert.deepEqual(r, { tableMapReuse: true, fastUnsigned: true, packetPath: true, fastRows: true, problems: [] });
});

test('same entries with the patches on and off, table maps reused across transactions and after ALTER', async () => {
  await installZongjiPatches();
  setZongjiPatchesEnabled(true);
  const before = patchStats.tableMapReuses;
  const streams = patchStats.packetPaths;
  const quick = patchStats.quickTableMaps;
  const on = await readAll();
  const reuses = patchStats.tableMapReuses - before;
  const quicks = patchStats.quickTableMaps - quick;
  assert.ok(quicks > 0 && quicks <= reuses, `table maps built from the last decode: ${quicks} of ${reuses} reused`);
  assert.equal(patchStats.packetPaths - streams, 1, 'the stream read with the lean packet path');
  setZongjiPatchesEnabled(false);
  const off = await readAll();
  setZongjiPatchesEnabled(true);
  assert.equal(patchStats.tableMapReuses - before, reuses, 'no reuse while off');
  assert.equal(patchStats.packetPaths - streams, 1, 'no lean packet path while off');
  assert.equal(patchStats.quickTableMaps - quick, quicks, 'no table map built from the last decode while off');
  // pt: 6 inserts + update + delete share one map (7 reuses), 3 after each ALTER (2 each); other: insert+delete (1), 2 after its ALTER (1)
  assert.ok(reuses >= 12, `table maps reused: ${reuses}`);
  assert.equal(on.bytes.length, off.bytes.length);
  assert.deepEqual(on.bytes, off.bytes);
  const rows = on.rec.rows('pt');
  assert.equal(rows.length, 14); // 12 inserts, the update and the delete
  assert.equal(rows[13]!.extra, '-12');
  assert.equal(rows[13]!.e, '2');
  assert.deepEqual(on.rec.rows('other').map((r) => r.v), ['-1', '-1', '255', '254']);
});

test('fast unsigned reads equal readUIntLE, out-of-range reads throw the same', async () => {
  await installZongjiPatches();
  const base = new URL(import.meta.resolve('@vlasky/zongji'));
  const { Parser } = (await import(new URL('./lib/reader.js', base).href)) as {
    Parser: new (packet: { buffer: Buffer; offset: number; end: number }) => { parseUnsignedNumber(n: number): number; _offset: number };
  };
  const fast = Parser.prototype.parseUnsignedNumber as unknown as { original: (n: number) => number };
  assert.equal(typeof fast.original, 'function');
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let k = 0; k < 5000; k++) {
    const buf = Buffer.alloc(1 + rnd(12));
    for (let i = 0; i < buf.length; i++) buf[i] = rnd(256);
    const offset = rnd(buf.length + 2);
    const n = 1 + rnd(8);
    const a = new Parser({ buffer: buf, offset, end: buf.length });
    const b = new Parser({ buffer: buf, offset, end: buf.length });
    let ra: unknown;
    let rb: unknown;
    try {
      ra = a.parseUnsignedNumber(n);
    } catch (err) {
      ra = `${(err as Error).name}: ${(err as Error).message}`;
    }
    try {
      rb = fast.original.call(b, n);
    } catch (err) {
      rb = `${(err as Error).name}: ${(err as Error).message}`;
    }
    assert.equal(ra, rb, `bytes ${n} at ${offset} of ${buf.toString('hex')}`);
    assert.equal(a._offset, b._offset);
  }
});

test('remembered table-map decodes are bounded: the one refreshed longest ago goes first', () => {
  const m = new Map<number, string>();
  for (let id = 1; id <= 5; id++) remember(m, id, `t${id}`, 3);
  assert.deepEqual([...m.keys()], [3, 4, 5]);
  remember(m, 3, 't3b', 3); // refreshed: now the newest
  remember(m, 6, 't6', 3);
  assert.deepEqual([...m.entries()], [[5, 't5'], [3, 't3b'], [6, 't6']]);
  assert.ok(MAX_REMEMBERED_TABLE_MAPS >= 1024);
});
