// Every example and pitfall of Canal's table filter syntax (docs/sink-and-store.md, Table filters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterError, TableFilter, splitFilterText } from '../../src/config/table-filter.ts';

const inc = (text: string): TableFilter => TableFilter.compile(text, 'canal.instance.filter.regex', 'include');

test('filter: the examples of the Canal filter syntax', () => {
  for (const everything of ['.*', '.*\\..*']) {
    const f = inc(everything);
    assert.ok(f.test('canal', 'test1') && f.test('mysql', 'user') && f.test('a', 'b'), everything);
  }
  const schema = inc('canal\\..*');
  assert.ok(schema.test('canal', 't'));
  assert.ok(!schema.test('canal2', 't'));
  assert.ok(!schema.test('other', 'canal'));

  const prefix = inc('canal\\.canal.*');
  assert.ok(prefix.test('canal', 'canal') && prefix.test('canal', 'canal_orders'));
  assert.ok(!prefix.test('canal', 'orders_canal'));

  const one = inc('canal\\.test1');
  assert.ok(one.test('canal', 'test1'));
  assert.ok(!one.test('canal', 'test10'), 'full match, not a prefix');
  assert.ok(!one.test('xcanal', 'test1'), 'full match, not a suffix');

  const several = inc('canal\\..*,mysql\\.test1,mysql\\.test2');
  assert.ok(several.test('canal', 'x') && several.test('mysql', 'test1') && several.test('mysql', 'test2'));
  assert.ok(!several.test('mysql', 'test3'));
});

test('filter pitfall: an unescaped dot matches any character (and is warned about)', () => {
  const f = inc('db.t1');
  assert.ok(f.test('db', 't1'));
  assert.ok(f.testName('dbxt1'), 'db.t1 also matches dbxt1, as in Canal');
  assert.ok(!inc('db\\.t1').testName('dbxt1'));
  assert.match(f.warnings().join('\n'), /unescaped dot/);
  assert.deepEqual(inc('db\\.t1').warnings(), []);
});

test('filter pitfall: pieces are not trimmed, so a space after a comma breaks that piece', () => {
  const f = inc('a\\.b, c\\.d');
  assert.ok(f.test('a', 'b'));
  assert.ok(!f.test('c', 'd'), '" c\\.d" starts with a space and matches no table name');
  assert.deepEqual([...f.pieces].sort(), [' c\\.d', 'a\\.b'].sort());
  assert.match(f.warnings().join('\n'), /whitespace/);
});

test('filter pitfall: case-insensitive both ways (pattern and name)', () => {
  assert.ok(inc('Canal\\.Orders').test('canal', 'orders'));
  assert.ok(inc('canal\\.orders').test('CANAL', 'Orders'));
  assert.ok(inc('CANAL\\..*').test('Canal', 'X'));
});

test('filter: a comma inside {} [] () or after a backslash does not split (Canal master behaviour)', () => {
  assert.deepEqual(splitFilterText('db\\.t\\d{1,2},x\\.y'), ['db\\.t\\d{1,2}', 'x\\.y']);
  const f = inc('db\\.t\\d{1,2}');
  assert.ok(f.test('db', 't1') && f.test('db', 't42'));
  assert.ok(!f.test('db', 't123'));
  assert.deepEqual(splitFilterText('db\\.(a,b)'), ['db\\.(a,b)']);
  assert.deepEqual(splitFilterText('db\\.[,x]'), ['db\\.[,x]']);
  assert.deepEqual(splitFilterText('db\\.a\\,b'), ['db\\.a\\,b']);
  assert.deepEqual(splitFilterText(',a,,b,'), ['a', 'b'], 'empty pieces dropped');
});

test('filter: pieces are sorted longest first; dot-all flag applies', () => {
  const f = inc('a\\.x,bbbb\\.c,cc\\.dd');
  assert.deepEqual(f.pieces, ['bbbb\\.c', 'cc\\.dd', 'a\\.x']);
  assert.ok(inc('a\\..*').testName('a.x\ny'), 'dot matches a newline');
});

test('filter: empty pattern or empty name gives true for include, false for exclude', () => {
  const include = TableFilter.compile('', 'canal.instance.filter.regex', 'include');
  const exclude = TableFilter.compile('', 'canal.instance.filter.black.regex', 'exclude');
  assert.equal(include.test('a', 'b'), true);
  assert.equal(exclude.test('a', 'b'), false);
  assert.equal(TableFilter.compile('a\\.b', 'k', 'include').testName(''), true);
  assert.equal(TableFilter.compile('a\\.b', 'k', 'exclude').testName(''), false);
  assert.match(include.describe(), /empty, every table/);
  assert.match(exclude.describe(), /empty, no table/);
});

test('filter: a bad regex is a FilterError naming the key, the piece and the regex error', () => {
  assert.throws(
    () => TableFilter.compile('good\\.one,bad\\.(x', 'canal.instance.filter.black.regex', 'exclude'),
    (e: unknown) => {
      assert.ok(e instanceof FilterError);
      assert.equal(e.key, 'canal.instance.filter.black.regex');
      assert.equal(e.piece, 'bad\\.(x');
      assert.match(e.message, /^canal\.instance\.filter\.black\.regex: the filter piece "bad\\\\\.\(x" is not a valid regex \(.*Unterminated group/);
      return true;
    },
  );
});

test('filter: describe() shows each regex as applied', () => {
  assert.equal(inc('a\\.b,cc\\.d').describe(), 'canal.instance.filter.regex (include): "cc\\\\.d" | "a\\\\.b"');
});
