// keepRow remembers the table decision of the last row and reuses it for the next row of the
// same table and kind. On random sequences of rows and DDL over a few tables and random
// include/exclude lists, its answers must equal the table rule applied afresh to every entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventType } from '../../src/protocol/entry-model.ts';
import { EventSink } from '../../src/sink/event-sink.ts';
import { ddl, rows } from './entries.ts';

const filterArb = fc.constantFrom('', 'db\\..*', 'db\\.a', 'other\\..*,db\\.b', '.*\\..*');

test('keepRow with its remembered decision equals the table filters applied to each entry', () => {
  fc.assert(
    fc.property(
      filterArb,
      filterArb,
      fc.array(
        fc.record({
          ddl: fc.boolean(),
          schema: fc.constantFrom('db', 'other', ''),
          table: fc.constantFrom('a', 'b', ''),
          eventType: fc.constantFrom(EventType.INSERT, EventType.UPDATE, EventType.DELETE),
          also: fc.option(fc.constantFrom<string[]>(['db.a'], ['other.x']), { nil: undefined }),
        }),
        { maxLength: 60 },
      ),
      (include, exclude, specs) => {
        const sink = new EventSink({ include, exclude });
        specs.forEach((s, i) => {
          const e = s.ddl ? ddl({ offset: i }, s.schema, s.table, EventType.ALTER, 'ALTER TABLE x', s.also) : rows({ offset: i }, s.schema, s.table, s.eventType);
          if (!s.ddl && s.also !== undefined) e.alsoNames = s.also;
          const expected = sink.passes({
            entryType: e.entryType,
            eventType: e.rowChange!.eventType,
            isDdl: s.ddl,
            schema: s.schema,
            table: s.table,
            alsoNames: e.alsoNames,
          });
          assert.equal(sink.keepRow(e) !== undefined, expected, `entry ${i} (${s.schema}.${s.table}, ddl ${s.ddl})`);
        });
      },
    ),
    { numRuns: 500 },
  );
});
