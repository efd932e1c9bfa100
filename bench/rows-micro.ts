// A load-independent comparison of the row hot path: decodeRows + encodeEntry of synthetic rows
// events of the benchmark table (bench/dataset.ts; A: 1000-row events, B: one-row events), 50,000
// rows per pass, CPU seconds of the median pass. Compare two versions by running it against two
// checkouts one after the other, several times (docs/benchmarks.md, issue 16):
//   node --import tsx bench/rows-micro.ts A [passes] [checkout dir]
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';

const which = process.argv[2] === 'B' ? 'B' : 'A';
const passes = Number(process.argv[3] ?? 9);
const tree = process.argv[4] ?? fileURLToPath(new URL('..', import.meta.url));
const { buildTableCodec } = await import(`${tree}/src/parser/columns/table-codec.ts`);
const { encodeEntry } = await import(`${tree}/src/protocol/entry-codec.ts`);

const cols = [
  { name: 'id', type: 3, charset: null, metadata: {} , schema: { COLUMN_TYPE: 'int(11)' } },
  { name: 'b', type: 8, charset: null, metadata: {}, schema: { COLUMN_TYPE: 'bigint(20)' } },
  { name: 's', type: 15, charset: 'utf8mb4', metadata: { max_length: 256 }, schema: { COLUMN_TYPE: 'varchar(64)', CHARACTER_SET_NAME: 'utf8mb4' } },
  { name: 'd', type: 246, charset: null, metadata: { precision: 12, decimals: 2 }, schema: { COLUMN_TYPE: 'decimal(12,2)' } },
  { name: 'dt', type: 18, charset: null, metadata: { decimals: 3 }, schema: { COLUMN_TYPE: 'datetime(3)' } },
  { name: 't', type: 1, charset: null, metadata: {}, schema: { COLUMN_TYPE: 'tinyint(4)' } },
  { name: 'tx', type: 252, charset: 'utf8mb4', metadata: { length_size: 2 }, schema: { COLUMN_TYPE: 'text', CHARACTER_SET_NAME: 'utf8mb4' } },
  { name: 'j', type: 252, charset: 'utf8mb4', metadata: { length_size: 4 }, schema: { COLUMN_TYPE: 'longtext', CHARACTER_SET_NAME: 'utf8mb4' } },
];
const entry = {
  parentSchema: 'bench', tableName: 'bench_t',
  columns: cols.map((c) => ({ name: c.name, type: c.type, charset: c.charset, metadata: c.metadata })),
  columnSchemas: cols.map((c) => ({ COLUMN_NAME: c.name, COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', ...c.schema })),
};
const input = { tableId: 42, schemaName: 'bench', tableName: 'bench_t', tableMap: { 42: entry }, columnNames: cols.map((c) => c.name), primaryKey: [0] };
const codec = buildTableCodec(input, undefined, { timezone: 'UTC' });

function row(id: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0])];
  const i4 = Buffer.alloc(4); i4.writeInt32LE(id); parts.push(i4);
  const i8 = Buffer.alloc(8); i8.writeBigInt64LE(9_000_000_000_000n + BigInt(id)); parts.push(i8);
  const s = Buffer.from(`name-${id}-abcdefgh`); const sl = Buffer.alloc(2); sl.writeUInt16LE(s.length); parts.push(sl, s);
  // DECIMAL(12,2): 1-digit comp int (1 byte), one 9-digit group (4), 2-digit fraction (1); positive: top bit set
  const ip = id % 100000; const fr = id % 100;
  const d = Buffer.alloc(6); d[0] = Math.floor(ip / 1e9) % 10; d.writeUInt32BE(ip % 1e9, 1); d[5] = fr; d[0]! |= 0x80; parts.push(d);
  // DATETIME(3): 2024-01-01 hh:mm:ss.mmm
  const ms = id % 86_400_000; const sec = Math.floor(ms / 1000) % 60, min = Math.floor(ms / 60000) % 60, hour = Math.floor(ms / 3600000) % 24;
  const ym = 2024 * 13 + 1;
  const ymd = (ym << 5) | 1; const hms = (hour << 12) | (min << 6) | sec;
  const packed = (BigInt(ymd) << 17n) | BigInt(hms);
  const dt = Buffer.alloc(7); const v = packed | (1n << 39n);
  for (let k = 0; k < 5; k++) dt[k] = Number((v >> BigInt(8 * (4 - k))) & 0xffn);
  dt.writeUInt16BE((ms % 1000) * 10, 5); parts.push(dt);
  parts.push(Buffer.from([id % 128]));
  const tx = Buffer.from(`text value for row ${id}`); const tl = Buffer.alloc(2); tl.writeUInt16LE(tx.length); parts.push(tl, tx);
  const j = Buffer.from(`{"k":${id},"v":"x"}`); const jl = Buffer.alloc(4); jl.writeUInt32LE(j.length); parts.push(jl, j);
  return Buffer.concat(parts);
}
const rowsPerEvent = which === 'A' ? 1000 : 1;
const events = which === 'A' ? 50 : 50000;
const bufs: Buffer[] = [];
for (let e = 0; e < Math.min(events, 200); e++) {
  const rs: Buffer[] = [];
  for (let r = 0; r < rowsPerEvent; r++) rs.push(row(e * rowsPerEvent + r));
  bufs.push(Buffer.concat(rs));
}
const present = Buffer.from([0xff]);
function entryOf(rowDatas: unknown[]) {
  return {
    entryType: 2,
    header: { version: 1, logfileName: 'binlog.000001', logfileOffset: 4, schemaName: 'bench', tableName: 'bench_t', eventType: 1, serverId: 1, serverenCode: 'UTF-8', executeTime: 1, sourceType: 2, eventLength: 100 },
    rowChange: { tableId: 42, eventType: 1, isDdl: false, rowDatas },
    position: { file: 'binlog.000001', offset: 4, nextOffset: 90, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' },
  };
}
let sink = 0;
function pass(): number {
  const t0 = process.cpuUsage();
  for (let e = 0; e < events; e++) {
    const b = bufs[e % bufs.length]!;
    const rds = codec.decodeRows('writerows', { buf: b, start: 0, end: b.length, present });
    sink += encodeEntry(entryOf(rds)).length;
  }
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1e6;
}
pass(); pass();
const times: number[] = [];
for (let i = 0; i < passes; i++) times.push(pass());
times.sort((a, b) => a - b);
console.log(JSON.stringify({ tree, which, rows: events * rowsPerEvent, median: times[Math.floor(times.length / 2)], min: times[0], sink }));
