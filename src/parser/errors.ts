// Errors the parser raises, and the line between faults a reconnect can cure and faults it cannot.
// MariaDB errors are told apart by errno and message: mysql2's `code` names are MySQL-numbered
// and wrong on MariaDB (errno 4052 comes back as ER_INVALID_MFA_PLUGIN_SPECIFIED).
import { BinlogFormatError } from '../binlog/bytes.ts';

export class ParserError extends Error {
  /** true: retrying cannot fix it; the parser goes to state `failed`. */
  readonly fatal: boolean;
  readonly errno: number | undefined;
  constructor(message: string, opts: { fatal: boolean; errno?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ParserError';
    this.fatal = opts.fatal;
    this.errno = opts.errno;
  }
}

export interface PreflightCheck {
  /** the server variable or privilege checked, e.g. binlog_row_metadata */
  name: string;
  /** what the source reports */
  value: string;
  ok: boolean;
  /** what to change when not ok */
  fix: string;
}

/** The source is configured so that the stream could be wrong: one line per failing check. */
export class PreflightError extends ParserError {
  readonly failed: PreflightCheck[];
  constructor(failed: PreflightCheck[]) {
    super(
      'source preflight failed:\n' + failed.map((c) => `  ${c.name} = ${c.value}: ${c.fix}`).join('\n'),
      { fatal: true },
    );
    this.name = 'PreflightError';
    this.failed = failed;
  }
}

interface MysqlLikeError {
  errno?: number;
  message?: string;
  code?: string;
  fatal?: boolean;
}

const ER_ACCESS_DENIED = 1045;
const ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;
const ER_MASTER_GTID_POS_CONFLICTS_WITH_BINLOG = 1945;
const ER_GTID_POSITION_NOT_FOUND_IN_BINLOG2 = 1955;
const ER_SLAVE_SAME_ID = 4052;
const ER_SPECIFIC_ACCESS_DENIED = 1227;

/** Where the stream was asked to start, for error messages that must name it. */
export interface StartDescription {
  file?: string;
  offset?: number;
  gtid?: string;
  destination?: string;
}

/**
 * Turns any error seen on the replica connections into a ParserError that says whether a
 * reconnect can cure it. Connection loss, timeouts and server restarts are not fatal.
 */
export function classifyError(err: unknown, start: StartDescription): ParserError {
  if (err instanceof ParserError) return err;
  // An event the decoder cannot read reads the same way after a reconnect.
  if (err instanceof BinlogFormatError) {
    return new ParserError(`binlog event cannot be decoded after ${start.file !== undefined ? `${start.file}:${start.offset ?? 4}` : 'the stream start'}: ${err.message}`, {
      fatal: true,
      cause: err,
    });
  }
  const e = (err ?? {}) as MysqlLikeError;
  const msg = e.message ?? String(err);
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const dest = start.destination ?? 'D';
  const where = start.file !== undefined ? `${start.file}:${start.offset ?? 4}` : start.gtid !== undefined ? `GTID ${start.gtid}` : 'the requested position';

  if (errno === ER_MASTER_FATAL_ERROR_READING_BINLOG) {
    if (/could not find first log file|purged|not found in binary log index/i.test(msg) && start.file !== undefined) {
      return new ParserError(
        `binlog file ${start.file} is no longer on the source (purged?): the stream cannot resume at ${where} ` +
          `without skipping changes. Source said: ${msg.replace(/\.+$/, '')}. To start elsewhere on purpose, run ` +
          `\`sluice positions reset --destination ${dest} --to latest|FILE:OFFSET|GTID|TIMESTAMP\`.`,
        { fatal: true, errno, cause: err },
      );
    }
    if (/gtid/i.test(msg)) {
      return new ParserError(
        `the source does not have the GTID position ${start.gtid ?? ''} in its binlogs: ${msg.replace(/\.+$/, '')}. ` +
          `Run \`sluice positions reset --destination ${dest} --to ...\` to choose a new start.`,
        { fatal: true, errno, cause: err },
      );
    }
    return new ParserError(`the source refused to send its binlog from ${where}: ${msg}`, { fatal: true, errno, cause: err });
  }
  if (errno === ER_MASTER_GTID_POS_CONFLICTS_WITH_BINLOG || errno === ER_GTID_POSITION_NOT_FOUND_IN_BINLOG2) {
    return new ParserError(
      `the source does not know the GTID position ${start.gtid ?? ''} (errno ${errno}): ${msg.replace(/\.+$/, '')}. ` +
        `Run \`sluice positions reset --destination ${dest} --to ...\` to choose a new start.`,
      { fatal: true, errno, cause: err },
    );
  }
  if (errno === ER_ACCESS_DENIED) {
    return new ParserError(`the source rejected the replication account's credentials: ${msg}`, { fatal: true, errno, cause: err });
  }
  if (errno === ER_SPECIFIC_ACCESS_DENIED) {
    return new ParserError(`the replication account lacks a privilege: ${msg}`, { fatal: true, errno, cause: err });
  }
  if (errno === ER_SLAVE_SAME_ID) {
    return new ParserError(
      `another replica of this source uses the same server id (slaveId): ${msg.replace(/\.+$/, '')}. Give every stream its own slaveId.`,
      { fatal: true, errno, cause: err },
    );
  }
  return new ParserError(`replica connection failed: ${msg}`, { fatal: false, errno, cause: err });
}
