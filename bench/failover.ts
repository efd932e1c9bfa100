// `npm run bench:failover`: how long a destination is dark when its active server dies. Two sluice
// processes (the real CLI) and a private ZooKeeper, a private MariaDB with a transfer committed
// every 20 ms, and a consumer that knows only ZooKeeper (reads `running`, connects there, looks
// again on any failure). Each round SIGKILLs the active server and measures from the kill to the
// consumer's first batch from the new active; the killed server is restarted (as standby) once
// the failover is over. Profiles:
//   default  sluice's defaults (session 5 s, takeover delay 2 s) on ZooKeeper's stock tickTime 2 s
//   fast     the shortest session the docs recommend (2 s, no delay) on tickTime 0.5 s
//   canal    Canal's defaults: a 90 s session (ZooKeeper caps it at maxSessionTimeout, 20 ticks =
//            40 s with the stock tickTime) and Canal's 5 s delay
// Usage: npm run bench:failover -- [--profile default,fast,canal] [--rounds N] [--canal-rounds N]
// Prints one line per failover, a summary per profile, then one JSON line. See docs/benchmarks.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, waitFor } from '../test/support/sandbox.ts';
import { ZooKeeper } from '../test/support/zookeeper.ts';
import { createLedger, runTransfers } from '../test/faults/support/ledger.ts';
import { HaServer } from '../test/cluster/support/ha-cluster.ts';
import { ZkFollowingConsumer } from '../test/cluster/support/zk-consumer.ts';
import { ZkSession } from '../src/coord/zk-session.ts';
import { serverRunningPath } from '../src/coord/paths.ts';
import { parseServerRunning } from '../src/coord/running-data.ts';

interface Profile {
  name: string;
  tickTimeMs: number;
  sessionTimeoutMs: number;
  takeoverDelayMs: number;
}

const PROFILES: Record<string, Profile> = {
  default: { name: 'default', tickTimeMs: 2_000, sessionTimeoutMs: 5_000, takeoverDelayMs: 2_000 },
  fast: { name: 'fast', tickTimeMs: 500, sessionTimeoutMs: 2_000, takeoverDelayMs: 0 },
  canal: { name: 'canal', tickTimeMs: 2_000, sessionTimeoutMs: 90_000, takeoverDelayMs: 5_000 },
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const DEST = 'bench';

async function runProfile(p: Profile, rounds: number, sb: Sandbox): Promise<{ profile: string; grantedSessionMs: number; failoversMs: number[] }> {
  // ZooKeeper's stock limits: min 2 ticks, max 20 ticks.
  const zk = await ZooKeeper.standalone({ tickTimeMs: p.tickTimeMs, minSessionTimeoutMs: 2 * p.tickTimeMs, maxSessionTimeoutMs: 20 * p.tickTimeMs });
  const root = await mkdtemp(join(tmpdir(), 'sluice-bench-ha-'));
  const servers: HaServer[] = [];
  let consumer: ZkFollowingConsumer | undefined;
  let writing = true;
  let workload: Promise<void> | undefined;
  const watcher = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: 10_000 });
  try {
    const start = await sb.masterStatus();
    const opts = { zookeeper: zk.connectString, sessionTimeoutMs: p.sessionTimeoutMs, takeoverDelayMs: p.takeoverDelayMs, flushIntervalMs: 1_000, destination: DEST, start: { file: start.file, position: start.position } };
    servers.push(...(await Promise.all(['a', 'b'].map((n) => HaServer.start(n, root, sb, opts)))));
    const probe = await ZkSession.open({ connectString: zk.connectString, sessionTimeoutMs: p.sessionTimeoutMs });
    const granted = probe.sessionTimeoutMs;
    await probe.close();
    let lastBatchAt = 0;
    consumer = new ZkFollowingConsumer(zk.connectString, DEST, () => (lastBatchAt = Date.now()));
    consumer.start();
    const c = consumer;
    let next = 1_000_000 * (Object.keys(PROFILES).indexOf(p.name) + 1);
    workload = (async () => {
      while (writing) {
        await runTransfers(sb, next, next);
        next++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const holder = async (): Promise<string | undefined> => {
      const n = await watcher.get(serverRunningPath(DEST));
      return n === undefined ? undefined : parseServerRunning(n.data).address;
    };
    const failoversMs: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Steady: the consumer gets batches from the server holding `running`, and the other one is a ready standby.
      await waitFor(async () => {
        const h = await holder();
        const other = servers.find((s) => s.address !== h);
        return h !== undefined && c.switches.at(-1)?.server === h && Date.now() - lastBatchAt < 200 && (await other?.status(DEST))?.state === 'standby';
      }, 'a steady stream from the active server and a ready standby', 120_000, 20);
      const victim = servers.find((s) => s.address === c.switches.at(-1)!.server)!;
      const before = c.switches.length;
      const t0 = Date.now();
      await victim.kill9();
      await waitFor(() => c.switches.length > before && c.switches.at(-1)!.server !== victim.address, 'the consumer on the new active', 180_000, 5);
      const ms = c.switches.at(-1)!.at - t0;
      failoversMs.push(ms);
      process.stdout.write(`${p.name} failover ${round}/${rounds}: ${ms} ms (${victim.name} killed)\n`);
      await victim.restart();
    }
    return { profile: p.name, grantedSessionMs: granted, failoversMs };
  } finally {
    writing = false;
    await workload;
    await consumer?.stop();
    await watcher.close();
    for (const s of servers) await s.kill9();
    await zk.cleanup();
    await rm(root, { recursive: true, force: true });
  }
}

const names = (arg('profile') ?? 'default,fast,canal').split(',');
const rounds = Number(arg('rounds') ?? 10);
const canalRounds = Number(arg('canal-rounds') ?? 3);
for (const n of names) if (PROFILES[n] === undefined) throw new Error(`unknown profile ${n}: use default, fast or canal`);

const sb = await Sandbox.start();
const results = [];
try {
  await createLedger(sb);
  for (const n of names) {
    const p = PROFILES[n]!;
    const r = await runProfile(p, n === 'canal' ? canalRounds : rounds, sb);
    results.push({ ...r, sessionTimeoutMs: p.sessionTimeoutMs, takeoverDelayMs: p.takeoverDelayMs, tickTimeMs: p.tickTimeMs, medianMs: median(r.failoversMs), maxMs: Math.max(...r.failoversMs), minMs: Math.min(...r.failoversMs) });
    const last = results.at(-1)!;
    process.stdout.write(
      `${n}: session ${p.sessionTimeoutMs} ms (granted ${r.grantedSessionMs}), delay ${p.takeoverDelayMs} ms, tickTime ${p.tickTimeMs} ms: median ${last.medianMs} ms, min ${last.minMs} ms, max ${last.maxMs} ms over ${r.failoversMs.length} failovers\n`,
    );
  }
} finally {
  await sb.cleanup();
}
process.stdout.write(JSON.stringify({ loadavg: loadavg(), results }) + '\n');
process.exit(0);
