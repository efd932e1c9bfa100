// The mysql2 value options zongji decodes rows with. Column conversion relies on exactly these:
// strings for temporals (microseconds, zero dates, years < 100 survive) with TIMESTAMP rendered
// in UTC so that we can re-render it in the configured zone, DECIMAL as exact strings, and
// MySQL's binary JSON as MySQL-style text.
export const ZONGJI_VALUE_OPTIONS = {
  dateStrings: true,
  timezone: 'Z',
  decimalNumbers: false,
  supportBigNumbers: true,
  bigNumberStrings: true,
  jsonStrings: true,
} as const;
