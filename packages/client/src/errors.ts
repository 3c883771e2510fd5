// Every error the client throws, rejects with or emits. Each has a `code` and says whether the
// same call may succeed if retried. The list is mirrored in packages/client/README.md ("Errors");
// a unit test fails when the two disagree.

export abstract class ChatClientError extends Error {
  abstract readonly code: string;
  /** True when repeating the same call later may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An HTTP call of docs/protocol.md §6 answered with an error status; `code` is the server's. */
export class ChatApiError extends ChatClientError {
  readonly code: string;
  readonly status: number;
  /** Seconds to wait before retrying, from `Retry-After` (429, sometimes 503). */
  readonly retryAfter: number | undefined;
  readonly retryable: boolean;

  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.retryable = status === 429 || status === 502 || status === 503 || status === 504;
  }
}

/** A REQUEST (op 20) answered with `ok: false`; `code` is the server's. */
export class ChatRequestError extends ChatClientError {
  readonly code: string;
  /** True for `overloaded`: the server shed the request without doing anything; send it again later. */
  readonly retryable: boolean;
  readonly method: string;
  /** The server's retry hint (`retry_after_ms`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(method: string, code: string, message: string, retryAfterMs?: number) {
    super(message);
    this.method = method;
    this.code = code;
    this.retryable = code === 'overloaded';
    this.retryAfterMs = retryAfterMs;
  }
}

/** What a failed request was, so that it can be repeated (a `message.create` keeps its nonce). */
export interface FailedRequest {
  method: string;
  params: unknown;
}

/**
 * No answer within the timeout (a REQUEST, or an HTTP call). The operation may or may not have
 * happened: repeat it with the same params (`message.create` is de-duplicated by its nonce).
 */
export class RequestTimeoutError extends ChatClientError {
  readonly code = 'CLIENT_REQUEST_TIMEOUT';
  readonly retryable = true;
  readonly request: FailedRequest | undefined;

  constructor(message: string, request?: FailedRequest) {
    super(message);
    this.request = request;
  }
}

/**
 * The connection dropped after the request was sent and before its answer. The operation may or
 * may not have happened: repeat it with the same params once the session is back.
 */
export class ConnectionLostError extends ChatClientError {
  readonly code = 'CLIENT_CONNECTION_LOST';
  readonly retryable = true;
  readonly request: FailedRequest | undefined;

  constructor(message: string, request?: FailedRequest, options?: { cause?: unknown }) {
    super(message, options);
    this.request = request;
  }
}

/** `connect()` got no READY within `connectTimeoutMs` on its first attempt. */
export class ConnectTimeoutError extends ChatClientError {
  readonly code = 'CLIENT_CONNECT_TIMEOUT';
  readonly retryable = true;
}

/** An HTTP call could not reach the server (DNS, refused, reset). */
export class NetworkError extends ChatClientError {
  readonly code = 'CLIENT_NETWORK';
  readonly retryable = true;
}

/**
 * The server closed with 4004: the token was refused. Without `getToken` the client does not
 * reconnect with it; with `getToken`, this is the error when a fresh token was refused too, or
 * when `getToken` failed or returned no token (then `cause` is what it threw).
 */
export class AuthenticationFailedError extends ChatClientError {
  readonly code = 'CLIENT_AUTHENTICATION_FAILED';
  readonly retryable = false;
}

/**
 * The session was lost and `reconnect.maxAttempts` reconnect attempts in a row failed: the client
 * stopped (state `closed`), and the requests waiting for a session were rejected with this error.
 * `connect()` starts again.
 */
export class ReconnectFailedError extends ChatClientError {
  readonly code = 'CLIENT_RECONNECT_FAILED';
  readonly retryable = true;
}

/** `connect()` without a token: pass `token` or `getToken`, or call `login()` first. */
export class NotAuthenticatedError extends ChatClientError {
  readonly code = 'CLIENT_NOT_AUTHENTICATED';
  readonly retryable = false;
}

/**
 * The two sides disagree on the protocol: the server closed with 4001/4002/4003/4005/4010, or sent
 * something the client cannot decode. A client bug or a version mismatch; the client reconnects
 * with a fresh IDENTIFY.
 */
export class ProtocolError extends ChatClientError {
  readonly code = 'CLIENT_PROTOCOL';
  readonly retryable = false;
  /** The server's close code, when the error is a close. */
  readonly closeCode: number | undefined;

  constructor(message: string, closeCode?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.closeCode = closeCode;
  }
}

/** The client was closed by its owner (or never connected): nothing more is sent on the socket. */
export class ClientClosedError extends ChatClientError {
  readonly code = 'CLIENT_CLOSED';
  readonly retryable = false;
}

/** An option or argument is out of range or of the wrong type. */
export class InvalidArgumentError extends ChatClientError {
  readonly code = 'CLIENT_INVALID_ARGUMENT';
  readonly retryable = false;
}

/** Errors whose `code` is fixed (ChatApiError and ChatRequestError carry the server's code). */
export const ERROR_CLASSES = [
  RequestTimeoutError,
  ConnectionLostError,
  ConnectTimeoutError,
  NetworkError,
  ReconnectFailedError,
  AuthenticationFailedError,
  NotAuthenticatedError,
  ProtocolError,
  ClientClosedError,
  InvalidArgumentError,
] as const;
