// The admin port's snapshot routes, used by `sluice snapshot` (docs/snapshots.md):
//   GET  /snapshots[?destination=D]         every snapshot of each (or one) destination
//   POST /snapshots?destination=D           {"table": "schema.table", "where"?: "...", "chunkSize"?: n} -> 202 once accepted,
//                                           {"accepted": [status per source it was accepted on]}
//   POST /snapshots/stop?destination=D      {"table"?: "schema.table"} -> the snapshots stopped
// Kept apart from admin-http.ts, which serves the read-only routes.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the routes need of one destination's snapshots (the instance's SnapshotControl). */
export interface SnapshotApi {
  request(req: { table: string; where?: string; chunkSize?: number }): Promise<unknown>;
  stop(table?: string): unknown[];
  list(): unknown[];
}

export interface SnapshotRoutesOptions {
  destinations: () => string[];
  /** undefined while that destination is not running */
  snapshots: (destination: string) => SnapshotApi | undefined;
}

const MAX_BODY = 64 * 1024;

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body) + '\n');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequest(`request body over ${MAX_BODY} bytes`);
    parts.push(chunk as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadRequest('request body must be a JSON object');
  return v as Record<string, unknown>;
}

class BadRequest extends Error {}

/** Handles `/snapshots` routes; false for any other path. */
export async function handleSnapshotRoute(opts: SnapshotRoutesOptions, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://admin');
  if (url.pathname !== '/snapshots' && url.pathname !== '/snapshots/stop') return false;
  const dest = url.searchParams.get('destination') ?? undefined;
  const known = opts.destinations();
  try {
    if (dest !== undefined && !known.includes(dest)) {
      send(res, 404, { error: `no destination ${JSON.stringify(dest)}; this server has ${known.map((d) => JSON.stringify(d)).join(', ') || 'none'}` });
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/snapshots') {
      const out: Record<string, unknown> = {};
      for (const d of dest !== undefined ? [dest] : known) out[d] = opts.snapshots(d)?.list() ?? [];
      send(res, 200, { destinations: out });
      return true;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: url.pathname === '/snapshots' ? 'GET, POST' : 'POST', 'content-type': 'text/plain' });
      res.end(`${req.method ?? ''} is not served on ${url.pathname}\n`);
      return true;
    }
    if (dest === undefined) throw new BadRequest('give the destination: ?destination=NAME');
    const api = opts.snapshots(dest);
    if (api === undefined) {
      send(res, 409, { error: `destination ${dest} is not running; snapshots run only while it streams` });
      return true;
    }
    const body = await readJson(req);
    const table = body.table;
    if (table !== undefined && typeof table !== 'string') throw new BadRequest('"table" must be a string: schema.table');
    if (url.pathname === '/snapshots/stop') {
      send(res, 200, { stopped: api.stop(table) });
      return true;
    }
    if (table === undefined) throw new BadRequest('"table" is required: schema.table');
    const where = body.where;
    if (where !== undefined && typeof where !== 'string') throw new BadRequest('"where" must be a string (an SQL condition)');
    const chunkSize = body.chunkSize;
    if (chunkSize !== undefined && typeof chunkSize !== 'number') throw new BadRequest('"chunkSize" must be a number');
    const accepted = await api.request({ table, ...(where !== undefined ? { where } : {}), ...(chunkSize !== undefined ? { chunkSize } : {}) });
    send(res, 202, { accepted });
  } catch (err) {
    if (err instanceof BadRequest) send(res, 400, { error: err.message });
    else if (err instanceof Error && err.name === 'SnapshotRefused') send(res, 409, { error: err.message });
    else throw err;
  }
  return true;
}
