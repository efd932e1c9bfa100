// What a server session needs from a destination (an instance). The server knows nothing of
// parsers or MySQL; an Instance implements this over its store and meta.

import type { DestinationStatus } from '../observe/destination-status.ts';

export type { DestinationStateName, DestinationStatus, HaStatus } from '../observe/destination-status.ts';

/** One consuming connection: clientId as the client sent it, and who it is. */
export interface Subscriber {
  clientId: string;
  /** remote address:port, used in "held by" errors */
  peer: string;
  /** unique per connection */
  sessionId: number;
}

/** A GET result: batchId -1 and no entries when nothing was available. Entries are serialized Canal Entry bytes. */
export interface DestinationBatch {
  batchId: number;
  entries: Uint8Array[];
}

export interface Destination {
  readonly name: string;
  status(): DestinationStatus;
  /** Throws DestinationError when not running, or when another connection holds the destination. */
  subscribe(sub: Subscriber, filter: string): void;
  unsubscribe(sub: Subscriber): void;
  /** Whether this client id is subscribed (persisted subscriptions count after a restart). */
  isSubscribed(clientId: string): boolean;
  /** timeoutMs: -1 return now; <= 0 block until a full batch; > 0 wait at most that long. Rejects when signal aborts. */
  get(sub: Subscriber, fetchSize: number, timeoutMs: number, signal: AbortSignal): Promise<DestinationBatch>;
  /** Throws DestinationError with Canal's message when batchId is not the oldest outstanding. */
  ack(sub: Subscriber, batchId: number): void;
  /** batchId 0: roll back all. */
  rollback(sub: Subscriber, batchId: number): void;
  /** The connection closed: release its hold and return its outstanding batches to the store. */
  release(sub: Subscriber): void;
  /**
   * Resolves once the cursors of every ack so far are kept, so that after a crash no acknowledged
   * entry comes again. A session awaits it before answering a GET: ACK has no reply, so the next
   * reply is what tells the client its ack held. Rejects when the cursor could not be written.
   */
  durable?(): Promise<void>;
}

export interface DestinationRegistry {
  get(name: string): Destination | undefined;
  names(): string[];
}

export class DestinationError extends Error {
  constructor(
    message: string,
    /** Canal error code for the ACK packet: 400 generic, 401 missing fields, 402 ack of batch 0 */
    readonly code: 400 | 401 | 402 = 400,
  ) {
    super(message);
    this.name = 'DestinationError';
  }
}
