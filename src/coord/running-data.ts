// The JSON held by the ephemeral `running` nodes, in the shape Canal's own servers and clients
// write and read (fastjson, fields in alphabetical order):
//   server: {"active":true,"address":"10.0.0.5:11111","cid":1}
//   client: {"active":true,"address":"10.0.0.9:52344","clientId":1001}
import { checkServerAddress } from './paths.ts';

export interface ServerRunning {
  active: boolean;
  /** ip:port clients connect to */
  address: string;
  /** Canal's canal.id of that server */
  cid: number;
}

export interface ClientRunning {
  active: boolean;
  address: string;
  clientId: number;
}

export class RunningDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunningDataError';
  }
}

export function formatServerRunning(r: ServerRunning): Buffer {
  checkServerAddress(r.address);
  return Buffer.from(JSON.stringify({ active: r.active, address: r.address, cid: r.cid }));
}

export function formatClientRunning(r: ClientRunning): Buffer {
  return Buffer.from(JSON.stringify({ active: r.active, address: r.address, clientId: r.clientId }));
}

function parseObject(data: Buffer | string | undefined | null, path: string): Record<string, unknown> {
  if (data === undefined || data === null || data.length === 0) throw new RunningDataError(`${path} is empty; expected Canal's running JSON`);
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RunningDataError(`${path} does not hold JSON (${(err as Error).message}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new RunningDataError(`${path} holds ${JSON.stringify(text.slice(0, 200))}, not a JSON object`);
  return doc as Record<string, unknown>;
}

function integer(v: unknown, field: string, path: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new RunningDataError(`${path}: "${field}" must be an integer, found ${JSON.stringify(v)}`);
  return n;
}

function address(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new RunningDataError(`${path}: "address" must be a "host:port" string, found ${JSON.stringify(v)}`);
  try {
    return checkServerAddress(v);
  } catch (err) {
    throw new RunningDataError(`${path}: ${(err as Error).message}`);
  }
}

/** Parses a server `running` node; `path` names the node in errors. A missing "active" reads as true (Canal's default). */
export function parseServerRunning(data: Buffer | string | undefined | null, path = 'running'): ServerRunning {
  const o = parseObject(data, path);
  return { active: o.active !== false, address: address(o.address, path), cid: o.cid === undefined ? 0 : integer(o.cid, 'cid', path) };
}

/** Parses a client `{clientId}/running` node. */
export function parseClientRunning(data: Buffer | string | undefined | null, path = 'running'): ClientRunning {
  const o = parseObject(data, path);
  return { active: o.active !== false, address: address(o.address, path), clientId: integer(o.clientId, 'clientId', path) };
}
