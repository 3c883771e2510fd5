// The tokens the peers scenario's load generators present to every system: HS256 JWTs signed with
// `PeerStartOptions.jwtSecret` in the gateway's format (subject = the peer's user id `u<n>`, `name` =
// the same, issuer `chat-gateway`, 24 h), so that this system's gateways accept them as they are and
// the other systems verify the same token (signature and `sub`).
import { createTokenService } from '@chat/gateway';
import { pool } from '../lib/users.js';

export function peerTokens(secret: string, users: readonly string[]): Promise<string[]> {
  const tokens = createTokenService(secret, 86_400);
  return pool(users, 16, (id) => tokens.sign({ userId: id, username: id }));
}
