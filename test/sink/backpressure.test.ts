// The real parser on a private MariaDB, through the sink and pump into a small store: a consumer
// that stops acknowledging must stall the parser (bounded memory, the backlog stays in the
// binlog), and once it acknowledges again every row must arrive exactly once, in binlog order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventParser } from '../../src/parser/event-parser.ts';
import { decodeEntry } from '../../src/protocol/entry-codec.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { Pump } from '../../src/sink/pump.ts';
import { EventStore } from '../../src/store/event-store.ts';
import { getItems, type ItemBatch } from '../store/items.ts';
import { Sandbox, waitFor } from '../support/sandbox.ts';

const ROWS = 6000;
const MAX_ENTRIES = 256;
const MAX_BYTES = 24 * 1024;
const PARSER_MAX_BUFFERED = 1000;

/** The `id` of every row in a batch, read back from the stored bytes. */
function ids(batch: ItemBatch): number[] {
  const out: number[] = [];
  for (const item of batch.items) {
    const e = decodeEntry(item.bytes);
    if (e.header.tableName !== 'backlog' || e.rowChange === undefined || e.rowChange.isDdl) continue;
    for (const r of e.rowChange.rowDatas) out.push(Number(r.afterColumns.find((c) => c.name === 'id')!.value));
  }
  return out;
}

test('backpressure: a consumer that stops acking pauses the real parser with bounded memory; after it acks again every row arrives once, in order', async () => {
  const sb = await Sandbox.start();
  let parser: EventParser | undefined;
  try {
    await sb.sql('CREATE TABLE backlog (id INT PRIMARY KEY, pad VARCHAR(255) NOT NULL)');
    await sb.sql('CREATE TABLE other (id INT PRIMARY KEY)');
    const [start] = await sb.sql<{ File: string; Position: number }[]>('SHOW MASTER STATUS');
    // Mostly single-row transactions (the expensive case: three entries per row), some larger
    // ones, and rows of a table the filter drops, which leave empty transactions behind.
    await sb.sql(`CREATE PROCEDURE fill(n INT)
      BEGIN
        DECLARE i INT DEFAULT 0;
        WHILE i < n DO
          IF i % 500 = 499 THEN
            START TRANSACTION;
            INSERT INTO backlog VALUES (i, REPEAT('y', 200));
            INSERT INTO other VALUES (i);
            COMMIT;
          ELSE
            INSERT INTO backlog VALUES (i, REPEAT('x', 200));
          END IF;
          IF i % 1000 = 0 THEN INSERT INTO other VALUES (-1 - i); END IF;
          SET i = i + 1;
        END WHILE;
      END`);
    await sb.sql('CALL fill(?)', [ROWS]);
    const [backlogEnd] = await sb.sql<{ File: string; Position: number }[]>('SHOW MASTER STATUS');

    const store = new EventStore({ maxEntries: MAX_ENTRIES, maxBytes: MAX_BYTES, batchMode: 'ITEMSIZE' });
    const pump = new Pump(new EventSink({ include: 'sluice_test\\.backlog' }), store);
    parser = new EventParser({ ...sb.replConfig, slaveId: 7000 + (process.pid % 1000), start: { kind: 'position', file: start!.File, offset: Number(start!.Position) }, heartbeatMs: 2000, timezone: 'UTC', maxBuffered: PARSER_MAX_BUFFERED });
    const errors: Error[] = [];
    parser.on('error', (err: Error) => errors.push(err));
    pump.on('error', (err: Error) => errors.push(err));

    // Watch the bounds on every entry the parser hands on, not just at the moments we look.
    let maxEntries = 0;
    let maxBytes = 0;
    let maxParserBuffered = 0;
    parser.on('entries', () => {
      const s = store.stats();
      maxEntries = Math.max(maxEntries, s.entries);
      if (s.entries > 1) maxBytes = Math.max(maxBytes, s.bytes);
      maxParserBuffered = Math.max(maxParserBuffered, parser!.stats().buffered);
    });
    pump.addSource(parser, 'sandbox');
    await parser.start();

    const seen: number[] = [];
    // 1. A consumer that acknowledges: the first 500 rows.
    await waitFor(
      async () => {
        const b = await getItems(store, 64, 200);
        if (b !== null) {
          seen.push(...ids(b));
          store.ack(b.id);
        }
        return seen.length >= 500;
      },
      'the first 500 rows',
      60_000,
      0,
    );

    // 2. It stops acknowledging but keeps taking batches: the store fills and the parser pauses.
    const held: ItemBatch[] = [];
    await waitFor(
      async () => {
        const b = await getItems(store, 64, -1);
        if (b !== null) {
          held.push(b);
          seen.push(...ids(b));
        }
        const src = pump.stats()[0]!;
        return b === null && src.paused && src.pending > 0;
      },
      'the store to fill and the pump to pause the parser',
      60_000,
      0,
    );
    const stalled = parser.stats();
    const s = store.stats();
    assert.equal(s.outstandingBatches, held.length);
    assert.ok(s.entries <= MAX_ENTRIES && s.bytes <= MAX_BYTES, `store within bounds while stalled: ${JSON.stringify(s)}`);
    assert.ok(
      stalled.file < backlogEnd!.File || (stalled.file === backlogEnd!.File && stalled.offset < Number(backlogEnd!.Position)),
      `the parser stopped reading at ${stalled.file}:${stalled.offset}, before the backlog's end ${backlogEnd!.File}:${backlogEnd!.Position}`,
    );
    assert.ok(seen.length < ROWS, `only part of the backlog was read (${seen.length} of ${ROWS} rows)`);

    // 3. It acknowledges again: what it holds, then everything else.
    for (const b of held) store.ack(b.id);
    await waitFor(
      async () => {
        const b = await getItems(store, 200, 200);
        if (b !== null) {
          seen.push(...ids(b));
          store.ack(b.id);
        }
        return seen.length >= ROWS;
      },
      `all ${ROWS} rows`,
      120_000,
      0,
    );

    assert.deepEqual(errors, []);
    assert.equal(seen.length, ROWS, 'no row twice');
    assert.deepEqual(seen, Array.from({ length: ROWS }, (_, i) => i), 'every row once, in binlog order');
    assert.ok(maxEntries <= MAX_ENTRIES, `store entries peaked at ${maxEntries}`);
    assert.ok(maxBytes <= MAX_BYTES, `store bytes peaked at ${maxBytes}`);
    assert.ok(parser.stats().maxBufferedSeen <= PARSER_MAX_BUFFERED, `parser queue peaked at ${parser.stats().maxBufferedSeen} entries`);
    assert.ok(maxParserBuffered <= PARSER_MAX_BUFFERED);
    assert.ok(pump.stats()[0]!.emptyTransactionsSuppressed > 0, 'transactions of the filtered table were dropped');
    pump.close();
  } finally {
    await parser?.stop();
    await sb.cleanup();
  }
});
