// The active server of a destination, as its ZooKeeper `running` node names it (the layout is
// in coord/paths.ts, the JSON in coord/running-data.ts). The node is read before each attempt and
// watched, so a reconnect that is waiting out its backoff starts at once when the node changes
// (the old active's session ended, a standby took over). While ZooKeeper cannot be read, the
// last address it named is tried, so a ZooKeeper outage alone does not stop consumption.
// While connected, the watch stays set: when `running` comes to name another server, the client
// is told (onMoved) and leaves the old one, which may be paused or cut off and not know it yet.
import { serverRunningPath } from '../coord/paths.ts';
import { parseServerRunning, RunningDataError } from '../coord/running-data.ts';
import { CanalConnectionError } from './errors.ts';
import { parseAddress, Pause, sameAddress, type ServerAddress, type ServerLocator } from './server-locator.ts';
import { zkFailure, type ZkLink } from './zk-link.ts';

export class RunningNodeLocator implements ServerLocator {
  readonly description: string;
  private readonly path: string;
  private readonly pauses = new Pause();
  /** the last address `running` named */
  private last: ServerAddress | undefined;
  /** the server a refusal named, and the server that refused */
  private hint: { active: ServerAddress; refusedBy: ServerAddress } | undefined;
  /** a watch on `running` is set and has not fired */
  private watching = false;
  /** why the last read gave no address, for the error when nothing can be tried */
  private why = '';
  /** the server the client is connected to */
  private current: ServerAddress | undefined;
  /** called when `running` names a server other than the one the client is connected to */
  onMoved: ((to: ServerAddress) => void) | undefined;

  constructor(
    private readonly zk: ZkLink,
    destination: string,
  ) {
    this.path = serverRunningPath(destination);
    this.description = `the active server in ZooKeeper ${zk.opts.connect} (${this.path})`;
    // A new session has no watch of the old one's: set it again while connected.
    zk.on('expired', () => {
      this.watching = false;
      if (this.current !== undefined) void this.follow();
    });
  }

  async candidates(): Promise<ServerAddress[]> {
    const running = await this.read();
    const out: ServerAddress[] = [];
    const hint = this.hint;
    this.hint = undefined;
    // The refusal is newer news than a `running` that still names the server that refused.
    if (hint !== undefined && (running === undefined || sameAddress(running, hint.refusedBy))) out.push(hint.active);
    if (running !== undefined && !out.some((a) => sameAddress(a, running))) out.push(running);
    if (out.length === 0 && this.why !== '') throw new CanalConnectionError(`no server to connect to for ${this.path}: ${this.why}`);
    return out;
  }

  private async read(): Promise<ServerAddress | undefined> {
    let data: Buffer | undefined;
    try {
      const s = await this.zk.session();
      if (!this.watching) {
        this.watching = true;
        await s.exists(this.path, () => {
          this.watching = false;
          this.pauses.wake();
          if (this.current !== undefined) void this.follow();
        });
      }
      data = (await s.get(this.path))?.data;
    } catch (e) {
      this.watching = false;
      // ZooKeeper is out of reach: the server it last named may well still be serving.
      this.why = `ZooKeeper cannot be read (${zkFailure(e).message})`;
      return this.last;
    }
    if (data === undefined) {
      this.why = '';
      return undefined;
    }
    try {
      const r = parseServerRunning(data, this.path);
      if (!r.active) return undefined;
      this.why = '';
      this.last = parseAddress(r.address, this.path);
      return this.last;
    } catch (e) {
      if (!(e instanceof RunningDataError) && !(e instanceof TypeError)) throw e;
      this.why = e.message;
      return undefined;
    }
  }

  connected(addr: ServerAddress): void {
    this.current = addr;
    // A change between the read and now would otherwise go unnoticed until the next loss.
    void this.follow();
  }

  /** Reads `running` again (setting the watch again) and reports a move away from the current server. */
  private async follow(): Promise<void> {
    const from = this.current;
    const to = await this.read();
    if (from === undefined || to === undefined || this.current !== from || sameAddress(from, to)) return;
    this.current = undefined;
    this.onMoved?.(to);
  }

  refused(addr: ServerAddress, active: string | undefined): void {
    if (active === undefined) return;
    try {
      const named = parseAddress(active, 'the active server a refusal named');
      if (!sameAddress(named, addr)) this.hint = { active: named, refusedBy: addr };
    } catch {
      // not an address: `running` will tell
    }
  }

  pause(ms: number): Promise<void> {
    return this.pauses.for(ms);
  }

  close(): Promise<void> {
    this.current = undefined;
    this.watching = false;
    this.pauses.wake();
    return Promise.resolve();
  }
}
