// FLOAT and DOUBLE values as Java's Float.toString / Double.toString print them (JDK 19+ rules),
// because Canal builds Column.value with String.valueOf on the boxed value.
//
// Java picks the shortest decimal that reads back as the same float (or double); when a single
// digit would do, it still looks at two digits and takes the closer one (so Double.MIN_VALUE is
// 4.9E-324, not 5E-324). The layout is plain for 1e-3 <= |v| < 1e7, with at least one fraction
// digit ("100.0"), and computerized scientific otherwise ("1.0E10", "1.0E-5").

/** A decimal d.ddd × 10^exp, digits without sign or trailing zeros. */
interface Decimal {
  digits: string;
  exp: number;
}

function fromExponential(text: string): Decimal {
  const e = text.indexOf('e');
  const mantissa = text.slice(0, e);
  return { digits: mantissa.replace('.', ''), exp: Number(text.slice(e + 1)) };
}

function valueOf(d: Decimal): number {
  return Number(`${d.digits}e${d.exp - d.digits.length + 1}`);
}

/** The decimal whose last digit is `delta` units away from d (same scale). */
function step(d: Decimal, delta: bigint): Decimal {
  const n = BigInt(d.digits) + delta;
  const text = n.toString();
  return { digits: text, exp: d.exp + (text.length - d.digits.length) };
}

function stripZeros(d: Decimal): Decimal {
  let end = d.digits.length;
  while (end > 1 && d.digits.charCodeAt(end - 1) === 48) end--;
  return end === d.digits.length ? d : { digits: d.digits.slice(0, end), exp: d.exp };
}

/** Whether decimal value x reads back as abs: as a float32 (FLOAT) or as a double (DOUBLE). */
function readsBack(x: number, abs: number, float: boolean): boolean {
  return float ? Math.fround(x) === abs : x === abs;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

/**
 * Only at a power of two (all mantissa bits zero) is the rounding interval lopsided: the gap
 * below is half the gap above. Elsewhere, if the nearest p-digit decimal does not read back,
 * no p-digit decimal does.
 */
function lopsided(abs: number, float: boolean): boolean {
  if (float) {
    f32[0] = abs;
    return (f32Bits[0]! & 0x7fffff) === 0;
  }
  f64[0] = abs;
  // little-endian words: [low 32 bits, high 32 bits]
  return f64Words[0] === 0 && (f64Words[1]! & 0xfffff) === 0;
}

/**
 * The p-digit decimal closest to abs that reads back, if any. toExponential gives the nearest
 * p-digit decimal; next to a power of two its neighbour on the wide side may read back when
 * the nearest does not.
 */
function nearestWithDigits(abs: number, p: number, float: boolean): Decimal | undefined {
  const text = abs.toExponential(p - 1);
  if (readsBack(Number(text), abs, float)) return fromExponential(text);
  if (!lopsided(abs, float)) return undefined;
  const nearest = fromExponential(text);
  let best: Decimal | undefined;
  let bestDistance = Infinity;
  for (let delta = 1n; delta >= -1n; delta -= 2n) {
    const candidate = step(nearest, delta);
    if (candidate.digits === '0') continue;
    const v = valueOf(candidate);
    if (readsBack(v, abs, float) && Math.abs(v - abs) < bestDistance) {
      best = candidate;
      bestDistance = Math.abs(v - abs);
    }
  }
  return best;
}

function shortestFloat(abs: number): Decimal {
  for (let p = 1; p <= 9; p++) {
    const found = nearestWithDigits(abs, p, true);
    if (found === undefined) continue;
    if (p === 1) {
      const two = nearestWithDigits(abs, 2, true);
      if (two !== undefined) return stripZeros(two);
    }
    return stripZeros(found);
  }
  // nine digits always identify a float32; reaching here means the input was not finite
  throw new Error(`no decimal reads back as the float ${abs}`);
}

function layout(negative: boolean, abs: number, d: Decimal): string {
  const sign = negative ? '-' : '';
  if (abs >= 1e-3 && abs < 1e7) {
    if (d.exp >= 0) {
      const intPart = d.digits.length > d.exp + 1 ? d.digits.slice(0, d.exp + 1) : d.digits.padEnd(d.exp + 1, '0');
      const frac = d.digits.length > d.exp + 1 ? d.digits.slice(d.exp + 1) : '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-d.exp - 1)}${d.digits}`;
  }
  const frac = d.digits.length > 1 ? d.digits.slice(1) : '0';
  return `${sign}${d.digits[0]}.${frac}E${d.exp}`;
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  return undefined;
}

/** Java Double.toString of a double. */
export function javaDoubleToString(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  const abs = Math.abs(v);
  let d = fromExponential(abs.toExponential());
  if (d.digits.length === 1) {
    const two = nearestWithDigits(abs, 2, false);
    if (two !== undefined) d = stripZeros(two);
  }
  return layout(v < 0, abs, d);
}

/**
 * Java Float.toString of a FLOAT column value. zongji widens the stored float32 to a double
 * (1.1 arrives as 1.100000023841858); the digits are chosen against float32 precision, so the
 * same value prints 1.1 as the server shows it.
 */
export function javaFloatToString(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  const f = Math.fround(v);
  const abs = Math.abs(f);
  return layout(f < 0, abs, shortestFloat(abs));
}
