// The stream breaks in the middle of a large transaction, after part of it was handed on: the
// reconnect replays the transaction from its start, drops what was already handed on, and the
// consumer sees every row once, in order, between one BEGIN and one END.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { EntryType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import type { EventParser } from '../../src/parser/event-parser.ts';
import { parserOn } from './helpers.ts';

// About 30 MB of binlog: far more than socket buffers hold while the consumer is paused.
const ROWS = 300_000;
let sb: Sandbox;
let parser: EventParser;

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(100))');
  parser = parserOn(sb, { kind: 'end' }, { heartbeatMs: 1000, backoff: { initialMs: 100, maxMs: 1000 } });
  await parser.start();
});

after(async () => {
  await parser?.stop();
  await sb?.cleanup();
});

test('a server killed while a paused consumer holds half a transaction: the rest arrives once, nothing repeats', async () => {
  let rows = 0;
  let outOfOrder = 0;
  let begins = 0;
  let ends = 0;
  let paused = false;
  let rowsAtBreak = -1;
  parser.on('state', (s: string) => {
    if (s === 'retrying' && rowsAtBreak < 0) rowsAtBreak = rows;
  });
  parser.on('entries', (es: ParsedEntry[]) => {
    for (const e of es) {
      if (e.entryType === EntryType.TRANSACTIONBEGIN) begins++;
      if (e.entryType === EntryType.TRANSACTIONEND) ends++;
      if (e.rowChange && !e.rowChange.isDdl && e.header.tableName === 'big') {
        for (const rd of e.rowChange.rowDatas) {
          if (Number(rd.afterColumns[0]!.value) !== rows + 1) outOfOrder++;
          rows++;
        }
        if (!paused) {
          paused = true;
          parser.pause();
        }
      }
    }
  });

  await sb.sql(`INSERT INTO big SELECT seq, REPEAT('p', 100) FROM seq_1_to_${ROWS}`);
  await waitFor(() => paused, 'the consumer to pause inside the transaction', 60_000);
  await sb.kill9();
  await sb.restart();
  parser.resume();
  await waitFor(() => ends === 1, 'the end of the transaction', 120_000);

  assert.ok(rowsAtBreak >= 0 && rowsAtBreak < ROWS, `the stream broke mid-transaction (after ${rowsAtBreak} rows)`);
  assert.equal(rows, ROWS);
  assert.equal(outOfOrder, 0);
  assert.equal(begins, 1, 'one TRANSACTIONBEGIN');
  assert.equal(ends, 1, 'one TRANSACTIONEND');
  assert.ok(parser.stats().reconnects >= 1);
});
