// ENUM and SET values as Canal sends them: the ENUM's 1-based index (0 for the invalid value '')
// and the SET's bitmask, both as decimal strings. zongji decodes them into labels, so we map
// the labels back with the column's value list.

/** Splits enum('a','b''c') / set(...) into its values (quotes doubled inside values). */
export function parseValueList(columnType: string): string[] {
  const open = columnType.indexOf('(');
  const values: string[] = [];
  let i = open + 1;
  while (open >= 0 && i < columnType.length && columnType[i] === "'") {
    let v = '';
    i++;
    for (;;) {
      const c = columnType[i];
      if (c === undefined) throw new Error(`unterminated value in column type ${columnType}`);
      if (c === "'") {
        if (columnType[i + 1] === "'") {
          v += "'";
          i += 2;
          continue;
        }
        i++;
        break;
      }
      if (c === '\\' && i + 1 < columnType.length) {
        v += columnType[i + 1];
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    values.push(v);
    if (columnType[i] === ',') i++;
  }
  return values;
}

/** enum('a','b') / set('a','b') as SHOW CREATE TABLE writes it. */
export function valueListType(keyword: 'enum' | 'set', values: readonly string[]): string {
  return `${keyword}(${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`;
}

export class EnumIndex {
  private readonly byLabel = new Map<string, number>();
  private readonly column: string;

  constructor(column: string, values: readonly string[]) {
    this.column = column;
    values.forEach((v, i) => this.byLabel.set(v, i + 1));
  }

  /** zongji gives undefined for the invalid value '' (index 0). */
  index(label: unknown): string {
    if (label === undefined) return '0';
    const i = this.byLabel.get(label as string);
    if (i === undefined) throw new Error(`ENUM column ${this.column}: value '${String(label)}' is not in its value list`);
    return String(i);
  }
}

export class SetMask {
  private readonly bitByLabel = new Map<string, bigint>();
  private readonly column: string;

  constructor(column: string, values: readonly string[]) {
    this.column = column;
    values.forEach((v, i) => this.bitByLabel.set(v, 1n << BigInt(i)));
  }

  /** zongji gives the member labels joined by commas ('' for the empty set); SET members cannot contain commas. */
  mask(labels: unknown): string {
    if (labels === '') return '0';
    let mask = 0n;
    for (const label of String(labels).split(',')) {
      const bit = this.bitByLabel.get(label);
      if (bit === undefined) throw new Error(`SET column ${this.column}: member '${label}' is not in its value list`);
      mask |= bit;
    }
    return mask.toString();
  }
}
