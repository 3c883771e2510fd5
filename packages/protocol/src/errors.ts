// Error codes of the chat API (docs/protocol.md §7), shared by HTTP (status + body) and WebSocket
// (RESPONSE error): each code with its HTTP status.
import type { Infer } from './infer.js';

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

/** The body of every HTTP error response (the Retry-After header carries the wait). */
export const ErrorBody = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;
export type ErrorBody = Infer<typeof ErrorBody>;

/** The error of a failed RESPONSE (op 21); `retry_after_ms` on overloaded and rate_limited. */
export const ResponseError = {
  type: 'object',
  properties: { ...ErrorBody.properties, retry_after_ms: { type: 'integer', minimum: 0 } },
  required: ErrorBody.required,
} as const;
export type ResponseError = Infer<typeof ResponseError>;
