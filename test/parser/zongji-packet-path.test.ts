// The lean per-packet path of zongji-patch.ts (binlogData with binlogHandler inline) against
// zongji's own binlogData and binlogHandler, packet by packet on synthetic binlog packets: the
// same events and errors emitted, the same return, the same resume position and GTID
// bookkeeping, for short headers, truncated bodies, unsupported types, filtered events and a
// packet after stop() too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import ZongJi from '@vlasky/zongji';
import { installZongjiPatches, patchBinlogStream } from '../../src/parser/zongji-patch.ts';

interface FakePacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
  isError(): boolean;
  asError(): Error;
}

type Command = { binlogData(this: Command, p: FakePacket, c: unknown): unknown; _callback?: unknown; emit(n: string, ...a: unknown[]): boolean };


function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** One binlog packet: status byte, 19-byte header, body, 4 checksum bytes when `checksum`. */
function packet(type: number, body: Buffer, opts: { ts?: number; next?: number; server?: number; checksum: boolean; cut?: number }): FakePacket {
  const tail = opts.checksum ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0);
  const len = 19 + body.length + tail.length;
  const header = Buffer.concat([Buffer.from([0]), u32(opts.ts ?? 1700000000), Buffer.from([type]), u32(opts.server ?? 7), u32(len), u32(opts.next ?? 0), Buffer.from([0, 0])]);
  let buffer = Buffer.concat([Buffer.from([9, 9]), header, body, tail]);
  if (opts.cut !== undefined) buffer = buffer.subarray(0, opts.cut);
  return { buffer, offset: 2, end: buffer.length, isEOF: () => false, isError: () => false, asError: () => new Error('x') };
}

function query(sql: string): Buffer {
  const status = Buffer.from([0, 0, 0, 0]);
  const schema = Buffer.from('db');
  return Buffer.concat([u32(11), u32(0), Buffer.from([schema.length]), Buffer.from([0, 0]), Buffer.from([status.length, 0]), status, schema, Buffer.from([0]), Buffer.from(sql)]);
}

function mariaGtid(seq: number, domain: number, flags: number): Buffer {
  return Buffer.concat([u64(seq), u32(domain), Buffer.from([flags]), Buffer.alloc(6)]);
}

function stream(checksum: boolean): FakePacket[] {
  const o = { checksum };
  return [
    packet(4, Buffer.concat([u64(4), Buffer.from('bin.000007')]), { ...o, next: 0 }),
    packet(15, Buffer.alloc(60), { ...o, next: 256 }),
    packet(163, Buffer.concat([u32(0)]), { ...o, next: 300 }),
    packet(162, mariaGtid(41, 0, 0), { ...o, next: 350 }),
    packet(2, query('BEGIN'), { ...o, next: 420 }),
    packet(19, Buffer.from([1, 2, 3]), { ...o, next: 0 }),
    packet(16, u64(77), { ...o, next: 480 }),
    packet(162, mariaGtid(42, 1, 1), { ...o, next: 530, server: 9 }),
    packet(2, query('CREATE TABLE t (a INT)'), { ...o, next: 600 }),
    packet(162, mariaGtid(43, 0, 0), { ...o, next: 650 }),
    packet(2, query('BEGIN'), { ...o, next: 700 }),
    packet(16, u64(78), { ...o, next: 760 }),
    packet(162, Buffer.from([1, 2, 3]), { ...o, next: 800 }),
    packet(2, query('COMMIT'), { ...o, next: 850 }),
    packet(27, Buffer.from('bin.000007'), { ...o, next: 850 }),
    packet(39, Buffer.alloc(10), { ...o, next: 900 }),
    packet(200, Buffer.alloc(5), { ...o, next: 950 }),
    packet(16, u64(79), { ...o, next: 1000, cut: 12 }),
    // rows of a table id no table map described: zongji marks the event filtered
    packet(30, Buffer.from([5, 0, 0, 0, 0, 0, 1, 0, 2, 0, 1, 0xff, 0]), { ...o, next: 0 }),
    packet(4, Buffer.concat([u64(4), Buffer.from('bin.000008')]), { ...o, next: 1100 }),
  ];
}

function describe(v: unknown): unknown {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (v === undefined || v === null) return v;
  const o = v as object;
  return { cls: o.constructor.name, ...JSON.parse(JSON.stringify(o, (k, x: unknown) => (k === 'tableMap' || k === '_zongji' ? undefined : typeof x === 'bigint' ? String(x) : x))) };
}

/** A connection that answers zongji's start-up queries and hands over the binlog command it is given. */
function fakeConnection(checksum: boolean, took: (cmd: Command) => void): object {
  return {
    state: 'connected',
    clientEncoding: 'utf8',
    config: {},
    query(sql: string, cb: (err: Error | null, rows?: unknown) => void) {
      let rows: unknown = [];
      if (/VERSION\(\)/.test(sql)) rows = [{ version: '11.8.3-MariaDB-log' }];
      else if (/binlog_checksum as checksum/.test(sql)) rows = [{ checksum: checksum ? 'CRC32' : 'NONE' }];
      setImmediate(() => cb(null, rows));
    },
    addCommand: took,
  };
}

async function run(patched: boolean, checksum: boolean, exclude: string[]): Promise<unknown[]> {
  type Zj = Record<string, unknown> & { start(o: object): void; on(n: string, f: (...a: unknown[]) => void): void; gtidSet?: string; BinlogClass: { prototype: { binlogData: unknown } } };
  let cmd: Command | undefined;
  const conn = fakeConnection(checksum, (c) => (cmd = c));
  const zj = new ZongJi({}) as unknown as Zj;
  zj.connection = conn;
  zj.ctrlConnection = conn;
  const out: unknown[] = [];
  zj.on('error', (err) => out.push(['error', describe(err)]));
  zj.on('binlog', (ev) => out.push(['binlog', describe(ev)]));
  zj.on('ready', () => assert.equal(patchBinlogStream(zj), patched));
  zj.start({ serverId: 9, filename: 'bin.000007', position: 4, excludeEvents: exclude });
  for (let i = 0; i < 50 && cmd === undefined; i++) await new Promise((r) => setImmediate(r));
  assert.ok(cmd, 'zongji queued its binlog command');
  const packets = stream(checksum);
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    // the last one arrives after stop(): dropped, with the bookkeeping of a stale stream
    if (i === packets.length - 1) zj.stopped = true;
    let ret: unknown;
    try {
      ret = cmd.binlogData(p, conn);
    } catch (err) {
      ret = describe(err);
    }
    out.push(
      JSON.stringify([
        ret === zj.BinlogClass.prototype.binlogData ? 'next' : ret,
        p.offset,
        zj.options,
        zj._currentGtid,
        zj._positionFrozen,
        describe(zj._pendingGtid),
        zj.gtidSet,
      ]),
    );
  }
  return out;
}

test('the lean packet path gives what zongji gives, packet by packet', async () => {
  const r = await installZongjiPatches();
  assert.equal(r.packetPath, true, r.problems.join('; '));
  for (const checksum of [true, false]) {
    for (const exclude of [[], ['xid', 'tablemap', 'query'], ['mariadbgtid', 'rotate']]) {
      const off = await runUnpatched(checksum, exclude);
      const on = await run(true, checksum, exclude);
      assert.deepEqual(on, off, `checksum ${checksum}, excluded ${exclude.join(',')}`);
      assert.ok(on.length > 19);
    }
  }
});

async function runUnpatched(checksum: boolean, exclude: string[]): Promise<unknown[]> {
  const { setZongjiPatchesEnabled } = await import('../../src/parser/zongji-patch.ts');
  setZongjiPatchesEnabled(false);
  try {
    return await run(false, checksum, exclude);
  } finally {
    setZongjiPatchesEnabled(true);
  }
}

test('a binlog command class that is not the one it knows stays as it is', async () => {
  await installZongjiPatches();
  const own = function binlogData() {
    return null;
  };
  const zj = { BinlogClass: { prototype: { binlogData: own } }, useChecksum: false };
  assert.equal(patchBinlogStream(zj), false);
  assert.equal(zj.BinlogClass.prototype.binlogData, own);
  assert.equal(patchBinlogStream({}), false);
});
