// DECIMAL values as Canal prints them. Canal's binlog decoder writes the fraction group by group,
// the way MySQL stores it: every full 9-digit group is printed (zeros included), the last partial
// group of (scale mod 9) digits only when it is non-zero, and a lone "0" when nothing follows the
// point. Then BigDecimal.toPlainString drops the sign of a zero. So DECIMAL(10,2) 500.00 is
// "500.0" and 1.50 is "1.50"; DECIMAL(64,16) 0 is "0.000000000".

const DIGITS_PER_GROUP = 9;

/**
 * Formats the exact decimal text zongji decodes ("-500.00") for a column of the given scale.
 * Throws when the text is not a plain decimal number.
 */
export function canalDecimal(text: string, scale: number): string {
  return canalDecimalShort(text, scale) ?? canalDecimalGeneral(text, scale);
}

/**
 * The common case in one pass without slicing: zongji's form of a scale below one full group,
 * i.e. an optional '-', digits without a leading zero (or a lone "0"), '.', exactly `scale`
 * digits. A non-zero fraction is then printed as it is, so the text is returned unchanged.
 * Undefined for anything else (canalDecimalGeneral decides).
 */
function canalDecimalShort(text: string, scale: number): string | undefined {
  const n = text.length;
  if (scale <= 0 || scale >= DIGITS_PER_GROUP) return undefined;
  const point = n - scale - 1;
  const intStart = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (point <= intStart || text.charCodeAt(point) !== 46 /* . */) return undefined;
  const first = text.charCodeAt(intStart);
  // a leading zero is only "0" itself
  if (first === 48 && point !== intStart + 1) return undefined;
  for (let i = intStart; i < point; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  let fracZero = true;
  for (let i = point + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    if (c !== 48) fracZero = false;
  }
  if (!fracZero) return text;
  if (first === 48) return '0.0';
  return text.slice(0, point + 1) + '0';
}

/** Every decimal text, by the rules above. */
export function canalDecimalGeneral(text: string, scale: number): string {
  let negative = false;
  let body = text;
  if (body.charCodeAt(0) === 45 /* - */) {
    negative = true;
    body = body.slice(1);
  }
  const point = body.indexOf('.');
  let intDigits = point < 0 ? body : body.slice(0, point);
  const fracDigits = point < 0 ? '' : body.slice(point + 1);
  if (!/^\d*$/.test(intDigits) || !/^\d*$/.test(fracDigits) || (intDigits === '' && fracDigits === '')) {
    throw new Error(`DECIMAL value '${text}' is not a plain decimal number`);
  }

  let start = 0;
  while (start < intDigits.length - 1 && intDigits.charCodeAt(start) === 48) start++;
  intDigits = intDigits === '' ? '0' : intDigits.slice(start);

  let out = intDigits;
  let zero = intDigits === '0';
  if (scale > 0) {
    const frac = fracDigits.length >= scale ? fracDigits.slice(0, scale) : fracDigits.padEnd(scale, '0');
    const fullLength = Math.floor(scale / DIGITS_PER_GROUP) * DIGITS_PER_GROUP;
    let printed = frac.slice(0, fullLength);
    const partial = frac.slice(fullLength);
    if (/[1-9]/.test(partial)) printed += partial;
    if (printed === '') printed = '0';
    if (/[1-9]/.test(printed)) zero = false;
    out += '.' + printed;
  }
  return negative && !zero ? '-' + out : out;
}
