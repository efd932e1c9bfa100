// Malformed, truncated, oversized and out-of-order frames over many concurrent connections,
// while one well-behaved client consumes a destination on its own connection. The server must
// not crash, the good client must get every entry once and in order, and nothing a fuzz
// connection did may stay in memory once it is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { encodeFrame } from '../../src/protocol/frame.ts';
import {
  clientAckPacket,
  clientAuthPacket,
  clientRollbackPacket,
  getPacket,
  rawPacket,
  subPacket,
  unsubPacket,
} from '../../src/protocol/packets.ts';
import { StoreDestination } from '../../src/instance/store-destination.ts';
import { EventStore } from '../../src/store/event-store.ts';
import type { StoreItem } from '../../src/store/store-item.ts';
import { waitFor } from '../support/sandbox.ts';
import { RawClient } from './support/raw-client.ts';
import { items, startFixture, summarize } from './support/fixture.ts';

const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? 0x5eed1234);
const MIN_FRAMES = 10_000;
const WORKERS = 8;
const TRANSACTIONS = 400;
const MAX_FRAME = 4096;

/** mulberry32: small, seedable, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: () => number, list: readonly T[]): T {
  return list[Math.floor(rng() * list.length)]!;
}

function randomBytes(rng: () => number, max: number): Buffer {
  const b = Buffer.allocUnsafe(Math.floor(rng() * max));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

const DESTS = ['example', 'fuzz', '', 'nope', 'ex\u00e4mple'];
const CLIENTS = ['1001', '7', '', 'x', '99999', '-1'];
const BATCHES = [-1, 0, 1, 2, 3, 1000, -7, 2 ** 40];
const FILTERS = ['', '.*', 'db\\.t', '(', 'a'.repeat(300)];

/** A well-formed packet of a random kind with random fields: out of order, wrong ids, wrong names. */
function validPacket(rng: () => number): Uint8Array {
  const destination = pick(rng, DESTS);
  const clientId = pick(rng, CLIENTS);
  switch (Math.floor(rng() * 8)) {
    case 0:
      return subPacket({ destination, clientId, filter: pick(rng, FILTERS) });
    case 1:
      return unsubPacket({ destination, clientId });
    case 2:
      return getPacket({ destination, clientId, fetchSize: pick(rng, [-5, 0, 1, 3, 100000]), timeout: pick(rng, [-1, -1, -1, 1, 5]), unit: pick(rng, [0, 2, 3, -1, 9]) });
    case 3:
      return clientAckPacket({ destination, clientId, batchId: pick(rng, BATCHES) });
    case 4:
      return clientRollbackPacket({ destination, clientId, batchId: pick(rng, BATCHES) });
    case 5:
      return clientAuthPacket({ username: pick(rng, ['', 'canal', 'x']), password: pick(rng, ['', 'zz', '00'.repeat(20)]), netReadTimeoutMs: pick(rng, [0, -1, 60_000]) });
    case 6:
      return rawPacket(Math.floor(rng() * 16));
    default:
      return rawPacket(Math.floor(rng() * 14), randomBytes(rng, 64));
  }
}

type Kind = 'valid' | 'garbage' | 'empty' | 'split' | 'truncated' | 'oversized';
const KINDS: readonly [Kind, number][] = [
  ['valid', 0.62],
  ['garbage', 0.12],
  ['empty', 0.06],
  ['split', 0.15],
  ['truncated', 0.03],
  ['oversized', 0.02],
];

function kindOf(rng: () => number): Kind {
  let r = rng();
  for (const [k, p] of KINDS) {
    if (r < p) return k;
    r -= p;
  }
  return 'valid';
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** One fuzz connection: an optional real auth, then random frames until it stops or the server closes it. Returns frames sent. */
async function fuzzConnection(port: number, rng: () => number): Promise<number> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  sock.on('data', () => {});
  let closed = false;
  const done = new Promise<void>((r) => sock.on('close', () => r()));
  sock.on('close', () => (closed = true));
  await new Promise<void>((resolve) => {
    sock.once('connect', resolve);
    sock.once('close', resolve);
  });
  let sent = 0;
  if (rng() < 0.6) {
    sock.write(encodeFrame(clientAuthPacket({ username: 'fuzzer', password: '' })));
    sent++;
  }
  const n = 1 + Math.floor(rng() * 40);
  for (let i = 0; i < n && !closed; i++) {
    const kind = kindOf(rng);
    sent++;
    if (kind === 'valid') sock.write(encodeFrame(validPacket(rng)));
    else if (kind === 'garbage') sock.write(encodeFrame(randomBytes(rng, 200)));
    else if (kind === 'empty') sock.write(encodeFrame(new Uint8Array(0)));
    else if (kind === 'split') {
      const frame = encodeFrame(validPacket(rng));
      const cut = Math.floor(rng() * frame.length);
      sock.write(frame.subarray(0, cut));
      await tick();
      if (!closed) sock.write(frame.subarray(cut));
    } else if (kind === 'truncated') {
      const frame = encodeFrame(validPacket(rng));
      sock.write(frame.subarray(0, Math.max(1, frame.length - 1 - Math.floor(rng() * 4))));
      break;
    } else {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(MAX_FRAME + 1 + Math.floor(rng() * 0x7fff0000));
      sock.write(Buffer.concat([header, randomBytes(rng, 32)]));
      break;
    }
    if (i % 4 === 3) await tick();
  }
  sock.end();
  // a session blocked in a GET never reads the end: give it a moment, then reset
  const reset = setTimeout(() => sock.destroy(), 200);
  await done;
  clearTimeout(reset);
  return sent;
}

test(`fuzz: ${MIN_FRAMES}+ hostile frames on ${WORKERS} concurrent connections (seed ${SEED}) while a good client reads everything in order`, async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;

  const fx = await startFixture({ server: { maxFrameBytes: MAX_FRAME, authTimeoutMs: 2_000 }, quiet: true });
  // a second destination the fuzzers may subscribe to and consume for real
  const fuzzStore = new EventStore({ maxEntries: 1_000, maxBytes: 1 << 20, batchMode: 'ITEMSIZE' });
  for (const e of items(1, 50)) fuzzStore.tryPut(e);
  const fuzzDest = new StoreDestination<StoreItem>({ name: 'fuzz', store: fuzzStore, status: () => ({ state: 'running' }) });
  fx.registry.add(fuzzDest);
  try {
    const good = await RawClient.connect(fx.port);
    await good.auth('', undefined);
    good.sendRollback('example', 0);
    assert.equal((await good.subscribe('example')).errorCode, 0);

    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const deadline = Date.now() + 45_000;

    let produced = 0;
    const producer = (async () => {
      while (produced < TRANSACTIONS) {
        fx.put(items(produced + 1, 5));
        produced += 5;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const received: string[] = [];
    const consumer = (async () => {
      while (received.length < TRANSACTIONS * 3 && Date.now() < deadline) {
        good.sendGet('example', 40, 50);
        const m = await good.nextMessages();
        if (m.batchId === -1) continue;
        received.push(...summarize(m.entries));
        good.sendAck('example', m.batchId);
      }
    })();

    let frames = 0;
    let connections = 0;
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      const rng = prng(SEED + w);
      while (frames < MIN_FRAMES && Date.now() < deadline) {
        // read the count first: `frames += await …` would add to a stale value across workers
        const sent = await fuzzConnection(fx.port, rng);
        frames += sent;
        connections++;
      }
    });
    await Promise.all([...workers, producer, consumer]);

    assert.ok(frames >= MIN_FRAMES, `sent ${frames} frames over ${connections} connections before the deadline`);
    const expected: string[] = [];
    for (let n = 1; n <= TRANSACTIONS; n++) expected.push('B', `I:t:${n}`, 'E');
    assert.equal(received.length, expected.length, 'the good client received every entry');
    assert.deepEqual(received, expected, 'in order, each once');
    assert.deepEqual(fx.logs.filter((l) => l.level === 'error'), [], 'no unexpected server errors');

    // every fuzz session is gone, with its blocked GETs and its hold on the fuzz destination
    await waitFor(() => fx.server.sessionCount === 1, 'only the good session to remain', 20_000);
    assert.equal(fuzzDest.currentHolder(), undefined);
    assert.equal(fuzzStore.stats().waitingGets, 0);
    assert.equal(fuzzStore.stats().outstandingBatches, 0);
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB over ${connections} fuzz connections`);
    console.log(`fuzz: ${frames} frames over ${connections} connections; heap ${(grown / 1048576).toFixed(1)} MiB after gc`);

    // and the good connection still works after all of it
    good.sendGet('example', 10, -1);
    assert.equal((await good.nextMessages()).batchId, -1);
    good.close();
  } finally {
    await fx.stop();
    fuzzStore.close();
  }
});
