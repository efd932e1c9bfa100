// The admin port: /metrics for Prometheus and /health for load balancers and orchestrators.
// It is plain node:http, read-only, and separate from the Canal port so scraping never competes
// with clients for a session.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SluiceMetrics } from './metrics.ts';
import type { DestinationStatus } from './destination-status.ts';
import { handleSnapshotRoute, type SnapshotRoutesOptions } from './admin-snapshots.ts';
import { listenOn } from './listen-error.ts';

/** The server an instance with a standby reads (see SourceFailover.reading()). */
export interface HealthSource {
  role: 'master' | 'standby';
  address: string;
  port: number;
  since?: number;
  switchedFrom?: string;
  resumedAt?: string;
}

export interface HealthEntry extends DestinationStatus {
  destination: string;
  /** serving, but something needs an operator (names the setting to fix) */
  degraded?: string;
  source?: HealthSource;
}

export type HealthInstance = DestinationStatus & { degraded?: string; source?: HealthSource };

export interface AdminHttpOptions {
  host: string;
  /** 0 lets the kernel pick a port (tests); read it back from address() */
  port: number;
  metrics: SluiceMetrics;
  health: () => HealthEntry[];
  /** the snapshot routes (admin-snapshots.ts); absent: not served */
  snapshots?: SnapshotRoutesOptions;
  logger?: Logger;
}

export interface HealthBody {
  status: 'ok' | 'degraded' | 'unavailable';
  instances: Record<string, HealthInstance>;
}

/**
 * 200 only when there are instances and every one is running (or, in a cluster, standing by, or a
 * group with a source down: state degraded, it serves the others); `degraded` (still 200: it
 * serves) when an instance reports something an operator must fix.
 */
export function healthReport(entries: HealthEntry[]): { code: 200 | 503; body: HealthBody } {
  const instances: HealthBody['instances'] = {};
  for (const e of entries) {
    const s: HealthInstance = e.error === undefined ? { state: e.state } : { state: e.state, error: e.error };
    if (e.degraded !== undefined) s.degraded = e.degraded;
    if (e.ha !== undefined) s.ha = e.ha;
    if (e.source !== undefined) s.source = e.source;
    instances[e.destination] = s;
  }
  // A standby is healthy: it is ready to take over, which is its job.
  const ok = entries.length > 0 && entries.every((e) => e.state === 'running' || e.state === 'standby' || e.state === 'degraded');
  const degraded = ok && entries.some((e) => e.degraded !== undefined || e.state === 'degraded');
  return { code: ok ? 200 : 503, body: { status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable', instances } };
}

export class AdminHttpServer {
  private readonly server: Server;

  constructor(private readonly opts: AdminHttpOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger?.error({ err, url: req.url }, 'admin HTTP request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
  }

  async listen(): Promise<AddressInfo> {
    await listenOn(this.server, 'admin', this.opts.port, this.opts.host);
    return this.address();
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (this.opts.snapshots !== undefined && (await handleSnapshotRoute(this.opts.snapshots, req, res))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('only GET is served here\n');
      return;
    }
    if (path === '/metrics') {
      const text = await this.opts.metrics.text();
      res.writeHead(200, { 'content-type': this.opts.metrics.contentType });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path === '/health') {
      const { code, body } = healthReport(this.opts.health());
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body) + '\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: the admin port serves /metrics and /health\n');
  }
}
