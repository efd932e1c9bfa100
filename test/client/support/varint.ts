// Hand-laid protobuf bytes for client tests: layouts and values that sluice's own writer never produces.

/** A protobuf varint of the 64-bit two's complement of `n`. */
export function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
