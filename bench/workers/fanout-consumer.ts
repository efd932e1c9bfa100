// The consumers of the fan-out bench: one raw wire consumer (bench/wire-consumer.ts) per
// destination, all in this one process, each reading its destination until the sentinel.
// Reports when all are subscribed and when every one has seen the sentinel.
import { consumeRaw, type WireConsumerResult } from '../wire-consumer.ts';
import { boundWorker, runJob, send, workerConfig } from './worker-support.ts';

interface FanoutConsumerJob {
  port: number;
  destinations: string[];
  user: string;
  password: string;
  batchSize: number;
  getTimeoutMs: number;
  sentinelTable: string;
  deadlineMs: number;
}

const job = workerConfig<FanoutConsumerJob>();
boundWorker();
let subscribed = 0;
await runJob(async (): Promise<{ results: WireConsumerResult[] }> => {
  const results = await Promise.all(
    job.destinations.map((destination, k) =>
      consumeRaw({
        port: job.port,
        destination,
        user: job.user,
        password: job.password,
        clientId: String(1001 + k),
        batchSize: job.batchSize,
        sentinelTable: job.sentinelTable,
        getTimeoutMs: job.getTimeoutMs,
        deadlineMs: job.deadlineMs,
        onSubscribed: () => {
          if (++subscribed === job.destinations.length) send({ kind: 'subscribed' });
        },
      }),
    ),
  );
  return { results };
});
