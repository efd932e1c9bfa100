// Active/standby consumers, as Canal's clients do it: every process consuming a destination with
// the same client id tries to create the ephemeral node .../{destination}/{clientId}/running with
// Canal's client JSON ({"active":true,"address":"clientIp:port","clientId":1001}, the address
// being this end of the connection to the server). The one that creates it consumes; the others
// wait for it to go: at once when the holder stops cleanly (it deletes the node), or when its
// ZooKeeper session expires (the holder was killed or cut off).
//
// A holder stops consuming as soon as it cannot be sure it still holds the node: when its
// session's lease lapses (no answer from ZooKeeper for 2/3 of the session timeout, so the session
// may expire any moment and a standby take over), when the session is over, or when the node is
// deleted or is no longer its own.
import { EventEmitter } from 'node:events';
import { clientPath, clientRunningPath } from '../coord/paths.ts';
import { formatClientRunning, parseClientRunning } from '../coord/running-data.ts';
import { ZkError, type ZkSession } from '../coord/zk-session.ts';
import { CanalConnectionError } from './errors.ts';
import { Pause } from './server-locator.ts';
import { zkFailure, type ZkLink } from './zk-link.ts';

/** Another process holds the node: this one stands by. Handled inside the client. */
export class ConsumerStandby extends CanalConnectionError {
  constructor(
    readonly holder: string,
    path: string,
  ) {
    super(`another consumer (${holder}) holds ${path}; this one stands by until it goes`);
  }
}

export type ConsumerLockEvents = {
  /** this process held the node and may no longer: it must stop consuming */
  lost: [reason: string];
};

/** How often a standby looks at the node even without a watch firing (a safety net for a lost watch). */
const RECHECK_MS = 30_000;

export class ConsumerLock extends EventEmitter<ConsumerLockEvents> {
  readonly path: string;
  private readonly parent: string;
  private readonly clientId: number;
  /** the session whose ephemeral node this process holds */
  private heldBy: ZkSession | undefined;
  private address: string | undefined;
  private readonly changes = new Pause();
  /** the current watch on the held node; an older one stops re-arming itself */
  private watchRound = 0;

  constructor(
    private readonly zk: ZkLink,
    destination: string,
    clientId: string,
  ) {
    super();
    const id = Number(clientId);
    if (!/^-?\d+$/.test(clientId) || id < -32_768 || id > 32_767) {
      throw new TypeError(`CanalClient exclusive: clientId must be a number (Canal's client ids are Java shorts, -32768..32767), got "${clientId}"`);
    }
    this.clientId = id;
    this.path = clientRunningPath(destination, clientId);
    this.parent = clientPath(destination, clientId);
    zk.on('lease-lost', () => this.lose('ZooKeeper has not answered for 2/3 of the session timeout, so the session may expire and another consumer take over'));
    zk.on('expired', (reason) => {
      this.lose(`the ZooKeeper session ended (${reason})`);
      this.changes.wake();
    });
  }

  get held(): boolean {
    return this.heldBy !== undefined && !this.heldBy.expired;
  }

  /**
   * Takes the node, naming this consumer by `address` (ip:port of its connection to the server),
   * or updates the address when it already holds it. Throws ConsumerStandby when another process
   * holds it, CanalConnectionError when ZooKeeper cannot be reached.
   */
  async take(address: string): Promise<void> {
    try {
      const s = await this.zk.session();
      const data = formatClientRunning({ active: true, address, clientId: this.clientId });
      if (this.heldBy === s && s.leaseValid()) {
        if (address !== this.address) {
          await s.set(this.path, data, -1);
          this.address = address;
        }
        return;
      }
      for (;;) {
        try {
          await s.create(this.path, data, 'ephemeral');
          this.hold(s, address);
          return;
        } catch (e) {
          if (e instanceof ZkError && e.code === 'NO_NODE') {
            await s.ensurePath(this.parent);
            continue;
          }
          if (!(e instanceof ZkError && e.code === 'NODE_EXISTS')) throw e;
        }
        const node = await s.get(this.path, () => this.changes.wake());
        if (node === undefined) continue;
        if (node.stat.ephemeralOwner === s.sessionId) {
          // Still ours: the lease lapsed and came back without the session ending.
          await s.set(this.path, data, node.stat.version);
          this.hold(s, address);
          return;
        }
        throw new ConsumerStandby(holderOf(node.data, this.path), this.path);
      }
    } catch (e) {
      throw zkFailure(e);
    }
  }

  /** Resolves when the node may have changed (a watch fired, the session changed) or after a while. */
  async changed(): Promise<void> {
    await this.changes.for(RECHECK_MS);
  }

  /** Deletes the node if this process holds it (a clean stop: a standby takes over at once). */
  async release(): Promise<void> {
    const s = this.heldBy;
    this.heldBy = undefined;
    this.address = undefined;
    this.changes.wake();
    if (s === undefined || s.expired) return;
    try {
      const node = await s.get(this.path);
      if (node !== undefined && node.stat.ephemeralOwner === s.sessionId) await s.remove(this.path, node.stat.version);
    } catch {
      // Closing the session removes it as well.
    }
  }

  private hold(s: ZkSession, address: string): void {
    this.heldBy = s;
    this.address = address;
    void this.watchOwn(s, ++this.watchRound);
  }

  /** While held, a change of the node that leaves it someone else's (or gone) ends the hold. */
  private async watchOwn(s: ZkSession, round: number): Promise<void> {
    try {
      const node = await s.get(this.path, () => {
        if (this.heldBy === s && this.watchRound === round) void this.watchOwn(s, round);
      });
      if (this.heldBy !== s || this.watchRound !== round) return;
      if (node === undefined) this.lose(`${this.path} was deleted`);
      else if (node.stat.ephemeralOwner !== s.sessionId) this.lose(`${this.path} now belongs to another session`);
    } catch {
      // A session that cannot answer is handled by its lease.
    }
  }

  private lose(reason: string): void {
    if (this.heldBy === undefined) return;
    this.heldBy = undefined;
    this.address = undefined;
    this.emit('lost', reason);
  }
}

function holderOf(data: Buffer, path: string): string {
  try {
    return parseClientRunning(data, path).address;
  } catch {
    return JSON.stringify(data.toString('utf8').slice(0, 100));
  }
}
