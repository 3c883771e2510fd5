// Every error the router throws or rejects with. Each has a stable `code` and says whether the
// same call may succeed if retried. The list is mirrored in packages/router/README.md ("Errors");
// a unit test fails when the two disagree.

export abstract class RouterError extends Error {
  abstract readonly code: string;
  /** True when repeating the same call later may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option or argument is out of range or of the wrong type. */
export class InvalidArgumentError extends RouterError {
  readonly code = 'ROUTER_INVALID_ARGUMENT';
  readonly retryable = false;
}

/** An envelope does not follow docs/protocol.md §3. */
export class InvalidEnvelopeError extends RouterError {
  readonly code = 'ROUTER_INVALID_ENVELOPE';
  readonly retryable = false;
}

/** No broker connection became available within the allowed wait (an outage). */
export class UnavailableError extends RouterError {
  readonly code = 'ROUTER_UNAVAILABLE';
  readonly retryable = true;
}

/** The broker refused the message (basic.nack): it was not stored. */
export class NackError extends RouterError {
  readonly code = 'ROUTER_NACKED';
  readonly retryable = true;
}

/**
 * The persist queue is full: it is at its `x-max-length` and the broker nacked the durable write
 * (`x-overflow: reject-publish`). Not stored. The system is overloaded: retry later, with backoff.
 */
export class QueueFullError extends RouterError {
  readonly code = 'ROUTER_QUEUE_FULL';
  readonly retryable = true;
}

/** No confirm arrived in time. The message may or may not be stored: retry with the same id. */
export class ConfirmTimeoutError extends RouterError {
  readonly code = 'ROUTER_CONFIRM_TIMEOUT';
  readonly retryable = true;
}

/** The channel or connection closed before the broker confirmed. The message may or may not be stored. */
export class ConnectionLostError extends RouterError {
  readonly code = 'ROUTER_CONNECTION_LOST';
  readonly retryable = true;
}

/** The router was closed by its owner; nothing more can be sent through it. */
export class ClosedError extends RouterError {
  readonly code = 'ROUTER_CLOSED';
  readonly retryable = false;
}

export const ERROR_CLASSES = [
  InvalidArgumentError,
  InvalidEnvelopeError,
  UnavailableError,
  NackError,
  QueueFullError,
  ConfirmTimeoutError,
  ConnectionLostError,
  ClosedError,
] as const;
