// Errors of the chat API, shared by HTTP (status + body) and WebSocket (RESPONSE error). Every
// code is listed in packages/gateway/README.md ("Errors"); a unit test keeps the two in step.
// `failureOf` is the one place a failed command becomes the error a client is answered with.
import type { Logger } from './logger.js';

export const API_ERRORS = {
  invalid_json: 400,
  invalid_request: 400,
  unknown_field: 400,
  unauthorized: 401,
  not_a_member: 403,
  not_author: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  username_taken: 409,
  limit_reached: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  overloaded: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  /** For `method_not_allowed`: the methods the route takes (HTTP `Allow`). */
  readonly allow: readonly string[] | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { retryAfterMs?: number; allow?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERRORS[code];
    this.retryAfterMs = options.retryAfterMs;
    this.allow = options.allow;
  }
}

/**
 * What a failed command is answered with, on either transport: an ApiError as it is; anything else is
 * `internal` (a bug: logged as an error with `context`). A dependency failure (5xx other than
 * `overloaded`, which is shedding and only counted) is logged as a warning.
 */
export function failureOf(err: unknown, logger: Logger, context: object): ApiError {
  if (!(err instanceof ApiError)) {
    logger.error({ err, ...context }, 'request failed');
    return new ApiError('internal', 'internal error');
  }
  if (err.status >= 500 && err.code !== 'overloaded')
    logger.warn({ code: err.code, err: err.message, ...context }, 'request failed on a dependency');
  return err;
}
