// The converter decides whether a table map can reuse the codec built for the previous map of its
// table id. It used to compare one signature string per map; it now compares field by field.
// On random pairs of table maps (equal, or differing in one place) both decisions agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ColumnSchema } from '@vlasky/zongji';
import { sameTableShape, tableShape } from '../../src/parser/event-converter.ts';

interface MapInput {
  schema: string;
  table: string;
  columnTypes: number[];
  columnSchemas: ColumnSchema[];
}

/** The signature string of the previous converter, reproduced from its last version. */
function referenceSignature(m: MapInput): string {
  const names = m.columnSchemas.map((c) => `${c.COLUMN_NAME}\u0002${c.COLUMN_TYPE}\u0002${c.UNSIGNED === true ? 'u' : ''}`).join('\u0000');
  return `${m.schema}\u0001${m.table}\u0001${m.columnTypes.join(',')}\u0001${names}`;
}

// The old separators never occur in identifiers MariaDB allows, so names leave them out here.
const ident = fc.string({ minLength: 1, maxLength: 6 }).filter((s) => ![...s].some((ch) => ch.charCodeAt(0) <= 2));
const columnType = fc.constantFrom('int(11)', 'int(10) unsigned', 'varchar(64)', 'decimal(12,2)', 'datetime(3)', 'text', 'bigint(20)');
const column = fc.record({
  name: fc.constantFrom('id', 'a', 'b', 'c'),
  type: columnType,
  unsigned: fc.constantFrom<boolean | undefined>(true, false, undefined),
  code: fc.constantFrom(3, 8, 15, 246, 18, 252),
});

const mapInput: fc.Arbitrary<MapInput> = fc
  .record({ schema: fc.constantFrom('s', 't'), table: fc.constantFrom('x', 'y'), cols: fc.array(column, { maxLength: 6 }) })
  .map(({ schema, table, cols }) => ({
    schema,
    table,
    columnTypes: cols.map((c) => c.code),
    columnSchemas: cols.map((c) => ({
      COLUMN_NAME: c.name,
      COLLATION_NAME: null,
      CHARACTER_SET_NAME: null,
      COLUMN_COMMENT: '',
      COLUMN_TYPE: c.type,
      ...(c.unsigned !== undefined ? { UNSIGNED: c.unsigned } : {}),
    })),
  }));

/** A second map: the same one as new objects (as zongji builds them), or one field changed. */
function variant(m: MapInput): fc.Arbitrary<MapInput> {
  const copy = (): MapInput => ({ ...m, columnTypes: [...m.columnTypes], columnSchemas: m.columnSchemas.map((c) => ({ ...c })) });
  const n = m.columnSchemas.length;
  const changes: fc.Arbitrary<MapInput>[] = [
    fc.constant(null).map(copy),
    ident.map((schema) => ({ ...copy(), schema })),
    ident.map((table) => ({ ...copy(), table })),
    column.map((c) => {
      const v = copy();
      v.columnTypes.push(c.code);
      v.columnSchemas.push({ COLUMN_NAME: c.name, COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: c.type });
      return v;
    }),
  ];
  if (n > 0) {
    const at = fc.integer({ min: 0, max: n - 1 });
    changes.push(
      fc.tuple(at, fc.constantFrom(3, 8, 15, 246)).map(([i, code]) => {
        const v = copy();
        v.columnTypes[i] = code;
        return v;
      }),
      fc.tuple(at, fc.constantFrom('id', 'a', 'z')).map(([i, name]) => {
        const v = copy();
        v.columnSchemas[i]!.COLUMN_NAME = name;
        return v;
      }),
      fc.tuple(at, columnType).map(([i, type]) => {
        const v = copy();
        v.columnSchemas[i]!.COLUMN_TYPE = type;
        return v;
      }),
      fc.tuple(at, fc.constantFrom<boolean | undefined>(true, false, undefined)).map(([i, unsigned]) => {
        const v = copy();
        const c = v.columnSchemas[i]!;
        if (unsigned === undefined) delete c.UNSIGNED;
        else c.UNSIGNED = unsigned;
        return v;
      }),
      fc.constant(null).map(() => {
        const v = copy();
        v.columnTypes.pop();
        v.columnSchemas.pop();
        return v;
      }),
    );
  }
  return fc.oneof(...changes);
}

test('the field-by-field table map comparison decides as the signature string did', () => {
  let same = 0;
  let differ = 0;
  fc.assert(
    fc.property(
      mapInput.chain((a) => fc.tuple(fc.constant(a), variant(a))),
      ([a, b]) => {
        const known = tableShape(a.schema, a.table, a.columnTypes, a.columnSchemas);
        const expected = referenceSignature(a) === referenceSignature(b);
        assert.equal(sameTableShape(known, b.schema, b.table, b.columnTypes, b.columnSchemas), expected);
        if (expected) same++;
        else differ++;
      },
    ),
    { numRuns: 2000 },
  );
  // Both outcomes must have been exercised for the agreement to mean anything.
  assert.ok(same > 100 && differ > 100, `equal maps ${same}, different maps ${differ}`);
});

test('the copy a codec keeps does not follow later changes to zongji objects', () => {
  const cols: ColumnSchema[] = [{ COLUMN_NAME: 'id', COLLATION_NAME: null, CHARACTER_SET_NAME: null, COLUMN_COMMENT: '', COLUMN_TYPE: 'int(11)' }];
  const types = [3];
  const known = tableShape('s', 'x', types, cols);
  cols[0]!.COLUMN_TYPE = 'bigint(20)';
  types[0] = 8;
  assert.equal(sameTableShape(known, 's', 'x', types, cols), false);
  assert.equal(sameTableShape(known, 's', 'x', [3], [{ ...cols[0]!, COLUMN_TYPE: 'int(11)' }]), true);
});
