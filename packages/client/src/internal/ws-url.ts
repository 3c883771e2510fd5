// The WebSocket URL of a deployment: `ws(s)://<baseUrl host and prefix>/ws?slot=<slotOf(userId)>`.
// The slot is only a placement hint for nginx's consistent hash (docs/protocol.md §1.3); the
// gateway computes the real slot itself, so a wrong or missing hint costs bindings, never correctness.
import { slotOf } from '@chat/protocol';

/** The socket URL for `baseUrl`; with the hint when `userId` is known. */
export function socketUrl(baseUrl: string, userId: string | undefined, slots: number): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws`;
  u.search = '';
  u.hash = '';
  if (userId) u.searchParams.set('slot', String(slotOf(userId, slots)));
  return u.href;
}

/** The `sub` claim of a JWT, read without verifying it (the server does that); undefined if unreadable. */
export function subjectOf(token: string | null): string | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
