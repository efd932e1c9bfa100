// The EventStore alone (issue 3's figure): entries per second through put, get and ack, with
// the config's default bounds and batch mode, on entries of a fixed serialized size. No parser and
// no encoding: the entries come with their bytes (tryPut's `encoded`, as destinations sharing a
// reader put them), so the slots, the batch bookkeeping and the byte accounting are measured.
import { EventStore } from '../../src/store/event-store.ts';
import { EntryType, EventType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import { STORE_DEFAULTS } from '../pipeline-defaults.ts';
import { boundWorker, cpuSeconds, runJob, workerConfig } from './worker-support.ts';
import type { StoreThroughputJob, StoreThroughputResult } from '../measures.ts';

const cfg = workerConfig<StoreThroughputJob>();
boundWorker();

function entry(i: number): ParsedEntry {
  // Every third entry closes a transaction, as in workload B, so ack positions are computed.
  const end = i % 3 === 2;
  const position = { file: 'binlog.000001', offset: 4 + i * 100, nextOffset: 104 + i * 100, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' };
  if (end) return { entryType: EntryType.TRANSACTIONEND, header: {}, end: {}, position };
  return { entryType: EntryType.ROWDATA, header: { schemaName: 'bench', tableName: 'bench_t', eventType: EventType.INSERT }, rowChange: { eventType: EventType.INSERT, isDdl: false, rowDatas: [] }, position };
}

await runJob<StoreThroughputResult>(async () => {
  const store = new EventStore(STORE_DEFAULTS);
  const bytes = new Uint8Array(cfg.itemBytes).fill(7);
  let put = 0;
  let acked = 0;
  let batches = 0;
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  while (acked < cfg.entries) {
    while (put < cfg.entries && store.tryPut(entry(put), bytes)) put++;
    const batch = await store.getBytes(cfg.batchSize, -1);
    if (batch === null) throw new Error(`store returned no batch with ${put - acked} entries unacknowledged`);
    acked += batch.entries.length;
    batches++;
    store.ack(batch.id);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { entries: acked, batches, seconds, cpuSeconds: cpuSeconds() - cpu0 };
});
