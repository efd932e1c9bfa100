// The EventStore alone (issue 3's figure): entries per second through put, get and ack, with
// the config's default bounds and batch mode, on items of a fixed serialized size. No parser and
// no encoding: only the ring, the batch bookkeeping and the byte accounting are measured.
import { EventStore } from '../../src/store/event-store.ts';
import type { StoreItem } from '../../src/store/store-item.ts';
import { EntryType, EventType } from '../../src/protocol/entry-model.ts';
import { STORE_DEFAULTS } from '../pipeline-defaults.ts';
import { boundWorker, cpuSeconds, runJob, workerConfig } from './worker-support.ts';
import type { StoreThroughputJob, StoreThroughputResult } from '../measures.ts';

const cfg = workerConfig<StoreThroughputJob>();
boundWorker();

function item(i: number, bytes: Uint8Array): StoreItem {
  // Every third item closes a transaction, as in workload B, so ack positions are computed.
  const end = i % 3 === 2;
  return {
    bytes,
    position: { file: 'binlog.000001', offset: 4 + i * 100, nextOffset: 104 + i * 100, serverId: 1, timestamp: 0, gtid: '', gtidSet: '' },
    entryType: end ? EntryType.TRANSACTIONEND : EntryType.ROWDATA,
    ...(end ? {} : { eventType: EventType.INSERT }),
    isDdl: false,
    schema: 'bench',
    table: 'bench_t',
    boundary: end,
  };
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
    while (put < cfg.entries && store.tryPut(item(put, bytes))) put++;
    const batch = await store.get(cfg.batchSize, -1);
    if (batch === null) throw new Error(`store returned no batch with ${put - acked} entries unacknowledged`);
    acked += batch.items.length;
    batches++;
    store.ack(batch.id);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { entries: acked, batches, seconds, cpuSeconds: cpuSeconds() - cpu0 };
});
