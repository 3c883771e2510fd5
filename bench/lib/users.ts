// Users for the whole-system scenarios: registered through the gateway's HTTP API (the real path,
// scrypt included), tokens signed with the run's JWT secret by the gateway's own token service
// (so no scrypt login per user), and DM channels created through the HTTP API.
import { createTokenService } from '@chat/gateway';

export interface BenchUser {
  n: number;
  id: string;
  username: string;
  token: string;
}

async function post(
  base: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: { id?: string } | null }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Registers `u0..u<count-1>` (each run has a database of its own) and signs their tokens. */
export async function registerUsers(
  gatewayUrls: readonly string[],
  secret: string,
  count: number,
): Promise<BenchUser[]> {
  const tokens = createTokenService(secret, 86_400);
  return pool(
    Array.from({ length: count }, (_, n) => n),
    8,
    async (n) => {
      const username = `u${n}`;
      const reg = await post(gatewayUrls[n % gatewayUrls.length]!, '/api/users', {
        username,
        password: 'correct horse battery staple',
      });
      if (reg.status !== 201) throw new Error(`register ${username}: ${reg.status} ${JSON.stringify(reg.body)}`);
      const id = String(reg.body?.id);
      return { n, id, username, token: await tokens.sign({ userId: id, username }) };
    },
  );
}

/** Creates (or finds) the DM channel of two users; resolves with its id. */
export async function createDm(gatewayUrl: string, creator: BenchUser, other: BenchUser): Promise<string> {
  const res = await post(gatewayUrl, '/api/channels', { kind: 'dm', recipients: [other.id] }, creator.token);
  if (res.status !== 201) throw new Error(`DM ${creator.username}→${other.username}: ${res.status}`);
  return String(res.body?.id);
}
