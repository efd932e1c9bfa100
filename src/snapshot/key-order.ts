// Key columns that ORDER BY sorts by number while `col > 'text'` compares them as text: ENUM
// (sorted by its index in the definition), SET (by its bit value) and BIT (by its value; its text
// is the raw bytes). A chunk resuming after such a key written as text skipped rows (an ENUM whose
// labels are not in alphabetical order) or read the same row forever (BIT). These columns resume
// after the number they sort by instead, written as digits: `col > 2` compares ENUM and SET by
// index and bit value, BIT by value, as their ORDER BY does.
import { Buffer } from 'node:buffer';
import { parseValueList } from '../parser/columns/enum-set.ts';
import type { KeyValue } from './chunk-reader.ts';

/** How a key column sorts when not as its text; undefined: as its text (or its number, for numbers). */
export type KeyOrder = { kind: 'enum' | 'set'; values: readonly string[] } | { kind: 'bit' } | undefined;

export function keyOrderOf(dataType: string, columnType: string): KeyOrder {
  if (dataType === 'enum' || dataType === 'set') return { kind: dataType, values: parseValueList(columnType) };
  if (dataType === 'bit') return { kind: 'bit' };
  return undefined;
}

/**
 * The resume value of a key column as it sorts: for ENUM, SET and BIT the number in digits (the
 * stored resume point keeps the value as read, label or bytes, so progress saved by any version
 * resumes the same way); other values unchanged.
 */
export function orderValue(order: KeyOrder, v: KeyValue, where: string): KeyValue {
  if (order === undefined || v === null) return v;
  if (order.kind === 'bit') {
    if (typeof v !== 'object') throw new Error(`snapshot of ${where}: the BIT key value to resume after is ${typeof v}, not bytes`);
    return v.hex === '' ? '0' : BigInt(`0x${v.hex}`).toString();
  }
  const text = typeof v === 'object' ? Buffer.from(v.hex, 'hex').toString('utf8') : String(v);
  if (order.kind === 'enum') {
    // '' is the invalid value, index 0, unless the definition lists '' itself
    const i = order.values.indexOf(text);
    if (i < 0 && text !== '') throw new Error(`snapshot of ${where}: the key value ${JSON.stringify(text)} to resume after is not one of the column's ENUM values; the column was altered: request the snapshot again`);
    return String(i + 1);
  }
  let mask = 0n;
  if (text !== '') {
    for (const label of text.split(',')) {
      const bit = order.values.indexOf(label);
      if (bit < 0) throw new Error(`snapshot of ${where}: the key value ${JSON.stringify(text)} to resume after is not made of the column's SET values; the column was altered: request the snapshot again`);
      mask |= 1n << BigInt(bit);
    }
  }
  return mask.toString();
}
