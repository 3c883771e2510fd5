// The HTTP API of a running system as the benchmarks' set-up steps use it: one JSON call that fails
// with the status and body (and, on 429, with the gateway variables that raise the limits), and
// sign-up of many users (POST /api/users, then POST /api/sessions for a token the gateway signed).
import { pool } from './users.js';

export const BENCH_PASSWORD = 'correct horse battery staple';

const RATE_HINT =
  'the gateways rate-limited the set-up (429): start the system with raised limits, e.g. ' +
  'HTTP_RATE_REQUESTS=1000000 USER_RATE_REQUESTS=1000000 RATE_FRAMES=1000000 RATE_BURST=1000000 ' +
  'SIGNUP_RATE_REQUESTS=100000000 LOGIN_RATE_REQUESTS=1000000 LOGIN_ADDRESS_RATE_REQUESTS=100000000 npm start';

const ATTEMPTS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One JSON request; resolves with the parsed body of a 2xx answer, rejects with a clear error
 * otherwise. A 502/503 from nginx or a failed connection is retried (up to 4 attempts): under load a
 * gateway may reset an upstream connection, and nginx does not retry a POST itself. A retried request
 * may have taken effect the first time: `conflictIsDone` takes a 409 after a retry as success.
 */
export async function apiCall(
  base: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
  o: { conflictIsDone?: boolean } = {},
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      if (attempt < ATTEMPTS) {
        await sleep(500 * attempt);
        continue;
      }
      throw new Error(
        `${method} ${base}${path}: ${(err as Error).cause ?? (err as Error).message} (is the system running?)`,
      );
    }
    const text = await res.text();
    if ((res.status === 502 || res.status === 503) && attempt < ATTEMPTS) {
      await sleep(500 * attempt);
      continue;
    }
    if (res.status === 409 && attempt > 1 && o.conflictIsDone) return null;
    if (res.status === 429) throw new Error(RATE_HINT);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  }
}

export interface SignedUp {
  username: string;
  id: string;
  token: string;
}

/** Registers each username and logs it in (each a scrypt on a gateway), `concurrency` at a time. */
export function signUpAll(base: string, usernames: readonly string[], concurrency: number): Promise<SignedUp[]> {
  return pool(usernames, concurrency, async (username) => {
    await apiCall(base, 'POST', '/api/users', { username, password: BENCH_PASSWORD }, undefined, {
      conflictIsDone: true,
    });
    const s = (await apiCall(base, 'POST', '/api/sessions', { username, password: BENCH_PASSWORD })) as {
      token: string;
      user: { id: string };
    };
    return { username, id: s.user.id, token: s.token };
  });
}
