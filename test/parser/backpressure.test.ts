// A one-million-row transaction streams through a paused consumer: the parser stops reading the
// socket, holds only what was already decoded (bounded), and after resume delivers every row in order.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, waitFor } from '../support/sandbox.ts';
import { EventType, type ParsedEntry } from '../../src/protocol/entry-model.ts';
import type { EventParser } from '../../src/parser/event-parser.ts';
import { parserOn } from './helpers.ts';

const ROWS = 1_000_000;
const BOUND = 50;
let sb: Sandbox;
let parser: EventParser;

before(async () => {
  sb = await Sandbox.start();
  await sb.sql('CREATE TABLE big (id INT PRIMARY KEY, tag CHAR(4))');
  parser = parserOn(sb, { kind: 'end' }, { maxBuffered: BOUND, heartbeatMs: 2000 });
  await parser.start();
});

after(async () => {
  await parser?.stop();
  await sb?.cleanup();
});

test('a million-row transaction while the consumer is paused: bounded buffer, then every row in order', async () => {
  let rows = 0;
  let expectNext = 1;
  let outOfOrder = 0;
  let pausedOnce = false;
  let ended = false;
  parser.on('entries', (es: ParsedEntry[]) => {
    for (const e of es) {
      if (e.rowChange && e.rowChange.eventType === EventType.INSERT && e.header.tableName === 'big') {
        for (const rd of e.rowChange.rowDatas) {
          if (Number(rd.afterColumns[0]!.value) !== expectNext) outOfOrder++;
          expectNext++;
          rows++;
        }
        // The slow consumer: stop taking entries as soon as the transaction starts arriving.
        if (!pausedOnce) {
          pausedOnce = true;
          parser.pause();
        }
      }
      if (e.entryType === 3 && rows > 0) ended = true;
    }
  });

  await sb.sql(`INSERT INTO big SELECT seq, 'abcd' FROM seq_1_to_${ROWS}`);
  const end = await parser.sourceEnd();
  await waitFor(() => pausedOnce, 'the first rows to reach the consumer', 60_000);

  // Watch the paused parser for a while: it must stay far behind the source and within its bound.
  let looks = 0;
  await waitFor(
    () => {
      const s = parser.stats();
      assert.ok(s.buffered <= BOUND, `buffered ${s.buffered} exceeds the bound ${BOUND}`);
      assert.ok(s.offset < end.offset, 'the paused parser has not read to the end');
      return ++looks >= 40;
    },
    'the observation window',
    30_000,
    50,
  );
  const whilePaused = parser.stats();
  assert.ok(rows < ROWS / 2, `only a little was delivered before the pause took hold (${rows})`);
  assert.ok(end.offset - whilePaused.offset > 5_000_000, 'megabytes of binlog wait unread on the socket');

  parser.resume();
  await waitFor(() => ended, 'the transaction end after resume', 120_000);
  assert.equal(rows, ROWS);
  assert.equal(outOfOrder, 0);
  assert.ok(parser.stats().maxBufferedSeen <= BOUND, `at most ${BOUND} entries were ever held (saw ${parser.stats().maxBufferedSeen})`);
  assert.equal(parser.stats().buffered, 0);
});
