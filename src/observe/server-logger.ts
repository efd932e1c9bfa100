// The slice of a pino logger the server uses, so tests and embedders can pass anything that fits.
export interface ServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export const silentLogger: ServerLogger = { info() {}, warn() {}, error() {}, debug() {} };
