// pino JSON on stdout for machines; pino-pretty for people (a terminal, or when asked). Password
// fields are redacted wherever they appear in a logged object, so a config or error object
// passed to the logger can never leak a secret.
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** true: human-readable lines; false: JSON; undefined: pretty when stdout is a terminal */
  pretty?: boolean;
  /** where lines go (tests capture them here); stdout by default */
  stream?: DestinationStream | NodeJS.WritableStream;
}

const SECRET_KEYS = ['password', 'passwd', 'passwordHash', 'dbPassword'];

/** pino redact paths for secret keys at the top level and up to three levels down. */
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export function createLogger(opts: LoggerOptions = {}): Logger {
  const usePretty = opts.pretty ?? (opts.stream === undefined && process.stdout.isTTY === true);
  const options = {
    level: opts.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (usePretty) {
    const dest = pretty({
      colorize: opts.stream === undefined && process.stdout.isTTY === true,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: (opts.stream as NodeJS.WritableStream | undefined) ?? 1,
    });
    return pino(options, dest);
  }
  return pino(options, opts.stream ? (opts.stream as DestinationStream) : stdoutDestination());
}

/**
 * stdout written synchronously. pino's default stdout destination writes asynchronously and, at
 * process exit, flushes what is pending with a loop that retries every failed write: when the
 * reader of a pipe has gone (`sluice start | head`), that loop retries EPIPE forever and the
 * process never exits. Written synchronously nothing is pending at exit, and the first EPIPE
 * turns the destination into a no-op (pino.destination's own handling), so logging to a closed
 * pipe costs nothing and cannot hold up a shutdown.
 */
function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/** The logger of one instance: every line carries its destination. */
export function instanceLogger(root: Logger, destination: string): Logger {
  return root.child({ destination });
}
