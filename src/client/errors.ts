// Errors the client raises. Each names what failed and where, so a caller can tell a refused
// request (the server answered) from a lost connection (retrying may help) from a peer that is
// not a Canal server at all (retrying will not help).

export class CanalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server answered a request with an error ACK (Canal codes 400, 401, 402). */
export class CanalServerError extends CanalError {
  constructor(
    /** what was asked, e.g. "GET of example/1001" or "ack of batch 7" */
    readonly request: string,
    readonly code: number,
    readonly serverMessage: string,
  ) {
    super(`${request} failed: ${serverMessage} (error code ${code})`);
  }
}

/** Authentication was refused. Retrying with the same credentials cannot succeed. */
export class CanalAuthError extends CanalServerError {}

/** The peer broke the protocol or is not a Canal server. Not retried. */
export class CanalProtocolError extends CanalError {}

/** The connection could not be opened, was lost, or a reply did not come in time. Retryable. */
export class CanalConnectionError extends CanalError {}

/** A reply (or the handshake) did not arrive within its deadline; the connection was closed. */
export class CanalTimeoutError extends CanalConnectionError {}

/** Reconnecting failed as often as the reconnect policy allows. */
export class CanalReconnectError extends CanalError {}

/** True for errors after which reconnecting may help. */
export function isRetryable(err: unknown): boolean {
  return err instanceof CanalConnectionError;
}
