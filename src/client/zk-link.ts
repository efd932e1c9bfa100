// The client's ZooKeeper session, opened on first use and opened again after it expires: the
// locator reads `running` through it and the consumer lock holds its ephemeral node with it.
// ZooKeeper failures reach the client as CanalConnectionError, so they are retried as any lost
// connection is.
import { EventEmitter } from 'node:events';
import { ZkError, ZkSession } from '../coord/zk-session.ts';
import { CanalConnectionError } from './errors.ts';

export interface ZooKeeperClientOptions {
  /** ZooKeeper connect string: "host:port,host:port[/chroot]" (Canal's canal.zkServers) */
  connect: string;
  /** session timeout asked for (default 10 s; ZooKeeper clamps it to its min/max): bounds how soon a killed consumer's lock goes */
  sessionTimeoutMs?: number;
  /** how long opening the session may take (default: the session timeout, at least 5 s) */
  connectTimeoutMs?: number;
}

export type ZkLinkEvents = {
  /** the session may be gone (no answer for 2/3 of its timeout): what it holds may be someone else's by now */
  'lease-lost': [];
  /** the session is over; the next use opens a new one */
  expired: [reason: string];
};

export const DEFAULT_ZK_SESSION_TIMEOUT_MS = 10_000;

export class ZkLink extends EventEmitter<ZkLinkEvents> {
  private current: ZkSession | undefined;
  private opening: Promise<ZkSession> | undefined;
  /** bumped by close(): a session that was being opened meanwhile is closed instead of kept */
  private epoch = 0;

  constructor(readonly opts: ZooKeeperClientOptions) {
    super();
    if (typeof opts.connect !== 'string' || opts.connect.trim() === '') throw new TypeError('CanalClient zk: connect must be a ZooKeeper connect string such as "zk1:2181,zk2:2181"');
  }

  /** The live session, opening one if needed. Rejects with CanalConnectionError when ZooKeeper cannot be reached. */
  async session(): Promise<ZkSession> {
    if (this.current !== undefined && !this.current.expired) return this.current;
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return await this.opening;
  }

  private async open(): Promise<ZkSession> {
    const o = this.opts;
    const epoch = this.epoch;
    let s: ZkSession;
    try {
      s = await ZkSession.open({
        connectString: o.connect,
        sessionTimeoutMs: o.sessionTimeoutMs ?? DEFAULT_ZK_SESSION_TIMEOUT_MS,
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      });
    } catch (e) {
      throw zkFailure(e);
    }
    if (this.epoch !== epoch) {
      await s.close();
      throw new CanalConnectionError('the ZooKeeper session of this client was closed (disconnect() was called)');
    }
    s.on('lease-lost', () => this.emit('lease-lost'));
    s.on('expired', (reason) => {
      if (this.current === s) this.current = undefined;
      this.emit('expired', reason);
    });
    this.current = s;
    return s;
  }

  /** Ends the session: every ephemeral node it holds goes at once. The next use opens a new one. */
  async close(): Promise<void> {
    this.epoch++;
    const pending = this.opening;
    if (pending !== undefined) await pending.catch(() => undefined);
    const s = this.current;
    this.current = undefined;
    if (s !== undefined) await s.close();
  }
}

/** A ZooKeeper failure as the client reports it: retryable. */
export function zkFailure(e: unknown): Error {
  if (e instanceof CanalConnectionError) return e;
  if (e instanceof ZkError) return new CanalConnectionError(e.message, { cause: e });
  return e instanceof Error ? e : new Error(String(e));
}
