// @chat/admin — a typed client of the operator's routes of the HTTP API (docs/protocol.md §6.2,
// `/api/v1/admin/…`), for the chat-admin CLI (Node) and the admin page (browsers): fetch only, no
// dependencies. Logs in with the ordinary POST /sessions; the user must be named in the gateway's
// ADMIN_USERS (else every call fails with 403 `forbidden`).
import type { AdminGateway, AdminQueues, DeadLetter, DeadLetters, LoginResult } from '@chat/protocol';

export type { AdminGateway, AdminQueue, AdminQueues, DeadLetter, DeadLetters } from '@chat/protocol';

/** An answer other than success: the HTTP status and the API's error code (`forbidden`, `not_found`, …). */
export class AdminApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(`${status} ${code}: ${message}`);
    this.name = 'AdminApiError';
    this.status = status;
    this.code = code;
  }
}

export class AdminApi {
  /** `base`: the site's origin (`http://localhost:8080`), '' for the page's own origin. */
  readonly base: string;
  readonly token: string;

  constructor(base: string, token: string) {
    this.base = base.replace(/\/+$/, '');
    this.token = token;
  }

  /** Logs in (POST /api/v1/sessions) and returns a client with the token. */
  static async login(base: string, username: string, password: string): Promise<AdminApi> {
    const r = await call<LoginResult>(base.replace(/\/+$/, ''), 'POST', '/sessions', undefined, { username, password });
    return new AdminApi(base, r.token);
  }

  gateways(): Promise<AdminGateway[]> {
    return this.#call('GET', '/admin/gateways');
  }

  queues(): Promise<AdminQueues> {
    return this.#call('GET', '/admin/queues');
  }

  /** The first `limit` (1..100) dead letters, oldest first; nothing is taken from the queue. */
  deadLetters(limit?: number): Promise<DeadLetters> {
    return this.#call('GET', `/admin/dead-letters${limit === undefined ? '' : `?limit=${limit}`}`);
  }

  /** Republishes the dead letter to the persist queue (confirmed), then removes it from the dead-letter queue. */
  requeue(id: string): Promise<DeadLetter> {
    return this.#call('POST', `/admin/dead-letters/${encodeURIComponent(id)}/requeue`);
  }

  /** Removes the dead letter for good. */
  discard(id: string): Promise<DeadLetter> {
    return this.#call('DELETE', `/admin/dead-letters/${encodeURIComponent(id)}`);
  }

  #call<T>(method: string, path: string): Promise<T> {
    return call<T>(this.base, method, path, this.token);
  }
}

async function call<T>(base: string, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { code?: string; message?: string };
    throw new AdminApiError(res.status, e.code ?? 'http_error', e.message ?? (text.slice(0, 200) || res.statusText));
  }
  return parsed as T;
}
