// The HTTP API of docs/protocol.md §6 over `fetch`: JSON in and out, `Authorization: Bearer <JWT>`,
// error statuses mapped to ChatApiError. A call is one attempt, except that a 503 `overloaded`
// (the server shed the request, did nothing) — or a 503 `unavailable` to a POST …/messages with a nonce
// (the server deduplicates it) — is sent again after its Retry-After plus jitter.
import { ChatApiError, NetworkError, ProtocolError, RequestTimeoutError } from '../errors.js';
import { carriesNonce, type OverloadRetryOptions, retryOverloaded } from './overload-retry.js';

/** The part of `fetch` the client uses; the global `fetch` fits. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<Response>;

export interface HttpApiOptions {
  /** `http(s)://host:port[/prefix]`, without a trailing slash. */
  baseUrl: string;
  fetch: FetchLike;
  timeoutMs: number;
  overloadRetry: OverloadRetryOptions;
  token: () => string | null;
}

export interface CallOptions {
  /** Send the token (default true; false for sign-up and login). */
  auth?: boolean;
  /** Default: the client's `requestTimeoutMs`; covers the overload retries too. */
  timeoutMs?: number;
}

/** Seconds from a `Retry-After` header: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

export class HttpApi {
  readonly #o: HttpApiOptions;

  constructor(options: HttpApiOptions) {
    this.#o = options;
  }

  /**
   * One HTTP call. Resolves with the decoded JSON body (undefined for an empty body such as 204);
   * rejects with ChatApiError (error status), RequestTimeoutError or NetworkError.
   */
  call<T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#o.timeoutMs;
    return retryOverloaded(
      () => this.#once<T>(method, path, body, options.auth ?? true, timeoutMs),
      this.#o.overloadRetry,
      Date.now() + timeoutMs,
      undefined,
      undefined,
      method === 'POST' && /\/messages$/.test(path) && carriesNonce(body),
    );
  }

  async #once<T>(method: string, path: string, body: unknown, auth: boolean, timeoutMs: number): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = auth ? this.#o.token() : null;
    if (token) headers.authorization = `Bearer ${token}`;
    const init: Parameters<FetchLike>[1] = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    if (controller) init.signal = controller.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller?.abort();
    }, timeoutMs);
    const what = `${method} ${path}`;
    try {
      let res: Response;
      let text: string;
      try {
        res = await this.#o.fetch(this.#o.baseUrl + path, init);
        text = await res.text();
      } catch (err) {
        if (timedOut) throw new RequestTimeoutError(`${what}: no answer within ${timeoutMs} ms`);
        throw new NetworkError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
      if (!res.ok) {
        let code = `http_${res.status}`;
        let message = res.statusText || `HTTP ${res.status}`;
        try {
          const e = JSON.parse(text) as { code?: unknown; message?: unknown };
          if (typeof e.code === 'string') code = e.code;
          if (typeof e.message === 'string') message = e.message;
        } catch {
          // not JSON (a proxy's error page): keep the status line
        }
        throw new ChatApiError(res.status, code, message, parseRetryAfter(res.headers.get('retry-after')));
      }
      if (text.length === 0) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new ProtocolError(`${what}: the ${res.status} response body is not JSON`, undefined, { cause });
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
