// The consuming side of the end-to-end runs, in its own process: either the raw wire consumer
// (packets only: the "wire" stage) or sluice's TypeScript client decoding every entry into rows
// and acknowledging every batch (the "client" stage, i.e. end to end). Once loaded it waits for
// the server's port ('connect'), connects and subscribes, says so, then consumes until the
// sentinel and reports when it saw it (wall clock, comparable with the server's start time and
// the live loader's commit times).
import { CanalClient } from '../../src/client/canal-client.ts';
import { consumeRaw } from '../wire-consumer.ts';
import { wallMs } from '../dataset.ts';
import { boundWorker, cpuSeconds, runJob, send, workerConfig } from './worker-support.ts';
import type { ClientJob, ClientResult } from '../measures.ts';

const cfg = workerConfig<ClientJob & { mode: 'raw' | 'client' }>();
let client: CanalClient | undefined;
boundWorker(() => client?.disconnect());
const deadlineMs = Number(process.env.BENCH_WORKER_DEADLINE_MS ?? '120000');

async function viaClient(port: number): Promise<ClientResult> {
  const c = new CanalClient({
    host: '127.0.0.1',
    port,
    destination: cfg.destination,
    clientId: String(cfg.clientId),
    user: cfg.user,
    password: cfg.password,
    reconnect: false,
  });
  client = c;
  await c.connect();
  await c.subscribe();
  const subscribedWallMs = wallMs();
  send({ kind: 'subscribed' });
  const live = cfg.live;
  const receivedMs = live ? new Array<number>(live.transactions).fill(NaN) : undefined;
  let rows = 0;
  let entries = 0;
  let batches = 0;
  let firstDataWallMs = 0;
  // Time spent waiting for the next batch after handling one (ack + GET round trip + server wait):
  // where the client idles, and whether it is many short waits or a few long stalls.
  let waitedMs = 0;
  let longestWaitMs = 0;
  let handledAt = 0;
  const cpu0 = cpuSeconds();
  for await (const batch of c.stream({ batchSize: cfg.batchSize, timeoutMs: cfg.getTimeoutMs })) {
    const now = wallMs();
    if (batches++ === 0) firstDataWallMs = now;
    else {
      waitedMs += now - handledAt;
      longestWaitMs = Math.max(longestWaitMs, now - handledAt);
    }
    let sentinel = false;
    for (const e of batch) {
      entries++;
      if (e.tableName === cfg.table) {
        for (const r of e.rows) {
          rows++;
          if (receivedMs) {
            const tx = Math.floor((Number(r.after.id) - live!.firstId) / live!.rowsPerTx);
            if (tx >= 0 && tx < receivedMs.length && Number.isNaN(receivedMs[tx]!)) receivedMs[tx] = now;
          }
        }
      } else if (e.tableName === cfg.sentinelTable) sentinel = true;
    }
    handledAt = wallMs();
    if (sentinel) {
      const sentinelWallMs = wallMs();
      await c.ack(batch.id);
      const out: ClientResult = {
        rows,
        entries,
        batches,
        sentinelWallMs,
        firstDataWallMs,
        subscribedWallMs,
        cpuSeconds: cpuSeconds() - cpu0,
        waitedMs,
        longestWaitMs,
      };
      if (receivedMs) out.receivedMs = receivedMs;
      return out;
    }
  }
  throw new Error('the client stream ended before the sentinel');
}

async function viaWire(port: number): Promise<ClientResult> {
  const cpu0 = cpuSeconds();
  let subscribedWallMs = 0;
  const r = await consumeRaw({
    port,
    destination: cfg.destination,
    user: cfg.user,
    password: cfg.password,
    clientId: String(cfg.clientId),
    batchSize: cfg.batchSize,
    sentinelTable: cfg.sentinelTable,
    getTimeoutMs: cfg.getTimeoutMs,
    deadlineMs,
    onSubscribed: () => {
      subscribedWallMs = wallMs();
      send({ kind: 'subscribed' });
    },
  });
  return { rows: 0, entries: r.entries, batches: r.batches, sentinelWallMs: r.sentinelWallMs, firstDataWallMs: r.firstDataWallMs,
    subscribedWallMs,
    cpuSeconds: cpuSeconds() - cpu0,
  };
}

process.on('message', (m) => {
  const msg = m as { kind?: string; port?: number };
  if (msg.kind !== 'connect' || msg.port === undefined) return;
  const port = msg.port;
  void runJob<ClientResult>(() => (cfg.mode === 'raw' ? viaWire(port) : viaClient(port)));
});
send({ kind: 'loaded' });
