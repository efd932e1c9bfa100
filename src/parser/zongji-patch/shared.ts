// What the zongji patches share: the shapes of zongji's internals they touch, the switch that
// turns them all off (tests compare both ways), their counters, and two small helpers.
import type { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** zongji's binlog reader (lib/reader.js Parser), as far as the patches touch it. */
export interface ZjParser {
  packet: { offset: number; end: number } | null;
  _buffer: Buffer;
  _offset: number;
  _packetEnd: number;
  parseUnsignedNumber(bytes: number): number;
}

export interface ZongjiLike {
  tableMap: Record<number, TableMapCacheEntry>;
  useChecksum: boolean;
}

export interface TableMapCacheEntry {
  columnSchemas?: unknown;
  columns?: unknown;
}

export type EventClass = (new (parser: ReusedParser, options: PacketOptions, zongji: unknown) => object) & { name: string; unsupportedReason?: string };

export interface PacketOptions {
  timestamp: number;
  nextPosition: number;
  size: number;
  eventType: number;
  serverId: number;
}

/** The parts of a zongji instance that its binlogData reads and writes. */
export interface StreamZongji {
  useChecksum: boolean;
  tableMap: Record<number, TableMapCacheEntry>;
  stopped: boolean;
  connection: unknown;
  options: { filename?: string; position?: number };
  BinlogClass?: { prototype: { binlogData?: unknown } };
  _positionFrozen: boolean;
  _currentGtid: unknown;
  _executedGtids: unknown;
  _seedGtidsFromStream: boolean;
  _warnUnsupportedEvent(cls: unknown): void;
  _trackGtidProgress(name: string, event: unknown): boolean;
  _skipEvent(name: string): boolean;
  _skipSchema(schema: string, table: string): boolean;
  emit(name: string, ...args: unknown[]): boolean;
}

export interface MysqlPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
  isError(): boolean;
  asError(encoding: unknown): Error;
}

export interface ReusedParser {
  setPacket(p: MysqlPacket): void;
  packet: unknown;
  _buffer: Buffer | null;
}

/** Off: every hook takes zongji's own path (tests compare both ways on the same binlog). */
export let enabled = true;
/** Table maps that reused an earlier decode (of which built without zongji's constructor), streams given the lean packet path: tests check each ran. */
export const patchStats = { tableMapReuses: 0, packetPaths: 0, quickTableMaps: 0 };

export function setZongjiPatchesEnabled(on: boolean): void {
  enabled = on;
}

export function isFn(v: unknown): v is (...args: never[]) => unknown {
  return typeof v === 'function';
}

/** Little-endian unsigned of 1-4 bytes at `o` (the caller checked the bounds). */
export function uintLE(b: Buffer, o: number, n: number): number {
  switch (n) {
    case 1:
      return b[o]!;
    case 2:
      return b[o]! | (b[o + 1]! << 8);
    case 3:
      return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
    default:
      return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
  }
}

export function u32(b: Buffer, at: number): number {
  return uintLE(b, at, 4);
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Whether each of zongji's `files` (paths under `base`) has the sha256 given; names the first that differs. */
export function filesMatch(base: URL, files: Record<string, string>, patch: string, problems: string[]): boolean {
  for (const [file, digest] of Object.entries(files)) {
    if (sha256(readFileSync(new URL(file, base))) !== digest) {
      problems.push(`zongji ${file} is not the one the ${patch} knows`);
      return false;
    }
  }
  return true;
}

interface Patched {
  sluicePatched?: boolean;
  original?: unknown;
}

/** Marks `fn` as sluice's replacement of `original`, which stays reachable from it (tests call both). */
export function markPatched(fn: unknown, original: unknown): void {
  (fn as Patched).sluicePatched = true;
  (fn as Patched).original = original;
}

export function isPatched(fn: unknown): boolean {
  return (fn as Patched).sluicePatched === true;
}
