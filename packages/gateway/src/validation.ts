// Request validation (docs/protocol.md §6) against the schemas of @chat/protocol: exact shapes, unknown
// fields rejected, limits enforced, failures turned into API errors. Guarantees: only a value's own
// properties are looked at (a field named `constructor`, `toString` or `__proto__` is an unknown field,
// never an inherited one); ids are snowflakes (decimal, no leading zeros, < 2^63); bad path encoding is a 400.
import {
  checkContent as contentOf,
  isSnowflake,
  MAX_NONCE_LENGTH,
  SNOWFLAKE_PATTERN,
  type Validator,
} from '@chat/protocol';
import { ApiError } from './errors.js';

/** A snowflake id as a decimal string: no sign, no leading zeros, below 2^63. */
export const isId: (value: unknown) => value is string = isSnowflake;

/** A path segment, percent-decoded; malformed encoding is `invalid_request` (400), not an exception. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('invalid_request', 'malformed percent-encoding in the path');
  }
}

type FieldSchema = { type?: string; pattern?: string; anyOf?: readonly FieldSchema[] };

/** How an error message names what a field must be. */
function expected(s: FieldSchema | undefined): string {
  const first = s?.anyOf ? s.anyOf.find((b) => b.type !== 'null') : s;
  if (first?.pattern === SNOWFLAKE_PATTERN) return 'an id (decimal string)';
  if (first?.type === 'integer') return 'a int';
  if (first?.type === 'array') return 'a string[]';
  return `a ${first?.type ?? 'value'}`;
}

/** Checks a value against a protocol schema; throws `invalid_request` / `unknown_field` naming the field. */
export function checkShape<T>(value: unknown, v: Validator<T>, where = 'body'): T {
  const failure = v.failure(value);
  if (!failure) return value as T;
  switch (failure.kind) {
    case 'unknown_field':
      throw new ApiError('unknown_field', `unknown field "${failure.field}" in ${where}`);
    case 'missing':
      throw new ApiError('invalid_request', `"${failure.field}" is required`);
    case 'invalid': {
      const props = (v.schema as { properties?: Record<string, FieldSchema> }).properties;
      throw new ApiError('invalid_request', `"${failure.field}" must be ${expected(props?.[failure.field])}`);
    }
    default:
      throw new ApiError('invalid_request', `${where} must be a JSON object`);
  }
}

/** Content after trimming: 1..max Unicode code points. */
export function checkContent(content: string, max: number): string {
  const c = contentOf(content, max);
  if ('content' in c) return c.content;
  if (c.problem === 'too_long') throw new ApiError('payload_too_large', `content is longer than ${max} characters`);
  throw new ApiError('invalid_request', 'content must not be empty');
}

export function checkNonce(nonce: string | undefined | null): string | undefined {
  if (nonce === undefined || nonce === null) return undefined;
  if (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)
    throw new ApiError('invalid_request', `nonce must be 1-${MAX_NONCE_LENGTH} characters`);
  return nonce;
}

/** A channel, message or user id in a path or field: a snowflake (isId); anything else names nothing (404). */
export function checkId(id: unknown, what: string): string {
  if (!isId(id)) throw new ApiError('not_found', `unknown ${what}`);
  return id;
}
