// The per-packet path: lib/sequence/binlog.js binlogData with lib/packet/binlog.js, and index.js's
// binlogHandler for all but table maps, as the same steps without a Parser, a BinlogPacket, a
// generator, an options object, a lower-cased class name and two getTypeName() calls per packet.
// Installed per zongji instance at 'ready' (patchBinlogStream), only over the files it knows by hash.
import { enabled, filesMatch, isFn, markPatched, patchStats, sha256, u32, type EventClass, type MysqlPacket, type PacketOptions, type ReusedParser, type StreamZongji } from './shared.ts';
import { quickTableMap } from './table-map.ts';

/** sha256 of the zongji 0.9.0 files whose per-packet steps binlogData below repeats. */
const PACKET_FILES: Record<string, string> = {
  './lib/sequence/binlog.js': 'cf97f8c8d8f2248ab3144d7ba2e710a845e26fcd7b9d1de29d9fdf3d038bca2b',
  './lib/packet/binlog.js': 'dd2dafa603fd62f86420ae72f7b015604912b4d7247b162d107b7461719258d1',
  './lib/code_map.js': 'f5e6394984dd3ea5a192ad79861c0618ac58ef6674321d0b4eb870852aef3c49',
  './index.js': '3576dd1cde4521a9ccfd0c13d7e60316b77f291ff486828fbfdb2a5352ac8766',
};

/**
 * sha256 of the source of index.js's binlogHandler (the callback zongji gives its binlog command),
 * whose steps for every event but a table map binlogData below takes inline.
 */
const BINLOG_HANDLER = 'fabed7dde8ba7faf1c5e6ff39f6fa455fac4d56bfcf1877763078c317b069ca6';

/** What binlogData decides from the event type code alone, made once per code. */
interface TypeInfo {
  cls: EventClass;
  name: string;
  isGtidEvent: boolean;
  isRotate: boolean;
  isCommitCandidate: boolean;
  isGtidList: boolean;
  isTableMap: boolean;
  /** what event.getTypeName() gives for an event of the class */
  typeName: string;
}

interface BinlogCommand {
  _callback?: (this: BinlogCommand, error: unknown, event?: unknown) => void;
  emit(name: string, ...args: unknown[]): boolean;
}

interface PacketPath {
  Parser: new () => ReusedParser;
  getEventClass: (code: number) => EventClass;
}

let packetPath: PacketPath | undefined;

export async function preparePacketPath(base: URL, problems: string[]): Promise<boolean> {
  if (!filesMatch(base, PACKET_FILES, 'packet path', problems)) return false;
  const reader = (await import(new URL('./lib/reader.js', base).href)) as { Parser?: unknown };
  const codes = (await import(new URL('./lib/code_map.js', base).href)) as { getEventClass?: unknown };
  if (!isFn(reader.Parser) || !isFn(codes.getEventClass) || !isFn((reader.Parser as { prototype: { setPacket?: unknown } }).prototype.setPacket)) {
    problems.push('zongji reader/code map exports are not the ones the packet path knows');
    return false;
  }
  packetPath = { Parser: reader.Parser as unknown as PacketPath['Parser'], getEventClass: codes.getEventClass as PacketPath['getEventClass'] };
  return true;
}

/**
 * Gives this zongji's binlog command class (made at 'ready', before the dump command is queued)
 * the lean binlogData. Call synchronously in a 'ready' listener; returns whether it applied.
 */
export function patchBinlogStream(zongji: unknown): boolean {
  const zj = zongji as StreamZongji;
  const path = packetPath;
  const proto = zj?.BinlogClass?.prototype;
  if (!enabled || path === undefined || proto === undefined) return false;
  const orig = proto.binlogData;
  if (!isFn(orig) || !String(orig).includes('binlogPacket.parse(parser)')) return false;
  const binlogData = makeBinlogData(zj, path, proto as { binlogData: unknown }, orig as (this: BinlogCommand, p: MysqlPacket, c: unknown) => unknown);
  markPatched(binlogData, orig);
  proto.binlogData = binlogData;
  patchStats.packetPaths++;
  return true;
}

/** Header bytes after the packet's status byte: marker(1) timestamp(4) type(1) server(4) length(4) next(4) flags(2). */
const HEADER_READ = 20;

function makeBinlogData(
  zongji: StreamZongji,
  path: PacketPath,
  proto: { binlogData: unknown },
  orig: (this: BinlogCommand, packet: MysqlPacket, connection: unknown) => unknown,
): (this: BinlogCommand, packet: MysqlPacket, connection: { clientEncoding?: unknown }) => unknown {
  // as lib/packet/binlog.js sets BinlogPacket.Length when the class is made (at 'ready')
  const headerLength = zongji.useChecksum ? 19 + 4 : 19;
  const types: (TypeInfo | undefined)[] = new Array(256);
  /** the last callback looked at, and whether it is zongji's binlogHandler */
  let seenCallback: unknown;
  let knownHandler = false;
  const parser = new path.Parser();
  // never kept by an event: every constructor copies what it needs
  const options: PacketOptions = { timestamp: 0, nextPosition: 0, size: 0, eventType: 0, serverId: 0 };

  const typeInfo = (code: number): TypeInfo => {
    let t = types[code];
    if (t === undefined) {
      const cls = path.getEventClass(code);
      const name = cls.name ? cls.name.toLowerCase() : 'unknown';
      t = {
        cls,
        name,
        isGtidEvent: name === 'gtid' || name === 'anonymousgtid' || name === 'mariadbgtid',
        isRotate: name === 'rotate',
        isCommitCandidate: name === 'xid' || name === 'query' || name === 'xaprepare',
        isGtidList: name === 'previousgtids' || name === 'mariadbgtidlist',
        isTableMap: name === 'tablemap',
        typeName: cls.name,
      };
      types[code] = t;
    }
    return t;
  };

  return function binlogData(this: BinlogCommand, packet, connection) {
    if (packet.isEOF()) {
      this.emit('eof');
      return null;
    }
    if (packet.isError()) {
      const err = packet.asError(connection.clientEncoding);
      if (this._callback) this._callback.call(this, err);
      else this.emit('error', err);
      return null;
    }
    const b = packet.buffer;
    const o = packet.offset;
    // a short header: zongji's own path, with its own error
    if (!enabled || !(o >= 0 && o + HEADER_READ <= b.length)) return orig.call(this, packet, connection);
    packet.offset = o + HEADER_READ;
    const eventType = b[o + 5]!;
    const nextPosition = u32(b, o + 14);
    const t = typeInfo(eventType);
    const cls = t.cls;
    if (cls.unsupportedReason) zongji._warnUnsupportedEvent(cls);
    const callback = this._callback;
    if (!callback) return proto.binlogData;
    options.timestamp = u32(b, o + 1) * 1000;
    options.nextPosition = nextPosition;
    options.size = u32(b, o + 10) - headerLength;
    options.eventType = eventType;
    options.serverId = u32(b, o + 6);

    const eventName = t.name;
    let event: unknown;
    let error: unknown;
    const isCurrent = !zongji.stopped && zongji.connection === connection;
    const isGtidEvent = t.isGtidEvent;
    const isRotate = t.isRotate;
    const isCommitCandidate = t.isCommitCandidate;
    const isTrackedEvent =
      isGtidEvent || isRotate || isCommitCandidate || ((zongji._executedGtids !== null || zongji._seedGtidsFromStream) && t.isGtidList);
    if (isCurrent && t.isTableMap) zongji._positionFrozen = true;

    let closesTransaction = false;
    if (isTrackedEvent) {
      try {
        event = construct(cls, packet, t);
        if (isCurrent) {
          if (isGtidEvent || isRotate) zongji._positionFrozen = false;
          if (isGtidEvent) zongji._currentGtid = eventName === 'anonymousgtid' ? undefined : (event as { gtid?: unknown }).gtid;
          if (isRotate) {
            zongji.options.filename = (event as { binlogName: string }).binlogName;
            zongji.options.position = (event as { position: number }).position;
          }
          closesTransaction = zongji._trackGtidProgress(eventName, event);
          if (closesTransaction) zongji._positionFrozen = false;
        }
      } catch (err) {
        if (isCurrent && (isGtidEvent || isCommitCandidate)) zongji._currentGtid = undefined;
        error = err;
      }
    }

    if (zongji._skipEvent(eventName) && !error) {
      if (isCurrent && !t.isTableMap && !isRotate && !zongji._positionFrozen && nextPosition > 0) {
        zongji.options.position = nextPosition;
      }
      if (closesTransaction) zongji._currentGtid = undefined;
      return proto.binlogData;
    }

    if (!isTrackedEvent && !error) {
      try {
        event = construct(cls, packet, t);
      } catch (err) {
        error = err;
      }
    }
    if (callback !== seenCallback) {
      seenCallback = callback;
      knownHandler = sha256(String(callback)) === BINLOG_HANDLER;
    }
    try {
      if (!knownHandler || t.isTableMap) callback.call(this, error, event);
      else if (error) zongji.emit('error', error);
      else if (zongji.stopped || !zongji.connection || event === undefined || (event as { _filtered?: unknown })._filtered === true) {
        // binlogHandler drops these
      } else {
        // binlogHandler's steps for an event that is not a table map (getTypeName() is the class name)
        const ev = event as { nextPosition: number; gtid?: unknown };
        if (t.typeName !== 'TableMap' && t.typeName !== 'Rotate' && !zongji._positionFrozen && ev.nextPosition > 0) {
          zongji.options.position = ev.nextPosition;
        }
        if (!('gtid' in ev)) ev.gtid = zongji._currentGtid;
        zongji.emit('binlog', ev);
      }
    } finally {
      if (closesTransaction) zongji._currentGtid = undefined;
    }
    return proto.binlogData;
  };

  function construct(cls: EventClass, packet: MysqlPacket, t: TypeInfo): object {
    if (t.isTableMap && quickTableMap !== undefined) {
      const ev = quickTableMap(zongji, packet, options);
      if (ev !== undefined) return ev;
    }
    parser.setPacket(packet);
    try {
      return new cls(parser, options, zongji);
    } finally {
      parser.packet = null;
      parser._buffer = null;
    }
  }
}
