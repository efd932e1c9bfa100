// ImageBuilder (src/parser/columns/row-batch.ts): builders filled in any interleaving, small ones
// sharing slabs and large ones growing out of them, each give back exactly the cells put in,
// also after many more builders have come and gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { Cell, ImageBuilder, type Image } from '../../src/parser/columns/row-batch.ts';
import { wellFormed } from '../../src/parser/columns/bytes.ts';

type CellIn = { kind: 'text'; s: string; flag: number } | { kind: 'copy'; s: string } | { kind: 'null' } | { kind: 'absent' } | { kind: 'bytes'; s: string; cut: boolean };

// Canal texts are well-formed (the cell readers make them so)
const str = (max: number, min = 0): fc.Arbitrary<string> => fc.string({ unit: 'binary', minLength: min, maxLength: max }).map(wellFormed);
const cellArb: fc.Arbitrary<CellIn> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), s: fc.oneof(str(20), str(3000, 40)), flag: fc.constantFrom(Cell.VALUE, Cell.PROMOTED, Cell.VALUE | Cell.UPDATED) }),
  fc.record({ kind: fc.constant('copy' as const), s: fc.string({ unit: 'grapheme', maxLength: 200 }) }),
  fc.record({ kind: fc.constant('null' as const) }),
  fc.record({ kind: fc.constant('absent' as const) }),
  // written at buf[pos] after room(), then maybe dropped with rewind() and ended as NULL
  fc.record({ kind: fc.constant('bytes' as const), s: str(5000), cut: fc.boolean() }),
);

/** What a cell reads back as: its flag and text. */
function expected(c: CellIn): [number, string] {
  switch (c.kind) {
    case 'text':
      return [c.flag, c.s];
    case 'copy':
      return [Cell.VALUE, c.s];
    case 'null':
      return [Cell.NULL, ''];
    case 'absent':
      return [Cell.ABSENT, ''];
    case 'bytes':
      return c.cut ? [Cell.NULL, ''] : [Cell.VALUE, c.s];
  }
}

function add(b: ImageBuilder, c: CellIn): void {
  switch (c.kind) {
    case 'text':
      b.text(c.s, c.flag);
      return;
    case 'copy': {
      const src = Buffer.concat([Buffer.from('xy'), Buffer.from(c.s)]);
      b.copy(src, 2, src.length, Cell.VALUE);
      return;
    }
    case 'null':
      b.nullCell();
      return;
    case 'absent':
      b.absentCell();
      return;
    case 'bytes': {
      const bytes = Buffer.from(c.s);
      b.room(bytes.length);
      bytes.copy(b.buf, b.pos);
      b.pos += bytes.length;
      if (c.cut) {
        b.rewind();
        b.nullCell();
      } else {
        b.end(Cell.VALUE);
      }
    }
  }
}

function readBack(image: Image): [number, string][] {
  const out: [number, string][] = [];
  for (let at = 0; at < image.cells; at++) out.push([image.flag(at), image.text(at)]);
  return out;
}

test('image builders: interleaved, shared or grown, each image holds exactly its cells', () => {
  const script = fc.record({
    builders: fc.array(fc.record({ cells: fc.integer({ min: 0, max: 300 }), bytes: fc.integer({ min: 0, max: 20000 }) }), { minLength: 1, maxLength: 4 }),
    steps: fc.array(fc.tuple(fc.nat(), cellArb), { maxLength: 200 }),
    churn: fc.integer({ min: 0, max: 3000 }),
    finishOrder: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  });
  fc.assert(
    fc.property(script, ({ builders, steps, churn, finishOrder }) => {
      const open = builders.map((g) => new ImageBuilder(g.cells, g.bytes));
      const cells: CellIn[][] = open.map(() => []);
      for (const [which, c] of steps) {
        const i = which % open.length;
        add(open[i]!, c);
        cells[i]!.push(c);
      }
      const images: Image[] = new Array(open.length);
      const order = open.map((_, i) => i).sort((x, y) => finishOrder[x]! - finishOrder[y]! || x - y);
      for (const i of order) images[i] = open[i]!.finish();
      // other builders reuse the slabs' free room afterwards
      for (let k = 0; k < churn; k++) {
        const b = new ImageBuilder(8, 100);
        for (let c = 0; c < 8; c++) b.text('zzzzzzzz', Cell.VALUE);
        b.finish();
      }
      images.forEach((image, i) => assert.deepEqual(readBack(image), cells[i]!.map(expected), `image ${i}`));
    }),
    { numRuns: 300 },
  );
});
