// Canal's batch id rules, in one place: the session (which must answer them in Canal's order,
// before it looks the destination up), the destination and the store all ask checkBatchId.
// −1 is the id of an empty GET reply: acknowledging or rolling it back does nothing. 0 is never a
// batch (Canal's error 402, "batchId should assign value"). Any other id may be acknowledged or
// rolled back only while it is the oldest outstanding batch.

/** What the outstanding batches are, oldest first, for the checks that need them. */
export interface OutstandingBatches {
  /** the oldest outstanding batch id, if any */
  readonly oldest: number | undefined;
  has(batchId: number): boolean;
}

/** Why a batch id may not be acknowledged or rolled back now; `oldest` is the batch that may, if any. */
export type BatchIdProblem =
  | { kind: 'zero'; oldest: number | undefined }
  | { kind: 'unknown'; oldest: number | undefined }
  | { kind: 'not-oldest'; oldest: number };

/**
 * 'ignore' for −1; otherwise the problem with `batchId`, or undefined when it is the oldest
 * outstanding batch. Without `outstanding`, only the rules about the id itself are checked.
 */
export function checkBatchId(batchId: number, outstanding?: OutstandingBatches): BatchIdProblem | 'ignore' | undefined {
  if (batchId === -1) return 'ignore';
  if (batchId === 0) return { kind: 'zero', oldest: outstanding?.oldest };
  if (outstanding === undefined) return undefined;
  const oldest = outstanding.oldest;
  if (oldest === undefined || !outstanding.has(batchId)) return { kind: 'unknown', oldest };
  if (oldest !== batchId) return { kind: 'not-oldest', oldest };
  return undefined;
}
