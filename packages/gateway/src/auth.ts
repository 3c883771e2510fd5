// Session tokens: HS256 JWTs signed with JWT_SECRET (jose). The subject is the user id; the
// username rides along so a gateway can build message authors without a lookup; `ver` is the user's
// token version when it was issued. `revocable()` checks it against the store's current version on
// every verification (IDENTIFY, RESUME and every authenticated HTTP request), so a logout — which bumps
// the version — revokes every token issued before it on every gateway at once. Verification checks the
// signature with node:crypto (hs256.ts says why not jose) and the claims here.
import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { ApiError } from './errors.js';
import { verifyHs256 } from './hs256.js';

export interface TokenClaims {
  userId: string;
  username: string;
  /** The user's token version at issue (0 for tokens issued before versions existed). */
  version?: number;
}

export interface TokenService {
  sign(claims: TokenClaims): Promise<string>;
  /** The claims of a valid, unexpired token; null for anything else (forged, expired, malformed). */
  verify(token: unknown): Promise<TokenClaims | null>;
}

const ISSUER = 'chat-gateway';

export function createTokenService(secret: string, ttlSeconds: number): TokenService {
  // Imported once: given raw bytes, jose imports the key again on every sign (W4 profile).
  const keyP = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const verifyKey = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    async sign({ userId, username, version }) {
      const key = await keyP;
      return new SignJWT({ name: username, ver: version ?? 0 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
      const payload = verifyHs256(token, verifyKey);
      return payload && claimsOf(payload, Math.floor(Date.now() / 1000));
    },
  };
}

/**
 * The claims of a signed payload that is valid at `now` (seconds): issued by this service, `exp`
 * required and in the future, `nbf` and `iat` numbers when present (`nbf` not in the future), a string
 * subject and name, an integer `ver` (absent: 0). What jose's jwtVerify checked before, no tolerance.
 */
function claimsOf(payload: Record<string, unknown>, now: number): TokenClaims | null {
  const { iss, exp, nbf, iat, sub, name, ver } = payload;
  if (iss !== ISSUER) return null;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) return null;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return null;
  if (iat !== undefined && typeof iat !== 'number') return null;
  if (typeof sub !== 'string' || typeof name !== 'string') return null;
  const version = ver === undefined ? 0 : ver;
  if (typeof version !== 'number' || !Number.isInteger(version)) return null;
  return { userId: sub, username: name, version };
}

/** Where the current token version of a user is kept (the store's accounts). */
export interface TokenVersions {
  /** The current version; null when the user does not exist (any token of theirs is refused). */
  tokenVersion(userId: string): Promise<number | null>;
}

/**
 * Tokens that can be revoked: `sign` stamps the user's current version, `verify` refuses a token whose
 * version is not the current one (or whose user is gone). One indexed read per verification.
 */
export function revocable(tokens: TokenService, versions: TokenVersions): TokenService {
  /** A store failure is not a bad token: `unavailable` (503 over HTTP; a reconnect for sockets). */
  const current = async (userId: string) => {
    try {
      return await versions.tokenVersion(userId);
    } catch (err) {
      throw new ApiError('unavailable', 'cannot check the token right now; retry', { cause: err });
    }
  };
  return {
    async sign(claims) {
      return tokens.sign({ ...claims, version: (await current(claims.userId)) ?? 0 });
    },
    async verify(token) {
      const claims = await tokens.verify(token);
      if (!claims) return null;
      return (await current(claims.userId)) === (claims.version ?? 0) ? claims : null;
    },
  };
}
