// Where the client finds the server to connect to. One host:port, a fixed list tried in turn,
// or (zk-locator.ts) the address a ZooKeeper `running` node names. The client asks for
// candidates before each connection attempt and reports back what happened, so that a locator
// can put the server a refusal named, or the one that worked last, first.
import { isIP } from 'node:net';

export interface ServerAddress {
  host: string;
  port: number;
}

export interface ServerLocator {
  /** what the client follows, for messages */
  readonly description: string;
  /** Addresses to try now, best first; empty when no server is known yet. */
  candidates(): Promise<ServerAddress[]>;
  /** A connection to `addr` was established (and is used until the next candidates()). */
  connected(addr: ServerAddress): void;
  /** Set by the client: the locator learnt that the active server is now `to`, not the connected one. */
  onMoved?: ((to: ServerAddress) => void) | undefined;
  /** `addr` refused the destination as a standby, naming `active` ("host:port") when it could. */
  refused(addr: ServerAddress, active: string | undefined): void;
  /** Resolves after `ms`, or sooner once candidates() may answer differently (a hint, a watch). */
  pause(ms: number): Promise<void>;
  close(): Promise<void>;
}

export function formatAddress(a: ServerAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** "host:port" or "[v6]:port"; `what` names the option in the error. */
export function parseAddress(text: string, what: string): ServerAddress {
  const t = text.trim();
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(t) ?? /^([^:\s[\]]+):(\d+)$/.exec(t);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TypeError(`${what}: "${text}" is not a server address; write host:port (e.g. 10.0.0.5:11111, [::1]:11111)`);
  }
  return { host: m[1]!, port };
}

/** A comma-separated list of addresses, or an array of them. */
export function parseAddressList(list: string | readonly (string | ServerAddress)[], what: string): ServerAddress[] {
  const items = typeof list === 'string' ? list.split(',').filter((s) => s.trim() !== '') : list;
  const out = items.map((i) => (typeof i === 'string' ? parseAddress(i, what) : { host: i.host, port: i.port }));
  if (out.length === 0) throw new TypeError(`${what}: no server address given`);
  return out;
}

export function sameAddress(a: ServerAddress, b: ServerAddress): boolean {
  return a.port === b.port && a.host === b.host;
}

/**
 * Resolves after `ms` or when `wake` is called, whichever comes first. One pending pause at a
 * time (the client reconnects on one path).
 */
export class Pause {
  private wakeUp: (() => void) | undefined;
  private woken = false;

  /** Ends the current pause, or makes the next one return at once. */
  wake(): void {
    if (this.wakeUp !== undefined) this.wakeUp();
    else this.woken = true;
  }

  async for(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakeUp = done;
    });
  }
}

/**
 * A fixed list, tried in turn: first a server a refusal named, then the one that worked last,
 * then the others in the order given. One address is the plain host/port form.
 */
export class FixedServers implements ServerLocator {
  readonly description: string;
  private readonly list: ServerAddress[];
  private last = 0;
  private hint: ServerAddress | undefined;
  private readonly pauses = new Pause();

  constructor(list: readonly ServerAddress[]) {
    if (list.length === 0) throw new TypeError('FixedServers: no server address');
    this.list = [...list];
    this.description = this.list.map(formatAddress).join(', ');
  }

  candidates(): Promise<ServerAddress[]> {
    const n = this.list.length;
    const order = Array.from({ length: n }, (_, i) => this.list[(this.last + i) % n]!);
    const hint = this.hint;
    this.hint = undefined;
    return Promise.resolve(hint === undefined ? order : [hint, ...order.filter((a) => !sameAddress(a, hint))]);
  }

  connected(addr: ServerAddress): void {
    const i = this.list.findIndex((a) => sameAddress(a, addr));
    if (i >= 0) this.last = i;
  }

  refused(addr: ServerAddress, active: string | undefined): void {
    if (active === undefined) return;
    let named: ServerAddress;
    try {
      named = parseAddress(active, 'the active server a refusal named');
    } catch {
      return;
    }
    if (sameAddress(named, addr)) return;
    this.hint = named;
    this.pauses.wake();
  }

  pause(ms: number): Promise<void> {
    return this.pauses.for(ms);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
