// Queries on a mysql2 connection whose result rows are handed over as the packets they arrive in
// (text protocol: each value length-encoded, NULL as 0xfb), so the reader takes each value's bytes
// where they lie instead of mysql2 building an object per row and a value per cell; several
// statements sent at once, in one round trip. The command is queued on the connection like mysql2's
// own commands (mysql2 frames the packets, including rows over 16 MiB); nothing of mysql2 is changed.
import { Buffer } from 'node:buffer';

/** The public parts of mysql2's Packet a command reads. */
interface Mysql2Packet {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
  isError(): boolean;
  asError(encoding?: string): Error;
}

/** The parts of mysql2's (callback-style) Connection a queued command uses. */
export interface CommandHost {
  addCommand(cmd: object): void;
  writePacket(packet: object): void;
  _resetSequenceId(): void;
  _bumpSequenceId(n: number): void;
  clientEncoding?: string;
}

const COM_QUERY = 0x03;
/** a packet's largest payload; mysql2's writePacket splits anything longer, which the pipeline does not need */
const MAX_PAYLOAD = 0xffffff;
const NULL_VALUE = 0xfb;

/** How many bytes the length-encoded integer at b[p] takes (its first byte tells). */
export function lenencSize(b: Buffer, p: number): number {
  const first = b[p]!;
  return first < 0xfb ? 1 : first === 0xfc ? 3 : first === 0xfd ? 4 : 9;
}

/** The length-encoded integer at b[p] (not 0xfb, which is NULL in a row). */
export function lenencValue(b: Buffer, p: number): number {
  const first = b[p]!;
  if (first < 0xfb) return first;
  if (first === 0xfc) return b[p + 1]! | (b[p + 2]! << 8);
  if (first === 0xfd) return b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16);
  if (first === 0xfe) return b.readUInt32LE(p + 1) + b.readUInt32LE(p + 5) * 0x100000000;
  throw new Error(`unexpected byte 0x${first.toString(16)} where a length-encoded integer belongs`);
}

/** Whether the value at b[p] is NULL (then it takes that one byte). */
export function isNullValue(b: Buffer, p: number): boolean {
  return b[p] === NULL_VALUE;
}

const enum State {
  HEADER,
  FIELDS,
  FIELDS_EOF,
  ROWS,
}

/** COM_QUERY packets of the statements, headers written (sequence id 0 each), one after the other. */
function commandPackets(statements: readonly Statement[]): Buffer {
  const texts = statements.map((st) => Buffer.from(st.sql, 'utf8'));
  const out = Buffer.allocUnsafe(texts.reduce((n, t) => n + 5 + t.length, 0));
  let p = 0;
  for (const t of texts) {
    if (t.length + 1 >= MAX_PAYLOAD) throw new Error(`a statement of ${t.length} bytes is longer than one packet takes`);
    out.writeUIntLE(t.length + 1, p, 3);
    out[p + 3] = 0;
    out[p + 4] = COM_QUERY;
    t.copy(out, p + 5);
    p += 5 + t.length;
  }
  return out;
}

/** Packets whose headers are written already, for mysql2's writePacket (which would write one header). */
class Written {
  constructor(readonly buffer: Buffer) {
    if (buffer.length >= MAX_PAYLOAD) throw new Error(`statements of ${buffer.length} bytes in all are more than one write takes`);
  }
  length(): number {
    return this.buffer.length;
  }
  writeHeader(): void {}
}

/** One statement of a pipeline: its SQL, and what takes its result rows (payload of each row packet). */
export interface Statement {
  sql: string;
  onRow?: (b: Buffer, start: number, end: number) => void;
}

/**
 * Runs `statements` on `conn` in one round trip: every statement is sent at once and the server
 * answers them in order (it reads commands one after the other from the connection), so a
 * chunk's transaction, position query, SELECT, shape check and COMMIT take one round trip instead
 * of five. Each statement's row packets go to its `onRow`, in order, synchronously as they arrive.
 * Resolves with each statement's error (the server's, or the first error its `onRow` threw; the
 * rest of that result is then read and dropped, so the connection stays usable), undefined where it
 * succeeded; rejects on a connection error. A statement after a failed one still runs.
 */
export function queryPipeline(conn: CommandHost, statements: readonly Statement[]): Promise<(unknown | undefined)[]> {
  return new Promise((resolve, reject) => {
    const errors: (unknown | undefined)[] = statements.map(() => undefined);
    let sent = false;
    let k = 0;
    let state = State.HEADER;
    let columns = 0;
    let fields = 0;
    /** the response to statement k is complete: expect the next one (sequence ids start at 1 again) */
    const next = (c: CommandHost): boolean => {
      k++;
      state = State.HEADER;
      if (k === statements.length) {
        resolve(errors);
        return true;
      }
      c._resetSequenceId();
      c._bumpSequenceId(1);
      return false;
    };
    const command = {
      execute: (p: Mysql2Packet | undefined, c: CommandHost): boolean => {
        if (!sent) {
          sent = true;
          // every command starts at sequence id 0, its response at 1; all in one write
          c._resetSequenceId();
          c.writePacket(new Written(commandPackets(statements)));
          return false;
        }
        if (p === undefined) return false;
        if (p.isError()) {
          errors[k] ??= p.asError(c.clientEncoding);
          return next(c);
        }
        switch (state) {
          case State.HEADER:
            // an OK packet (0x00) for a statement without a result set
            columns = p.buffer[p.offset] === 0 ? 0 : lenencValue(p.buffer, p.offset);
            if (columns === 0) return next(c);
            fields = 0;
            state = State.FIELDS;
            return false;
          case State.FIELDS:
            if (++fields === columns) state = State.FIELDS_EOF;
            return false;
          case State.FIELDS_EOF:
            if (!p.isEOF()) errors[k] ??= new Error('expected the EOF packet after the column definitions');
            state = State.ROWS;
            return false;
          case State.ROWS: {
            if (p.isEOF()) return next(c);
            const onRow = statements[k]!.onRow;
            if (errors[k] === undefined && onRow !== undefined) {
              try {
                onRow(p.buffer, p.offset, p.end);
              } catch (err) {
                errors[k] = err;
              }
            }
            return false;
          }
        }
        return false;
      },
      // mysql2 calls this when the connection fails while the command runs or waits
      onResult: (err: Error | null): void => {
        if (err) reject(err);
      },
    };
    conn.addCommand(command);
  });
}

/** The values of a row packet as text (NULL as null): for small results such as SHOW STATUS. */
export function rowTexts(b: Buffer, start: number, end: number): (string | null)[] {
  const out: (string | null)[] = [];
  let p = start;
  while (p < end) {
    if (isNullValue(b, p)) {
      out.push(null);
      p++;
      continue;
    }
    const len = lenencValue(b, p);
    p += lenencSize(b, p);
    out.push(b.toString('utf8', p, p + len));
    p += len;
  }
  return out;
}
