// The Canal-compatible listener: plain TCP, and optionally TLS beside it, one Session per
// connection, all destinations of the process behind one DestinationRegistry.
import net from 'node:net';
import tls from 'node:tls';
import type { DestinationRegistry } from '../instance/destination.ts';
import { silentLogger, type ServerLogger } from '../observe/server-logger.ts';
import { Session } from './session.ts';
import { listenOn } from '../observe/listen-error.ts';

export interface CanalServerOptions {
  /** bind address; default 127.0.0.1 (Canal's empty canal.ip means all interfaces: pass '0.0.0.0' or '::') */
  host?: string;
  /** 0 picks a free port */
  port: number;
  /** canal.user: '' or absent accepts any username */
  user?: string;
  /** canal.passwd: hex SHA1(SHA1(password)); '' or absent turns authentication off */
  passwordHash?: string;
  /** inbound frame cap in bytes (default 1 MiB) */
  maxFrameBytes?: number;
  /** close connections that have not authenticated within this long (default 60 s) */
  authTimeoutMs?: number;
  /** TCP keepalive initial delay (default 15 s; probes follow every second, 10 of them) */
  keepAliveDelayMs?: number;
  /** a TLS listener beside the plain one; key and cert in PEM */
  tls?: { port: number; key: string | Buffer; cert: string | Buffer; host?: string };
  destinations: DestinationRegistry;
  logger?: ServerLogger;
}

export interface BoundPorts {
  port: number;
  tlsPort?: number;
}

const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export class CanalServer {
  private readonly opts: CanalServerOptions;
  private readonly log: ServerLogger;
  private plain: net.Server | undefined;
  private secure: tls.Server | undefined;
  private readonly live = new Map<number, Session>();
  /** the TCP sockets under TLS connections: one still in its handshake has no session, and stop() must not wait for it */
  private readonly tlsSockets = new Set<net.Socket>();
  private nextSessionId = 1;
  private stopping = false;

  constructor(opts: CanalServerOptions) {
    const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 64) throw new RangeError(`CanalServer maxFrameBytes must be an integer >= 64, got ${max}`);
    if ((opts.user ?? '') !== '' && (opts.passwordHash ?? '') === '') {
      // Canal 1.1.8 refuses this too (issue #4941): a user without a password checks nothing.
      throw new Error('CanalServer: a user is set but passwordHash is empty; set both, or neither to turn authentication off');
    }
    if ((opts.passwordHash ?? '') !== '' && !/^[0-9a-fA-F]{40}$/.test(opts.passwordHash ?? '')) {
      throw new Error('CanalServer passwordHash must be 40 hex characters (SHA1(SHA1(password)), e.g. from `sluice passwd`)');
    }
    this.opts = opts;
    this.log = opts.logger ?? silentLogger;
  }

  /** Sessions currently open (authenticated or not). */
  get sessionCount(): number {
    return this.live.size;
  }

  sessions(): Session[] {
    return [...this.live.values()];
  }

  /** Closes every connection that named `destination` (a server that stops being its active one); returns how many. */
  closeSessionsOf(destination: string, reason: string): number {
    let n = 0;
    for (const s of [...this.live.values()]) {
      if (s.usesDestination(destination)) {
        s.close(reason);
        n++;
      }
    }
    return n;
  }

  async start(): Promise<BoundPorts> {
    const host = this.opts.host ?? '127.0.0.1';
    this.plain = net.createServer((socket) => this.accept(socket, 'tcp'));
    const port = await listenOn(this.plain, 'listen', this.opts.port, host);
    const bound: BoundPorts = { port };
    if (this.opts.tls !== undefined) {
      const t = this.opts.tls;
      this.secure = tls.createServer({ key: t.key, cert: t.cert, minVersion: 'TLSv1.2' }, (socket) => this.accept(socket, 'tls'));
      this.secure.on('connection', (raw: net.Socket) => {
        this.tlsSockets.add(raw);
        raw.once('close', () => this.tlsSockets.delete(raw));
      });
      this.secure.on('tlsClientError', (err, socket) => {
        this.log.warn({ peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, err: err.message }, 'TLS handshake with a client failed');
      });
      bound.tlsPort = await listenOn(this.secure, 'tls', t.port, t.host ?? host);
    }
    this.log.info({ host, ...bound, auth: (this.opts.passwordHash ?? '') !== '', maxFrameBytes: this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES }, 'canal server listening');
    return bound;
  }

  /** Stops accepting, closes every session (aborting blocked GETs, releasing holds), and waits for the listeners to close. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const closing = [this.plain, this.secure].filter((s): s is net.Server => s !== undefined).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of [...this.live.values()]) s.close('server stopping');
    for (const raw of this.tlsSockets) raw.destroy();
    this.tlsSockets.clear();
    await Promise.all(closing);
    this.log.info({}, 'canal server stopped');
  }

  private accept(socket: net.Socket, transport: 'tcp' | 'tls'): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const id = this.nextSessionId++;
    const session = new Session(
      socket,
      id,
      {
        user: this.opts.user ?? '',
        passwordHash: this.opts.passwordHash ?? '',
        maxFrameBytes: this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        authTimeoutMs: this.opts.authTimeoutMs ?? 60_000,
        keepAliveDelayMs: this.opts.keepAliveDelayMs ?? 15_000,
        registry: this.opts.destinations,
        logger: this.log,
      },
      (s) => this.live.delete(s.id),
    );
    this.live.set(id, session);
    this.log.debug({ session: id, transport }, 'accepted connection');
    session.start();
  }
}

