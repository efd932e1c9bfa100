// Protobuf base-128 varints for non-negative integers up to 2^53 (batch ids, frame and entry
// lengths), for the places that lay out packets by hand.

export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  for (n = Math.floor(n / 0x800000000); n >= 1; n = Math.floor(n / 0x80)) size++;
  return size;
}

/** Writes `n` at `at`; returns the offset after it. */
export function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}
