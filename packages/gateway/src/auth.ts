// Session tokens: HS256 JWTs signed with JWT_SECRET (jose). The subject is the user id; the
// username rides along so a gateway can build message authors without a lookup.
import { jwtVerify, SignJWT } from 'jose';

export interface TokenClaims {
  userId: string;
  username: string;
}

export interface TokenService {
  sign(claims: TokenClaims): Promise<string>;
  /** The claims of a valid, unexpired token; null for anything else (forged, expired, malformed). */
  verify(token: unknown): Promise<TokenClaims | null>;
}

const ISSUER = 'chat-gateway';

export function createTokenService(secret: string, ttlSeconds: number): TokenService {
  const key = new TextEncoder().encode(secret);
  return {
    async sign({ userId, username }) {
      return new SignJWT({ name: username })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER });
        if (typeof payload.sub !== 'string' || typeof payload.name !== 'string') return null;
        return { userId: payload.sub, username: payload.name };
      } catch {
        return null;
      }
    },
  };
}
