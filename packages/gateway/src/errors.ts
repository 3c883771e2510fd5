// Errors of the chat API, shared by HTTP (status + body) and WebSocket (RESPONSE error); the codes and
// their statuses are @chat/protocol's API_ERRORS. Every code is listed in packages/gateway/README.md ("Errors"); a unit test keeps the two in step.

import { API_ERRORS, type ApiErrorCode } from '@chat/protocol';

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
