// The feed's part of the chunk pipeline (src/snapshot/snapshot-feed.ts): a chunk read while the
// one before it waits goes out after it, never before, and fails with it (it continues from that
// chunk's last key, so it is read again too). A fake stream source stands in for the parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { SnapshotFeed, type StreamSource } from '../../src/snapshot/snapshot-feed.ts';
import type { Chunk } from '../../src/snapshot/chunk-reader.ts';
import { ChunkRetry } from '../../src/snapshot/chunk-reader.ts';
import { EntryType, EventType, entryPosition, type ParsedEntry } from '../../src/protocol/entry-model.ts';

const FILE = 'bin.000001';

class FakeSource extends EventEmitter implements StreamSource {
  pause(): void {}
  resume(): void {}
  /** not idle: chunks go out only at boundaries the stream passes */
  handedThrough(): undefined {
    return undefined;
  }
  boundary(at: number): void {
    this.emit('entries', [{ entryType: EntryType.TRANSACTIONEND, header: {}, position: entryPosition(FILE, at - 10, at, 1, 0, '', '') } as ParsedEntry]);
  }
  ddl(at: number, table: string): void {
    this.emit('entries', [{ entryType: EntryType.ROWDATA, header: { schemaName: 's', tableName: table }, rowChange: { eventType: EventType.ALTER, isDdl: true, rowDatas: [] }, position: entryPosition(FILE, at - 10, at, 1, 0, '', '') } as unknown as ParsedEntry]);
  }
}

/** A chunk of one row (key k) at binlog offset `at`; the rows themselves are never looked at here. */
function chunk(k: number, at: number): Chunk {
  return { shape: undefined as unknown as Chunk['shape'], rows: [{ beforeColumns: [], afterColumns: [] }], lastKey: [k], at: { file: FILE, offset: at } };
}

function feedWithLog(): { src: FakeSource; feed: SnapshotFeed; out: string[] } {
  const src = new FakeSource();
  const out: string[] = [];
  const feed = new SnapshotFeed(src, (_c, _keep, point, label) => [{ entryType: EntryType.TRANSACTIONEND, header: {}, position: entryPosition(point.file, point.offset, point.offset, 0, 0, `chunk-${label.seq}`, '') } as ParsedEntry], 1);
  feed.on('entries', (es) => {
    for (const e of es) out.push(e.position.gtid === '' ? `stream@${e.position.nextOffset}` : e.position.gtid);
  });
  return { src, feed, out };
}

test('a chunk read while the one before it waits goes out after it, at the first boundary past both', async () => {
  const { src, feed, out } = feedWithLog();
  const w1 = feed.open('s', 't', ['id'], 100);
  w1.label = { snapshotId: 'x', seq: 1 };
  feed.ready(w1, chunk(1, 200));
  const w2 = feed.open('s', 't', ['id'], 100, w1);
  assert.equal(w2.prev, w1, 'the first chunk still waits');
  w2.label = { snapshotId: 'x', seq: 2 };
  feed.ready(w2, chunk(2, 300));
  src.boundary(150);
  assert.deepEqual(out, ['stream@150'], 'neither chunk is due yet');
  src.boundary(250);
  assert.deepEqual(out, ['stream@150', 'stream@250', 'chunk-1'], 'the first one is due, the second not');
  const w3 = feed.open('s', 't', ['id'], 100, w1);
  assert.equal(w3.prev, undefined, 'a chunk already emitted holds nothing back');
  feed.close(w3);
  src.boundary(350);
  assert.deepEqual(out, ['stream@150', 'stream@250', 'chunk-1', 'stream@350', 'chunk-2']);
  assert.equal((await w1.done).point.offset, 250);
  assert.equal((await w2.done).point.offset, 350);
  feed.stop();
});

test('the second chunk waits for the first even when its own position is reached first', async () => {
  const { src, feed, out } = feedWithLog();
  const w1 = feed.open('s', 't', ['id'], 100);
  w1.label = { snapshotId: 'x', seq: 1 };
  const w2 = feed.open('s', 't', ['id'], 100, w1);
  w2.label = { snapshotId: 'x', seq: 2 };
  // (the manager never hands chunks in this order; the feed keeps the order anyway)
  feed.ready(w2, chunk(2, 100));
  src.boundary(150);
  assert.deepEqual(out, ['stream@150'], 'the chunk before it has no rows yet');
  feed.ready(w1, chunk(1, 120));
  src.boundary(160);
  assert.deepEqual(out, ['stream@150', 'stream@160', 'chunk-1', 'chunk-2']);
  feed.stop();
});

test('a chunk fails with the one before it, and both fail when a DDL changes their table', async () => {
  const { src, feed, out } = feedWithLog();
  // The stream had passed the first chunk's position before its window opened: it is read again.
  src.boundary(250);
  const w1 = feed.open('s', 't', ['id'], 100);
  feed.ready(w1, chunk(1, 200));
  await assert.rejects(w1.done, (e: Error) => e instanceof ChunkRetry && /the stream had passed/.test(e.message));
  const w2 = feed.open('s', 't', ['id'], 100, w1);
  feed.ready(w2, chunk(2, 300));
  await assert.rejects(w2.done, (e: Error) => e instanceof ChunkRetry && /the chunk read before it is read again/.test(e.message));

  const w3 = feed.open('s', 't', ['id'], 100);
  feed.ready(w3, chunk(3, 400));
  const w4 = feed.open('s', 't', ['id'], 100, w3);
  src.ddl(380, 't');
  await assert.rejects(w3.done, (e: Error) => e instanceof ChunkRetry && /DDL/.test(e.message));
  feed.ready(w4, chunk(4, 500));
  await assert.rejects(w4.done, ChunkRetry);
  src.boundary(600);
  assert.deepEqual(out, ['stream@250', 'stream@380', 'stream@600'], 'no chunk went out');
  feed.stop();
});
