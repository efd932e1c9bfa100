// `node --import tsx examples/search-index/postgres.ts`: a private PostgreSQL for the example, so
// it needs no server of its own and never touches a system one (5432). It is the server the tests
// start (test/support/postgres-sandbox.ts): its own temporary data directory, a free loopback port,
// trust authentication. Prints the PG_URL line to paste, then runs until Ctrl-C (or SIGTERM, or
// the terminal closing), which stops the server and deletes its files. Killed outright, the server
// still dies with this process (src/cli/parent-death.ts) and only the folder is left in the temp dir.
import { PostgresSandbox } from '../../test/support/postgres-sandbox.ts';

let pg: PostgresSandbox;
try {
  pg = await PostgresSandbox.start({ database: 'search' });
} catch (err) {
  process.stderr.write(`search-index postgres: ${(err as Error).message}\n`);
  process.exit(1);
}

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('stopping PostgreSQL and deleting its files\n');
  pg.cleanup().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`search-index postgres: cleanup failed: ${err.message} (folder ${pg.dir})\n`);
      process.exit(1);
    },
  );
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, stop);

const { host, port, user, database } = pg.config;
process.stdout.write(`export PG_URL=postgres://${user}@${host}:${port}/${database}\n`);
process.stderr.write(`private PostgreSQL on ${host}:${port} (data in ${pg.dir}); Ctrl-C stops it and deletes the files\n`);
// Keeps the process alive until a signal; the server itself is a child with its own handles.
setInterval(() => undefined, 1 << 30);
