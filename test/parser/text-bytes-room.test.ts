// The text-bytes writers stay inside their builder's room: small builders share a slab, one
// reservation after the other, so a writer that checked the slab's end instead of its own room
// wrote into the next builder's cells (an update event's before image into its after image).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Cell, ImageBuilder } from '../../src/parser/columns/row-batch.ts';
import { putInteger, putUtf8 } from '../../src/parser/columns/text-bytes.ts';

test('putUtf8 and putInteger past a small builder first guess leave the builder after it intact', () => {
  // both small enough for the shared slab, the second reserved right after the first
  const first = new ImageBuilder(4, 64);
  const second = new ImageBuilder(4, 64);
  const long = Buffer.from('x'.repeat(100));
  const expected: string[] = [];
  for (let i = 0; i < 3; i++) {
    putUtf8(first, long, 0, long.length);
    first.end(Cell.VALUE);
    expected.push('x'.repeat(100));
    putInteger(first, -9007199254740991);
    first.end(Cell.VALUE);
    expected.push('-9007199254740991');
    second.text('y'.repeat(70), Cell.VALUE);
  }
  const a = first.finish();
  const b = second.finish();
  assert.deepEqual(
    expected.map((_, i) => a.text(i)),
    expected,
  );
  for (let i = 0; i < 3; i++) assert.equal(b.text(i), 'y'.repeat(70));
});
