// Child process for the crash test: rewrites one meta.dat as fast as it can, each version with
// a growing cursor, and reports on stdout how many writes completed, until it is killed.
import { MetaStore } from '../../../src/meta/meta-store.ts';

const [dataDir, destination] = process.argv.slice(2) as [string, string];
const meta = await MetaStore.open({ dataDir, destination, flushIntervalMs: 0, source: { address: '127.0.0.1', port: 3306 } });
meta.subscribe('1001', '.*\\..*');
// A long filter makes each file big enough that a torn write would be visible.
meta.subscribe('1002', 'x'.repeat(20_000));
for (let i = 1; ; i++) {
  meta.setCursor('1001', { journalName: 'binlog.000001', position: i, nextPosition: i + 1, serverId: 1, timestamp: i * 1000, gtid: `0-1-${i}` });
  await meta.flush();
  if (i % 20 === 0) process.stdout.write(`${i}\n`);
}
