// Request validation: exact shapes, unknown fields rejected (PROTOCOL.md §6), limits enforced.
import { isSnowflake } from '@chat/router';
import { ApiError } from './errors.js';

export type Shape = Record<string, 'string' | 'string?' | 'snowflake' | 'snowflake?' | 'int?' | 'string[]?'>;

/** Checks an object against a shape; throws `invalid_request` / `unknown_field` naming the field. */
export function checkShape<T>(value: unknown, shape: Shape, where = 'body'): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('invalid_request', `${where} must be a JSON object`);
  }
  for (const key of Object.keys(value)) {
    if (!(key in shape)) throw new ApiError('unknown_field', `unknown field "${key}" in ${where}`);
  }
  const v = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(shape)) {
    const x = v[key];
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
          ? isSnowflake(x)
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

/** A channel or user id in a path or field: what our ids look like, nothing else. */
export function checkId(id: unknown, what: string): string {
  if (typeof id !== 'string' || !/^[0-9]{1,20}$/.test(id)) throw new ApiError('not_found', `unknown ${what}`);
  return id;
}
