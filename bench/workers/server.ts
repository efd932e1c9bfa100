// The server process of the end-to-end runs: sluice's data path for one destination (parser ->
// sink -> pump -> store) behind the Canal TCP server, with the defaults an instance gets from an
// empty config. It listens first and starts reading the binlog only when told to ('go'), so the
// consumer can be connected beforehand and the clock starts with the parser, as it does for the
// raw zongji baseline. It reports its peak RSS while it runs and when told to stop.
import { EventParser } from '../../src/parser/event-parser.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { Pump } from '../../src/sink/pump.ts';
import { EventStore } from '../../src/store/event-store.ts';
import type { StoreItem } from '../../src/store/store-item.ts';
import { StoreDestination } from '../../src/server/store-destination.ts';
import { MapRegistry } from '../../src/server/registry.ts';
import { CanalServer } from '../../src/server/canal-server.ts';
import type { DestinationStateName } from '../../src/server/destination.ts';
import { storedPasswordHash } from '../../src/protocol/auth.ts';
import { STORE_DEFAULTS } from '../pipeline-defaults.ts';
import { wallMs } from '../dataset.ts';
import { boundWorker, cpuSeconds, peakRssBytes, send, workerConfig } from './worker-support.ts';
import type { ServerJob } from '../measures.ts';

const cfg = workerConfig<ServerJob>();

let state: DestinationStateName = 'starting';
const parser = new EventParser({
  ...cfg.conn,
  slaveId: cfg.serverId,
  start: { kind: 'position', file: cfg.start.file, offset: cfg.start.offset },
  destination: cfg.destination,
});
const sink = new EventSink();
const store = new EventStore(STORE_DEFAULTS);
const pump = new Pump(sink, store);
const destination = new StoreDestination<StoreItem>({
  name: cfg.destination,
  store,
  status: () => ({ state }),
  narrow: (filter) => sink.narrow(filter).accept,
});
const server = new CanalServer({
  port: 0,
  user: cfg.canalUser,
  passwordHash: storedPasswordHash(cfg.canalPassword),
  destinations: new MapRegistry([destination]),
});

const report = (): void => send({ kind: 'rss', peakRssBytes: peakRssBytes(), cpuSeconds: cpuSeconds() });
const ticker = setInterval(report, 250);
ticker.unref();

boundWorker(async () => {
  clearInterval(ticker);
  report();
  pump.close();
  await Promise.allSettled([parser.stop(), server.stop()]);
});

const fail = (what: string, err: unknown): void => {
  send({ kind: 'error', message: `${what}: ${err instanceof Error ? err.message : String(err)}` });
};
parser.on('error', (err: Error & { fatal?: boolean }) => {
  if (err.fatal === true) fail('parser', err);
});
pump.on('error', (err) => fail('pump', err));
pump.addSource(parser, cfg.destination);

process.on('message', (m) => {
  if ((m as { kind?: string }).kind !== 'go') return;
  const at = wallMs();
  parser.start().then(
    () => send({ kind: 'started', wallMs: at }),
    (err: unknown) => fail('parser start', err),
  );
});

try {
  const { port } = await server.start();
  // The destination serves as soon as it exists; entries arrive once the parser starts.
  state = 'running';
  send({ kind: 'ready', port });
} catch (err) {
  fail('server start', err);
}
