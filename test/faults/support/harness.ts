// Shared pieces of the instance and fault tests: an instance config for a sandbox, sluice
// in-process (Instance + CanalServer), and a consumer that pulls with the real client.
import { after } from 'node:test';
import { rm } from 'node:fs/promises';
import type { InstanceConfig } from '../../../src/config/types.ts';
import { Instance } from '../../../src/instance/instance.ts';
import { CanalServer } from '../../../src/server/canal-server.ts';
import { MapRegistry } from '../../../src/server/registry.ts';
import { CanalClient } from '../../../src/client/canal-client.ts';
import type { CanalBatch } from '../../../src/client/entry.ts';
import type { Sandbox } from '../../support/sandbox.ts';
import type { ChildSluice } from './child-sluice.ts';

export interface ConfigOverrides {
  start?: InstanceConfig['start'];
  store?: Partial<InstanceConfig['store']>;
  heartbeatMs?: number;
  source?: Partial<InstanceConfig['source']>;
  slaveId?: number;
}

/** An instance of the sandbox's test database, with short heartbeats and retries for tests. */
export function instanceConfig(sb: Sandbox, destination: string, o: ConfigOverrides = {}): InstanceConfig {
  const source: InstanceConfig['source'] = { ...sb.replConfig, connectTimeoutMs: 5_000, ...o.source };
  if (o.slaveId !== undefined) source.slaveId = o.slaveId;
  return {
    destination,
    file: `instances/${destination}.json`,
    source,
    start: o.start ?? { kind: 'end' },
    filter: { include: `${sb.database}\\..*`, exclude: '', includeFields: '', excludeFields: '' },
    drop: { insert: false, update: false, delete: false, ddl: false, dcl: false, queryDml: false, rows: false, tableErrors: false, transactionEntries: false },
    store: { maxEntries: 4096, maxBytes: 16 * 1024 * 1024, batchMode: 'ITEMSIZE', memUnit: 1024, ddlIsolation: false, ...o.store },
    // The parser's watchdog also times the connect itself (3 periods): on this loaded machine a
    // 500 ms period can make every reconnect attempt time out, so keep it at 2 s here.
    heartbeatMs: o.heartbeatMs ?? 2_000,
    retry: { initialMs: 100, maxMs: 1_000 },
  };
}

export interface InProcessSluice {
  instance: Instance;
  server: CanalServer;
  port: number;
  stop(): Promise<void>;
}

/** Starts one instance and a Canal server for it on a free loopback port. */
export async function startInProcess(config: InstanceConfig, dataDir: string, flushIntervalMs = 100): Promise<InProcessSluice> {
  const instance = new Instance({ config, dataDir, flushIntervalMs });
  await instance.start();
  const server = new CanalServer({ port: 0, destinations: new MapRegistry([instance]) });
  const { port } = await server.start();
  return {
    instance,
    server,
    port,
    async stop() {
      await server.stop();
      await instance.stop();
    },
  };
}

export function client(port: number, destination: string): CanalClient {
  return new CanalClient({ host: '127.0.0.1', port, destination, clientId: '1001', reconnect: false, requestTimeoutMs: 120_000 });
}

/**
 * Pulls batches (get, handle, ack) until `done()` holds or the deadline passes. `handle` sees
 * every batch before it is acknowledged.
 */
export async function consumeUntil(c: CanalClient, handle: (b: CanalBatch) => void, done: () => boolean, what: string, timeoutMs = 30_000, batchSize = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms consuming until ${what}`);
    const b = await c.getWithoutAck(batchSize, 200);
    if (b.id === -1) continue;
    handle(b);
    await c.ack(b.id);
  }
}


/** What a test file started; each part may be unset (not started, or already stopped). */
export interface Leftovers {
  child?: ChildSluice | undefined;
  sluice?: InProcessSluice | undefined;
  server?: CanalServer | undefined;
  instances?: Instance[];
  sandboxes?: (Sandbox | undefined)[];
  dataDir?: string | undefined;
}

/**
 * Call at the top of a test file: after its tests, stops what `get()` then returns (sluice first,
 * then the sandboxes, thawed in case a test froze one) and removes the data directory.
 */
export function cleanUpAfter(get: () => Leftovers): void {
  after(async () => {
    const o = get();
    await o.child?.kill9();
    for (const sb of o.sandboxes ?? []) sb?.thaw();
    await o.sluice?.stop().catch(() => undefined);
    await o.server?.stop().catch(() => undefined);
    await Promise.all((o.instances ?? []).map((i) => i.stop().catch(() => undefined)));
    await Promise.all((o.sandboxes ?? []).map((sb) => sb?.cleanup()));
    if (o.dataDir) await rm(o.dataDir, { recursive: true, force: true });
  });
}

/** What a test file's instances run on, for serveAndSubscribe; cleaned up after its tests. */
export interface OwnedResources {
  sb?: Sandbox;
  dataDir?: string;
  server?: CanalServer;
  instances: Instance[];
}

/** Call at the top of a test file: what the tests put in the result is cleaned up after them. */
export function ownedResources(): OwnedResources {
  const o: OwnedResources = { instances: [] };
  cleanUpAfter(() => ({ server: o.server, instances: o.instances, sandboxes: [o.sb], dataDir: o.dataDir }));
  return o;
}

/** A Canal server for `o.instances` on a free port, and a connected, subscribed client for each, in order. */
export async function serveAndSubscribe(o: OwnedResources): Promise<CanalClient[]> {
  const server = new CanalServer({ port: 0, destinations: new MapRegistry(o.instances) });
  o.server = server;
  const { port } = await server.start();
  return await Promise.all(
    o.instances.map(async (i) => {
      const c = client(port, i.name);
      await c.connect();
      await c.subscribe();
      return c;
    }),
  );
}
