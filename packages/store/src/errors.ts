// Errors of @chat/store, each with a stable code; listed in packages/store/README.md ("Errors").

export abstract class StoreError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that can never be stored (bad username, wrong channel kind, …). */
export class ValidationError extends StoreError {
  readonly code = 'STORE_INVALID';
  readonly retryable = false;
}

/** A unique value is taken (username). */
export class ConflictError extends StoreError {
  readonly code = 'STORE_CONFLICT';
  readonly retryable = false;
}

/** The user, channel or message does not exist. */
export class NotFoundError extends StoreError {
  readonly code = 'STORE_NOT_FOUND';
  readonly retryable = false;
}

export const ERROR_CLASSES = [ValidationError, ConflictError, NotFoundError] as const;

/**
 * Whether a MongoDB failure is worth retrying (network, server selection, failover, timeouts) as
 * opposed to a permanent one (a document the server will never accept).
 */
export function isTransientError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { hasErrorLabel?: (l: string) => boolean; code?: unknown };
  if (
    /^Mongo(Network|NetworkTimeout|ServerSelection|NotConnected|TopologyClosed|PoolCleared|OperationTimeout)Error$/.test(
      e.name,
    )
  )
    return true;
  if (e.hasErrorLabel?.('RetryableWriteError') || e.hasErrorLabel?.('ResetPool')) return true;
  // NotWritablePrimary, NotPrimaryNoSecondaryOk, PrimarySteppedDown, InterruptedDueToReplStateChange, ShutdownInProgress, …
  return [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436].includes(e.code as number);
}
