// sluice in a child process for the kill tests: one Instance and a Canal server, from JSON
// options in argv[2]. Prints one JSON line {"port":N,"state":"..."} on stdout once listening.
// SIGTERM stops it cleanly (cursors written); SIGKILL is what the tests send.
import pino from 'pino';
import type { InstanceConfig } from '../../../src/config/types.ts';
import { Instance } from '../../../src/instance/instance.ts';
import { CanalServer } from '../../../src/server/canal-server.ts';
import { MapRegistry } from '../../../src/server/registry.ts';

interface RunnerOptions {
  config: InstanceConfig;
  dataDir: string;
  flushIntervalMs: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as RunnerOptions;
// Warnings and errors to stderr, so a failing test shows why sluice misbehaved.
const logger = pino({ level: 'warn' }, pino.destination(2));
const instance = new Instance({ config: opts.config, dataDir: opts.dataDir, flushIntervalMs: opts.flushIntervalMs, logger });
await instance.start();
const server = new CanalServer({ port: 0, destinations: new MapRegistry([instance]), logger });
const { port } = await server.start();
process.stdout.write(JSON.stringify({ port, state: instance.status().state, error: instance.status().error }) + '\n');

process.once('SIGTERM', () => {
  void (async () => {
    await server.stop();
    await instance.stop();
    process.exit(0);
  })();
});
