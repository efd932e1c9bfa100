// Temporal values. DATE, DATETIME and TIME arrive from zongji (dateStrings) already in Canal's
// text shape with exactly fsp fraction digits. TIMESTAMP arrives rendered in UTC (timezone 'Z');
// Canal renders the epoch seconds in its JVM's zone, so we re-render it in the configured zone.

const ZERO_DATETIME = '0000-00-00 00:00:00';

/** Days since 1970-01-01 to a proleptic Gregorian civil date (Hinnant's algorithm). */
function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

/** The decimal number in text[start, start+count), or -1 if any of those is not a digit. */
function digits(text: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return n;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad4(n: number): string {
  return n < 10 ? '000' + n : n < 100 ? '00' + n : n < 1000 ? '0' + n : String(n);
}

/** Seconds east of UTC at an instant. */
type OffsetAt = (epochSec: number) => number;

function systemOffset(epochSec: number): number {
  const d = new Date(epochSec * 1000);
  const local = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds());
  return (local - epochSec * 1000) / 1000;
}

function zoneOffset(format: Intl.DateTimeFormat): OffsetAt {
  return (epochSec) => {
    const f: Record<string, number> = {};
    for (const part of format.formatToParts(epochSec * 1000)) {
      if (part.type !== 'literal') f[part.type] = Number(part.value);
    }
    const local = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
    return (local - epochSec * 1000) / 1000;
  };
}

function fixedOffset(zone: string): OffsetAt | undefined {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(zone);
  if (!m) return undefined;
  const seconds = (Number(m[2]) * 3600 + Number(m[3]) * 60) * (m[1] === '-' ? -1 : 1);
  return () => seconds;
}

function offsetFunction(zone: string): OffsetAt {
  if (zone === 'SYSTEM') return systemOffset;
  const fixed = fixedOffset(zone);
  if (fixed) return fixed;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(`unknown timezone '${zone}' for TIMESTAMP values: use an IANA zone name such as Asia/Shanghai, a fixed offset such as +08:00, or SYSTEM for the process zone`);
  }
  return zoneOffset(format);
}

const MAX_CACHED_HOURS = 4096;

/** Renders TIMESTAMP values in one zone. Offsets are cached per UTC hour without a transition. */
export class TimestampRenderer {
  readonly zone: string;
  private readonly offsetAt: OffsetAt;
  private readonly hourOffsets = new Map<number, number>();
  // bulk changes often repeat one instant (NOW() of a statement) row after row
  private lastIn = '';
  private lastOut = '';

  constructor(zone: string) {
    this.zone = zone;
    this.offsetAt = offsetFunction(zone);
  }

  private offset(epochSec: number): number {
    const hour = Math.floor(epochSec / 3600);
    const cached = this.hourOffsets.get(hour);
    if (cached !== undefined) return cached;
    const start = this.offsetAt(hour * 3600);
    // No zone changes its offset twice within an hour, so equal ends mean one offset throughout.
    if (this.offsetAt(hour * 3600 + 3599) !== start) return this.offsetAt(epochSec);
    if (this.hourOffsets.size >= MAX_CACHED_HOURS) this.hourOffsets.clear();
    this.hourOffsets.set(hour, start);
    return start;
  }

  /**
   * Takes zongji's UTC text ("2024-02-29 13:14:15.123") and returns the same instant in this
   * zone with the fraction unchanged. The zero TIMESTAMP stays "0000-00-00 00:00:00[.000]".
   */
  render(utcText: string): string {
    if (utcText === this.lastIn) return this.lastOut;
    if (utcText.startsWith(ZERO_DATETIME)) return utcText;
    const year = digits(utcText, 0, 4);
    const month = digits(utcText, 5, 2);
    const day = digits(utcText, 8, 2);
    const hour = digits(utcText, 11, 2);
    const minute = digits(utcText, 14, 2);
    const second = digits(utcText, 17, 2);
    const fraction = utcText.slice(19);
    const numbersOk = year >= 0 && month >= 0 && day >= 0 && hour >= 0 && minute >= 0 && second >= 0;
    const separatorsOk = utcText[4] === '-' && utcText[7] === '-' && utcText[10] === ' ' && utcText[13] === ':' && utcText[16] === ':';
    if (!numbersOk || !separatorsOk || (fraction !== '' && !/^\.\d+$/.test(fraction))) {
      throw new Error(`TIMESTAMP value '${utcText}' is not in the form YYYY-MM-DD HH:MM:SS[.fraction]`);
    }
    const epochSec = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
    const local = epochSec + this.offset(epochSec);
    const days = Math.floor(local / 86400);
    let secs = local - days * 86400;
    const civil = civilFromDays(days);
    const hh = Math.floor(secs / 3600);
    secs -= hh * 3600;
    const mm = Math.floor(secs / 60);
    const ss = secs - mm * 60;
    const out = `${pad4(civil.y)}-${pad2(civil.m)}-${pad2(civil.d)} ${pad2(hh)}:${pad2(mm)}:${pad2(ss)}${fraction}`;
    this.lastIn = utcText;
    this.lastOut = out;
    return out;
  }
}

/** YEAR: zongji adds 1900 to the stored byte, so the zero year 0000 arrives as 1900 (not a legal YEAR). */
export function canalYear(value: number): string {
  return value === 1900 ? '0000' : String(value);
}
