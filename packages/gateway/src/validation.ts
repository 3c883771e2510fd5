// Request validation: exact shapes, unknown fields rejected (docs/protocol.md §6), limits enforced.
// Guarantees: only a value's own properties are looked at (a field named `constructor`,
// `toString` or `__proto__` is an unknown field, never an inherited one); ids are snowflakes as
// this system makes them (decimal, no leading zeros, < 2^63); bad path encoding is a 400.
import { ApiError } from './errors.js';

const ID_RE = /^(0|[1-9][0-9]{0,18})$/;
const MAX_ID = (1n << 63n) - 1n;

/** A snowflake id as a decimal string: no sign, no leading zeros, below 2^63. */
export function isId(value: unknown): value is string {
  // 18 digits and fewer are always below 2^63; only 19-digit strings need the exact comparison.
  return typeof value === 'string' && ID_RE.test(value) && (value.length < 19 || BigInt(value) <= MAX_ID);
}

/** A path segment, percent-decoded; malformed encoding is `invalid_request` (400), not an exception. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('invalid_request', 'malformed percent-encoding in the path');
  }
}

const own = (o: object, key: string) => Object.hasOwn(o, key);

export type Shape = Record<string, 'string' | 'string?' | 'snowflake' | 'snowflake?' | 'int?' | 'string[]?'>;

/** Checks an object against a shape; throws `invalid_request` / `unknown_field` naming the field. */
export function checkShape<T>(value: unknown, shape: Shape, where = 'body'): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('invalid_request', `${where} must be a JSON object`);
  }
  // JSON.parse makes "__proto__" an own property, which Object.keys lists: it is refused here.
  for (const key of Object.keys(value)) {
    if (!own(shape, key)) throw new ApiError('unknown_field', `unknown field "${key}" in ${where}`);
  }
  const v = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(shape)) {
    const x = own(v, key) ? v[key] : undefined;
    const optional = kind.endsWith('?');
    if (x === undefined || (optional && x === null)) {
      if (!optional) throw new ApiError('invalid_request', `"${key}" is required`);
      continue;
    }
    const base = kind.replace('?', '');
    const ok =
      base === 'string'
        ? typeof x === 'string'
        : base === 'snowflake'
          ? isId(x)
          : base === 'int'
            ? Number.isInteger(x)
            : Array.isArray(x) && x.every((e) => typeof e === 'string');
    if (!ok)
      throw new ApiError(
        'invalid_request',
        `"${key}" must be ${base === 'snowflake' ? 'an id (decimal string)' : `a ${base}`}`,
      );
  }
  return value as T;
}

/** Content after trimming: 1..max Unicode code points. */
export function checkContent(content: string, max: number): string {
  const trimmed = content.trim();
  let n = 0;
  for (const _ of trimmed)
    if (++n > max) throw new ApiError('payload_too_large', `content is longer than ${max} characters`);
  if (n === 0) throw new ApiError('invalid_request', 'content must not be empty');
  return trimmed;
}

export function checkNonce(nonce: string | undefined | null): string | undefined {
  if (nonce === undefined || nonce === null) return undefined;
  if (nonce.length === 0 || nonce.length > 64) throw new ApiError('invalid_request', 'nonce must be 1-64 characters');
  return nonce;
}

/** A channel, message or user id in a path or field: a snowflake (isId); anything else names nothing (404). */
export function checkId(id: unknown, what: string): string {
  if (!isId(id)) throw new ApiError('not_found', `unknown ${what}`);
  return id;
}
