// Cursors and filters in ZooKeeper, where Canal keeps them in a cluster:
//   /otter/canal/destinations/{d}/{clientId}/cursor   the cursor JSON, as in meta.dat (plus Canal's @type)
//   /otter/canal/destinations/{d}/{clientId}/filter   the subscribe filter text
//   /otter/canal/destinations/{d}/sluice-snapshots    snapshots in progress (sluice's own node)
// Every write is conditional on the version last read or written, so two writers can never
// interleave unnoticed: a cursor write that finds another version re-reads the node, and if the
// cursor there is ahead of ours someone else is active (we are deposed: fenced, nothing written);
// if it is behind, ours goes on top. A cursor is never written backwards. Writes also require
// `mayWrite()` (this server active, its session lease valid), checked just before each request.
import type { Logger } from 'pino';
import { clientCursorPath, clientFilterPath, clientPath, destinationPath, isClientIdChild, snapshotsPath } from '../coord/paths.ts';
import { ZkError, type ZkSession } from '../coord/zk-session.ts';
import type { LogPosition } from '../protocol/entry-model.ts';
import { compareCursors, describeCursor } from './cursor-order.ts';
import type { MetaBackend } from './meta-backend.ts';
import { cursorFromCanal, cursorSourceFromCanal, cursorToCanal, parseSnapshots, type ClientMeta, type MetaContent, type SnapshotRecord, type SourceAddress } from './meta-file.ts';

/** Canal's ZooKeeper meta manager writes the cursor with its class name so it can read it back. */
const CANAL_TYPE = 'com.alibaba.otter.canal.protocol.position.LogPosition';

export interface ZkMetaBackendOptions {
  session: ZkSession;
  destination: string;
  source: SourceAddress;
  /** true while this server may write (active, lease valid); checked before every request */
  mayWrite: () => boolean;
  /** called when ZooKeeper shows that another server has taken over (its cursor is ahead of ours) */
  onDeposed: (reason: string) => void;
  logger?: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'>;
}

interface Known {
  /** -1: the node does not exist */
  cursorVersion: number;
  cursor: LogPosition | undefined;
  /** the server the cursor's file and offset belong to (a standby after a source failover) */
  cursorSource: SourceAddress | undefined;
  filterVersion: number;
  filter: string | undefined;
}

export class FencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FencedError';
  }
}

export function cursorNodeJson(cursor: LogPosition, source: SourceAddress): string {
  return JSON.stringify({ '@type': CANAL_TYPE, ...cursorToCanal(cursor, source) });
}

export class ZkMetaBackend implements MetaBackend {
  private readonly known = new Map<string, Known>();
  /** the snapshots node as last read or written: its JSON text ('' when absent) */
  private snapshotsText = '';
  private snapshots: SnapshotRecord[] | undefined;

  constructor(private readonly opts: ZkMetaBackendOptions) {}

  get description(): string {
    return `ZooKeeper ${this.opts.session.connectString}`;
  }

  async load(): Promise<ClientMeta[] | undefined> {
    const s = this.opts.session;
    const d = this.opts.destination;
    const ids = (await s.children(destinationPath(d))).filter(isClientIdChild).sort();
    const out: ClientMeta[] = [];
    for (const id of ids) {
      const k: Known = { cursorVersion: -1, cursor: undefined, cursorSource: undefined, filterVersion: -1, filter: undefined };
      const f = await s.get(clientFilterPath(d, id));
      if (f !== undefined) {
        k.filter = f.data.toString('utf8');
        k.filterVersion = f.stat.version;
      }
      const c = await s.get(clientCursorPath(d, id));
      if (c !== undefined && c.data.length > 0) {
        k.cursor = this.parse(c.data, clientCursorPath(d, id));
        k.cursorSource = this.parseSource(c.data, clientCursorPath(d, id));
        k.cursorVersion = c.stat.version;
      } else if (c !== undefined) {
        k.cursorVersion = c.stat.version;
      }
      this.known.set(id, k);
      if (k.filter === undefined && k.cursor === undefined) continue;
      const meta: ClientMeta = { clientId: id, filter: k.filter ?? '' };
      if (k.cursor !== undefined) meta.cursor = k.cursor;
      if (k.cursorSource !== undefined) meta.source = k.cursorSource;
      out.push(meta);
    }
    const snaps = await s.get(snapshotsPath(d));
    if (snaps !== undefined && snaps.data.length > 0) {
      const path = `${snapshotsPath(d)} in ZooKeeper`;
      this.snapshotsText = snaps.data.toString('utf8');
      let doc: unknown;
      try {
        doc = JSON.parse(this.snapshotsText);
      } catch (err) {
        throw new Error(`${path} does not hold JSON (${(err as Error).message}); fix or delete the node (its snapshots then start again when requested)`);
      }
      this.snapshots = parseSnapshots(doc, path);
    }
    return out.length > 0 ? out : undefined;
  }

  loadedSnapshots(): SnapshotRecord[] | undefined {
    return this.snapshots?.map((r) => ({ ...r }));
  }

  async write(content: MetaContent): Promise<void> {
    // Snapshot progress first, then the cursors of the same acknowledgement (meta.dat holds both
    // in one write). Should a write stop between the two, a takeover either reads acknowledged
    // chunks again or replays stream changes a chunk already held: both end at the source's values.
    if (content.snapshots !== undefined) await this.writeSnapshots(content.snapshots);
    for (const c of content.clients) {
      let k = this.known.get(c.clientId);
      if (k === undefined) {
        k = { cursorVersion: -1, cursor: undefined, cursorSource: undefined, filterVersion: -1, filter: undefined };
        this.known.set(c.clientId, k);
      }
      if (k.filter !== c.filter) await this.writeFilter(c.clientId, c.filter, k);
      if (c.cursor !== undefined && (k.cursor === undefined || compareCursors(c.cursor, k.cursor) !== 0 || c.cursor.nextPosition !== k.cursor.nextPosition)) {
        await this.writeCursor(c.clientId, c.cursor, c.source ?? this.opts.source, k);
      }
    }
  }

  private parse(data: Buffer, path: string): LogPosition {
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new Error(`${path} in ZooKeeper does not hold JSON (${(err as Error).message}); fix or delete the node`);
    }
    return cursorFromCanal(doc, 'cursor', `${path} in ZooKeeper`);
  }

  private parseSource(data: Buffer, path: string): SourceAddress | undefined {
    return cursorSourceFromCanal(JSON.parse(data.toString('utf8')), 'cursor', `${path} in ZooKeeper`);
  }

  private check(what: string): void {
    if (!this.opts.mayWrite()) throw new FencedError(`${what} not written to ZooKeeper: this server is no longer the active one for ${this.opts.destination}`);
  }

  private async writeFilter(clientId: string, filter: string, k: Known): Promise<void> {
    const s = this.opts.session;
    const path = clientFilterPath(this.opts.destination, clientId);
    this.check(`filter of client ${clientId}`);
    if (k.filterVersion < 0) {
      await s.ensurePath(clientPath(this.opts.destination, clientId));
      try {
        await s.create(path, Buffer.from(filter, 'utf8'), 'persistent');
        k.filterVersion = 0;
        k.filter = filter;
        return;
      } catch (err) {
        if (!(err instanceof ZkError) || err.code !== 'NODE_EXISTS') throw err;
      }
      const now = await s.get(path);
      k.filterVersion = now?.stat.version ?? -1;
      this.check(`filter of client ${clientId}`);
    }
    // The filter is the client's latest subscribe: last writer wins (only the active server writes it).
    const stat = await s.set(path, Buffer.from(filter, 'utf8'), -1);
    k.filterVersion = stat.version;
    k.filter = filter;
  }

  /** The active server's snapshot progress; last writer wins, as for the filter (only the active server writes). */
  private async writeSnapshots(records: SnapshotRecord[]): Promise<void> {
    const text = JSON.stringify(records);
    if (text === this.snapshotsText) return;
    const s = this.opts.session;
    const path = snapshotsPath(this.opts.destination);
    this.check('snapshot progress');
    if ((await s.exists(path)) === undefined) {
      await s.ensurePath(destinationPath(this.opts.destination));
      this.check('snapshot progress');
      try {
        await s.create(path, Buffer.from(text, 'utf8'), 'persistent');
        this.snapshotsText = text;
        return;
      } catch (err) {
        if (!(err instanceof ZkError) || err.code !== 'NODE_EXISTS') throw err;
      }
      this.check('snapshot progress');
    }
    await s.set(path, Buffer.from(text, 'utf8'), -1);
    this.snapshotsText = text;
  }

  private async writeCursor(clientId: string, cursor: LogPosition, source: SourceAddress, k: Known): Promise<void> {
    const s = this.opts.session;
    const d = this.opts.destination;
    const path = clientCursorPath(d, clientId);
    const data = Buffer.from(cursorNodeJson(cursor, source), 'utf8');
    for (let attempt = 0; attempt < 5; attempt++) {
      // Positions of two servers (a source and its standby) do not compare: only the same server's do.
      const sameServer = k.cursorSource === undefined || (k.cursorSource.address === source.address && k.cursorSource.port === source.port);
      if (k.cursor !== undefined && sameServer && compareCursors(cursor, k.cursor) < 0) {
        // Never backwards. Only a server that is no longer active can hold an older cursor than ZooKeeper's.
        const reason = `the cursor of client ${clientId} in ZooKeeper (${describeCursor(k.cursor)}) is ahead of this server's (${describeCursor(cursor)}): another server has taken over`;
        this.opts.onDeposed(reason);
        throw new FencedError(reason);
      }
      this.check(`cursor of client ${clientId}`);
      try {
        if (k.cursorVersion < 0) {
          await s.ensurePath(clientPath(d, clientId));
          this.check(`cursor of client ${clientId}`);
          await s.create(path, data, 'persistent');
          k.cursorVersion = 0;
        } else {
          k.cursorVersion = (await s.set(path, data, k.cursorVersion)).version;
        }
        k.cursor = { ...cursor };
        k.cursorSource = source;
        return;
      } catch (err) {
        if (!(err instanceof ZkError) || (err.code !== 'BAD_VERSION' && err.code !== 'NODE_EXISTS' && err.code !== 'NO_NODE')) throw err;
        // Someone else wrote (or removed) it since we read: look again before deciding.
        const now = await s.get(path);
        this.opts.logger?.warn({ clientId, path, expectedVersion: k.cursorVersion, foundVersion: now?.stat.version ?? null }, 'the cursor node changed under this server; re-reading it');
        k.cursorVersion = now?.stat.version ?? -1;
        k.cursor = now !== undefined && now.data.length > 0 ? this.parse(now.data, path) : undefined;
        k.cursorSource = now !== undefined && now.data.length > 0 ? this.parseSource(now.data, path) : undefined;
      }
    }
    throw new Error(`the cursor of client ${clientId} at ${path} kept changing under this server; not written`);
  }
}
