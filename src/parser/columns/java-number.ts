// FLOAT and DOUBLE values as Java's Float.toString / Double.toString print them on the JDKs Canal
// servers run on (8 to 17), because Canal builds Column.value with String.valueOf on the boxed value.
//
// Those JDKs do not always print the shortest decimal that reads back (JDK 19 and later do): their
// digit loop (Steele & White's, with a symmetric stopping test and a few shortcuts) sometimes
// keeps one digit more, e.g. 1.17549435E-38 for the smallest normal float, 9.999999999999999E22
// for 1.0E23. This module follows that algorithm step for step, including where its int and long
// shortcuts wrap around and where its three arithmetic paths compare differently, so the digits
// are the same. The layout is plain for 1e-3 <= |v| < 1e7, with at least one fraction digit
// ("100.0"), and computerized scientific otherwise ("1.0E10", "1.0E-5").

const EXP_SHIFT = 52;
const SINGLE_EXP_SHIFT = 23;
const MAX_SMALL_BIN_EXP = 62;
const MIN_SMALL_BIN_EXP = -21;
/** 5^0 .. 5^27: the powers of five a long holds (the table the long shortcuts index) */
const LONG_5_POW_LENGTH = 28;
/** 5^0 .. 5^13: the powers of five an int holds */
const SMALL_5_POW_LENGTH = 14;
/** about ceil(log2(5^i)) */
const N_5_BITS = [0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56, 59, 61];
/** decimal digits of 2^i that are below a value's precision */
const INSIGNIFICANT_DIGITS_FOR_POW2 = [
  0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13,
  13, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19,
];

/** Digits and decimal exponent: the value is 0.d1d2d3... × 10^decExponent. */
interface Digits {
  digits: number[];
  decExponent: number;
}

const i32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const i64 = (x: bigint): bigint => BigInt.asIntN(64, x);

/** Java's `/` on integers: truncation toward zero (BigInt division already truncates). */
function pow5(n: number): bigint {
  return 5n ** BigInt(n);
}

function trailingZeros(x: bigint): number {
  let n = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}

/** floor(log10) estimate from the leading bits, as the JDK computes it (in double arithmetic). */
function estimateDecExp(fractBits: bigint, binExp: number): number {
  const f64 = new Float64Array(1);
  const bits = new BigUint64Array(f64.buffer);
  bits[0] = 0x3ff0000000000000n | (fractBits & 0xfffffffffffffn);
  const d2 = f64[0]!;
  const d = (d2 - 1.5) * 0.289529654 + 0.176091259 + binExp * 0.301029995663981;
  return Math.floor(d);
}

/** The easy case: an integer value whose digits a long holds, less those below its precision. */
function developLongDigits(lvalue: bigint, insignificant: number): Digits {
  let decExponent = 0;
  if (insignificant !== 0) {
    const pow10 = 10n ** BigInt(insignificant);
    const residue = lvalue % pow10;
    lvalue /= pow10;
    decExponent += insignificant;
    if (residue >= pow10 >> 1n) lvalue++;
  }
  let text = lvalue.toString();
  let stripped = text.length;
  while (stripped > 1 && text.charCodeAt(stripped - 1) === 48) stripped--;
  decExponent += text.length;
  text = text.slice(0, stripped);
  return { digits: [...text].map((c) => c.charCodeAt(0) - 48), decExponent };
}

function roundup(r: Digits): void {
  const d = r.digits;
  let i = d.length - 1;
  while (i >= 0 && d[i] === 9) {
    if (i === 0) {
      d[0] = 1;
      for (let k = 1; k < d.length; k++) d[k] = 0;
      r.decExponent += 1;
      return;
    }
    d[i] = 0;
    i--;
  }
  d[i]! += 1;
}

type Arith = 'int' | 'long' | 'big';

/** FloatingDecimal.BinaryToASCIIBuffer.dtoa (JDK 8 to 18), for a normalized 53-bit fractBits. */
function dtoa(binExp: number, fractBits: bigint, nSignificantBits: number): Digits {
  const tailZeros = trailingZeros(fractBits);
  const nFractBits = EXP_SHIFT + 1 - tailZeros;
  const nTinyBits = Math.max(0, nFractBits - binExp - 1);
  if (binExp <= MAX_SMALL_BIN_EXP && binExp >= MIN_SMALL_BIN_EXP && nTinyBits < LONG_5_POW_LENGTH && nFractBits + N_5_BITS[nTinyBits]! < 64 && nTinyBits === 0) {
    const insignificant = binExp > nSignificantBits ? insignificantForPow2(binExp - nSignificantBits - 1) : 0;
    const v = binExp >= EXP_SHIFT ? fractBits << BigInt(binExp - EXP_SHIFT) : fractBits >> BigInt(EXP_SHIFT - binExp);
    return developLongDigits(v, insignificant);
  }
  let decExp = estimateDecExp(fractBits, binExp);
  const B5 = Math.max(0, -decExp);
  let B2 = B5 + nTinyBits + binExp;
  const S5 = Math.max(0, decExp);
  let S2 = S5 + nTinyBits;
  const M5 = B5;
  let M2 = B2 - nSignificantBits;
  const fract = fractBits >> BigInt(tailZeros);
  B2 -= nFractBits - 1;
  const common2 = Math.min(B2, S2);
  B2 -= common2;
  S2 -= common2;
  M2 -= common2;
  // Only half as far to the next smaller value at a power of two: the JDK's own adjustment.
  if (nFractBits === 1) M2 -= 1;
  if (M2 < 0) {
    B2 -= M2;
    S2 -= M2;
    M2 = 0;
  }
  const Bbits = nFractBits + B2 + (B5 < N_5_BITS.length ? N_5_BITS[B5]! : B5 * 3);
  const tenSbits = S2 + 1 + (S5 + 1 < N_5_BITS.length ? N_5_BITS[S5 + 1]! : (S5 + 1) * 3);
  const arith: Arith = Bbits < 64 && tenSbits < 64 ? (Bbits < 32 && tenSbits < 32 ? 'int' : 'long') : 'big';

  const wrap = arith === 'int' ? i32 : arith === 'long' ? i64 : (x: bigint) => x;
  const shiftMask = arith === 'int' ? 31 : 63;
  const shl = (x: bigint, n: number): bigint => (arith === 'big' ? x << BigInt(n) : wrap(x << BigInt(n & shiftMask)));
  if (arith === 'int' && Math.max(B5, S5, M5) >= SMALL_5_POW_LENGTH) throw new Error('dtoa: int path with a power of five beyond an int');
  let b = shl(wrap(wrap(fract) * pow5(B5)), B2);
  const s = shl(pow5(S5), S2);
  let m = shl(pow5(M5), M2);
  const tens = wrap(s * 10n);

  const digits: number[] = [];
  let low: boolean;
  let high: boolean;
  // One step of the digit loop: the next quotient, and the stopping tests after it. The int and
  // long shortcuts test b + m > 10s (wrapping, and giving up when m wrapped negative); the exact
  // path tests b + m >= 10s.
  const step = (): number => {
    const q = Number(b / s);
    b = wrap(10n * (b % s));
    m = wrap(m * 10n);
    if (arith === 'big') {
      low = b < m;
      high = b + m >= tens;
    } else if (m > 0n) {
      low = b < m;
      high = wrap(b + m) > tens;
    } else {
      low = true;
      high = true;
    }
    return q;
  };
  let q = step();
  if (arith !== 'big') {
    // the first step's tests see m without the wrap check
    low = b < m;
    high = wrap(b + m) > tens;
  }
  if (q === 0 && !high!) decExp--;
  else digits.push(q);
  // E-form needs a digit after the point, so it never stops at the first digit.
  if (decExp < -3 || decExp >= 8) {
    high = false;
    low = false;
  }
  while (!low! && !high!) {
    q = step();
    digits.push(q);
  }
  let lowDigitDifference: bigint;
  if (arith === 'big') lowDigitDifference = high! && low! ? (b << 1n) - tens : 0n;
  else lowDigitDifference = arith === 'int' ? BigInt.asIntN(32, (b << 1n) - tens) : BigInt.asIntN(64, (b << 1n) - tens);
  const r: Digits = { digits, decExponent: decExp + 1 };
  if (high!) {
    if (low!) {
      if (lowDigitDifference === 0n) {
        if ((digits[digits.length - 1]! & 1) !== 0) roundup(r);
      } else if (lowDigitDifference > 0n) {
        roundup(r);
      }
    } else {
      roundup(r);
    }
  }
  return r;
}

function insignificantForPow2(p2: number): number {
  return p2 > 1 && p2 < INSIGNIFICANT_DIGITS_FOR_POW2.length ? INSIGNIFICANT_DIGITS_FOR_POW2[p2]! : 0;
}

/** FloatingDecimal's getChars: the text of 0.digits × 10^decExponent. */
function layout(negative: boolean, r: Digits): string {
  const d = r.digits.join('');
  const e = r.decExponent;
  const sign = negative ? '-' : '';
  if (e > 0 && e < 8) {
    if (d.length <= e) return `${sign}${d.padEnd(e, '0')}.0`;
    return `${sign}${d.slice(0, e)}.${d.slice(e)}`;
  }
  if (e <= 0 && e > -3) return `${sign}0.${'0'.repeat(-e)}${d}`;
  const frac = d.length > 1 ? d.slice(1) : '0';
  return `${sign}${d[0]}.${frac}E${e - 1}`;
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  return undefined;
}

const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** Java Double.toString of a double (JDK 8 to 18). */
export function javaDoubleToString(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  f64[0] = v;
  const bits = f64Bits[0]!;
  let fractBits = bits & 0xfffffffffffffn;
  let binExp = Number((bits >> 52n) & 0x7ffn);
  let nSignificantBits: number;
  if (binExp === 0) {
    const leadingZeros = 64 - fractBits.toString(2).length;
    const shift = leadingZeros - (63 - EXP_SHIFT);
    fractBits <<= BigInt(shift);
    binExp = 1 - shift;
    nSignificantBits = 64 - leadingZeros;
  } else {
    fractBits |= 1n << 52n;
    nSignificantBits = EXP_SHIFT + 1;
  }
  return layout(v < 0, dtoa(binExp - 1023, fractBits, nSignificantBits));
}

/**
 * Java Float.toString of a FLOAT column value (JDK 8 to 18). zongji widens the stored float32 to
 * a double (1.1 arrives as 1.100000023841858); the digits are chosen for the float32 it came from.
 */
export function javaFloatToString(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  f32[0] = v;
  const bits = f32Bits[0]!;
  let fractBits = bits & 0x7fffff;
  let binExp = (bits >>> 23) & 0xff;
  let nSignificantBits: number;
  if (binExp === 0) {
    const leadingZeros = Math.clz32(fractBits);
    const shift = leadingZeros - (31 - SINGLE_EXP_SHIFT);
    fractBits <<= shift;
    binExp = 1 - shift;
    nSignificantBits = 32 - leadingZeros;
  } else {
    fractBits |= 1 << 23;
    nSignificantBits = SINGLE_EXP_SHIFT + 1;
  }
  return layout(f32[0] < 0, dtoa(binExp - 127, BigInt(fractBits) << BigInt(EXP_SHIFT - SINGLE_EXP_SHIFT), nSignificantBits));
}
