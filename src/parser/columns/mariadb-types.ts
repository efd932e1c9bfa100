// MariaDB's own column types that ride on BINARY(n) in the binlog. Under binlog_row_metadata=FULL
// zongji hands over their raw bytes; these render them as the server prints them.

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function requireLength(bytes: Uint8Array, length: number, type: string): void {
  if (bytes.length !== length) throw new Error(`${type} value has ${bytes.length} bytes, expected ${length}`);
}

/** UUID: 32 lower-case hex digits in 8-4-4-4-12 groups, bytes in stored order. */
export function formatUuid(bytes: Uint8Array): string {
  requireLength(bytes, 16, 'UUID');
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[bytes[i]!];
  }
  return s;
}

/** INET4: dotted decimal. */
export function formatInet4(bytes: Uint8Array): string {
  requireLength(bytes, 4, 'INET4');
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * INET6 the way MariaDB prints it: lower-case hex words without leading zeros; the first longest
 * run of zero words (even a single one) becomes "::"; IPv4-compatible (::a.b.c.d) and
 * IPv4-mapped (::ffff:a.b.c.d) addresses end in dotted decimal.
 */
export function formatInet6(bytes: Uint8Array): string {
  requireLength(bytes, 16, 'INET6');
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (bytes[2 * i]! << 8) | bytes[2 * i + 1]!;

  let gapPos = -1;
  let gapLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > gapLen) {
      gapPos = i;
      gapLen = j - i;
    }
    i = j;
  }

  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === gapPos) {
      s += i === 0 ? '::' : ':';
      i += gapLen - 1;
    } else if (i === 6 && gapPos === 0 && (gapLen === 6 || (gapLen === 5 && words[5] === 0xffff))) {
      return s + `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
    } else {
      s += words[i]!.toString(16);
      if (i !== 7) s += ':';
    }
  }
  return s;
}
