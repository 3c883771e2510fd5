// Verifies the signature of an HS256 JWT (compact form) with node:crypto, synchronously. Why not
// jose's jwtVerify, which signs them (auth.ts): jose 6 verifies through WebCrypto, an async crypto job
// per token, and in a reconnect storm that was the largest cost of a RESUME at the gateway (24 % of a
// gateway's busy time in the W4 all-drop storm, bench/results/w4-storm-2026-12-02-late.md; an HMAC with
// node:crypto costs a few µs). Only what the signature protects is checked here: the header must say
// exactly HS256 (no other algorithm, no `crit` extensions) and the HMAC of `header.payload` must equal
// the signature (constant-time compare). The payload's claims are the caller's to validate.
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';

/** base64url without padding, as JWS compact serialisation writes it. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The decoded payload of `token` when its header is `{"alg":"HS256", …}` and its signature is the
 * HMAC-SHA256 of its first two parts under `key`; null for anything else (wrong shape, algorithm,
 * signature, or a payload that is not a JSON object).
 */
export function verifyHs256(token: string, key: KeyObject): Record<string, unknown> | null {
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot <= 0 || secondDot <= firstDot + 1 || token.indexOf('.', secondDot + 1) !== -1) return null;
  const header = token.slice(0, firstDot);
  const payload = token.slice(firstDot + 1, secondDot);
  const signature = token.slice(secondDot + 1);
  if (!BASE64URL.test(header) || !BASE64URL.test(payload) || !BASE64URL.test(signature)) return null;
  const expected = createHmac('sha256', key).update(token.slice(0, secondDot)).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const h = jsonObject(header);
  if (h?.alg !== 'HS256' || 'crit' in h || 'b64' in h) return null;
  return jsonObject(payload);
}

function jsonObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
