// Errors of the chat API, shared by HTTP (status + body) and WebSocket (RESPONSE error); the codes and
// their statuses are @chat/protocol's API_ERRORS. Every code is listed in packages/gateway/README.md
// ("Errors"); a unit test keeps the two in step. `failureOf` is the one place a failed command becomes
// the error a client is answered with.
import { API_ERRORS, type ApiErrorCode, type Logger } from '@chat/protocol';

export { API_ERRORS, type ApiErrorCode };

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
