// Runtime patches of @vlasky/zongji 0.9.0 internals (pinned by package-lock) that cut decode CPU
// without changing what zongji hands over:
//  - TABLE_MAP reuse: on single-row loads every transaction repeats the same table map, and
//    zongji re-parses its column and optional metadata and rebuilds its column schemas each time.
//    A table map whose bytes (table id to end, checksum excluded) equal the last one zongji fully
//    decoded for that table id with FULL metadata gets that decode's objects instead; on the lean
//    packet path such an event is built from that decode without running zongji's constructor.
//  - Parser.parseUnsignedNumber for 1-4 bytes reads the bytes directly instead of going through
//    Buffer.readUIntLE's generic dispatch (~4% of a single-row load's CPU).
//  - The per-packet path (lib/sequence/binlog.js binlogData with lib/packet/binlog.js, and
//    index.js's binlogHandler for all but table maps): the same steps without a Parser, a
//    BinlogPacket, a generator, an options object, a lower-cased class name and two
//    getTypeName() calls per packet (patchBinlogStream, per zongji instance at 'ready').
//  - Row images (lib/rows_event.js readRow): the null bitmap read in place instead of sliced, and
//    integers, utf8 text and BIT bytes read directly instead of through readMysqlValue's generic
//    path (a Buffer view per text value, apply(arguments) per integer); every other value, and
//    any read that would run past the buffer, still goes to readMysqlValue.
// Each checks the shape of what they patch first and leave zongji as it is when it differs.
// The patches live in zongji-patch/; this module installs them once per process.
import { readFileSync } from 'node:fs';
import { patchStats, setZongjiPatchesEnabled, type ZjParser } from './zongji-patch/shared.ts';
import { patchParser } from './zongji-patch/reader.ts';
import { MAX_REMEMBERED_TABLE_MAPS, patchTableMap, remember } from './zongji-patch/table-map.ts';
import { patchBinlogStream, preparePacketPath } from './zongji-patch/packet-path.ts';
import { patchRows } from './zongji-patch/row-images.ts';

export { MAX_REMEMBERED_TABLE_MAPS, patchBinlogStream, patchParser, patchStats, patchTableMap, remember, setZongjiPatchesEnabled };

export interface PatchResult {
  tableMapReuse: boolean;
  fastUnsigned: boolean;
  packetPath: boolean;
  fastRows: boolean;
  /** why a patch was not applied */
  problems: string[];
}

let installed: Promise<PatchResult> | undefined;

/** Applies the patches once per process; later calls return the first result. */
export function installZongjiPatches(): Promise<PatchResult> {
  installed ??= install();
  return installed;
}

async function install(): Promise<PatchResult> {
  const result: PatchResult = { tableMapReuse: false, fastUnsigned: false, packetPath: false, fastRows: false, problems: [] };
  let base: URL;
  try {
    base = new URL(import.meta.resolve('@vlasky/zongji'));
    const pkg = JSON.parse(readFileSync(new URL('./package.json', base), 'utf8')) as { version?: string };
    if (pkg.version !== '0.9.0') {
      result.problems.push(`@vlasky/zongji is ${pkg.version}, the patches know 0.9.0`);
      return result;
    }
  } catch (err) {
    result.problems.push(`cannot locate @vlasky/zongji: ${(err as Error).message}`);
    return result;
  }
  try {
    const reader = (await import(new URL('./lib/reader.js', base).href)) as { Parser?: { prototype: ZjParser } };
    result.fastUnsigned = patchParser(reader.Parser, result.problems);
  } catch (err) {
    result.problems.push(`reader: ${(err as Error).message}`);
  }
  try {
    const events = (await import(new URL('./lib/binlog_event.js', base).href)) as { TableMap?: unknown };
    const indexText = readFileSync(new URL('./index.js', base), 'utf8');
    result.tableMapReuse = patchTableMap(events.TableMap, indexText, result.problems);
  } catch (err) {
    result.problems.push(`table map: ${(err as Error).message}`);
  }
  try {
    result.fastRows = await patchRows(base, result.problems);
  } catch (err) {
    result.problems.push(`rows: ${(err as Error).message}`);
  }
  try {
    result.packetPath = await preparePacketPath(base, result.problems);
  } catch (err) {
    result.problems.push(`packet path: ${(err as Error).message}`);
  }
  return result;
}
