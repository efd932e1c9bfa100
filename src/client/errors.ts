// Errors the client raises. Each names what failed and where, so a caller can tell a refused
// request (the server answered) from a lost connection (retrying may help) from a peer that is
// not a Canal server at all (retrying will not help).
import { activeAddressIn, isNotActiveRefusal } from '../coord/refusal.ts';

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

/**
 * A server refused the destination because it does not run it: in a cluster it is a standby and
 * another server is active. Retryable: the client looks up the active server and connects there.
 * The connection that received it is closed.
 */
export class CanalNotActiveError extends CanalConnectionError {
  constructor(
    readonly request: string,
    readonly code: number,
    readonly serverMessage: string,
    /** the active server the refusal names ("host:port"), when it names one */
    readonly activeAddress: string | undefined,
  ) {
    super(`${request} failed: ${serverMessage} (error code ${code})`);
  }
}

/** The refusal of a standby (coord/refusal.ts), as a CanalNotActiveError; undefined for any other server message. */
export function notActiveError(request: string, code: number, serverMessage: string): CanalNotActiveError | undefined {
  if (!isNotActiveRefusal(serverMessage)) return undefined;
  return new CanalNotActiveError(request, code, serverMessage, activeAddressIn(serverMessage));
}

/** Reconnecting failed as often, or for as long, as the reconnect policy allows. */
export class CanalReconnectError extends CanalError {}

/** True for errors after which reconnecting may help. */
export function isRetryable(err: unknown): boolean {
  return err instanceof CanalConnectionError;
}
