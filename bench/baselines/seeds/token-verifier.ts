// IDENTIFY tokens: HS256 JWTs signed with the run's secret (PeerStartOptions.jwtSecret), subject =
// user id, as the gateway's token service issues them (`name` claim = username when present). Any
// issuer is accepted: a baseline only needs to know who the user is and that the token is genuine.
import { jwtVerify } from 'jose';

export interface TokenClaims {
  userId: string;
  username: string;
}

/** Resolves with the claims of a valid, unexpired token; null for anything else. */
export type TokenVerifier = (token: unknown) => Promise<TokenClaims | null>;

export function tokenVerifier(secret: string): TokenVerifier {
  const key = new TextEncoder().encode(secret);
  return async (token) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || payload.sub === '') return null;
      return { userId: payload.sub, username: typeof payload.name === 'string' ? payload.name : payload.sub };
    } catch {
      return null;
    }
  };
}
