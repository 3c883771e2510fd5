// CORS for the HTTP API: browsers on the configured origins (CORS_ORIGINS, exact matches) may call it
// cross-origin. Tokens travel in `Authorization`, never in cookies, so credentials are not allowed.
// Any other origin gets no CORS header at all, and its browser keeps the answer from the page.

/** Request headers a cross-origin caller may send (the SDK sends these). */
const ALLOW_HEADERS = 'authorization, content-type';
/** Response headers a cross-origin page may read (the SDK reads Retry-After on 429/503). */
const EXPOSE_HEADERS = 'retry-after';
/** How long a browser may cache a preflight answer, in seconds. */
export const PREFLIGHT_MAX_AGE_S = 600;

export class CorsPolicy {
  readonly #origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.#origins = new Set(origins);
  }

  /** True when `origin` (the request's Origin header) is one of the configured origins. */
  allows(origin: string): boolean {
    return origin !== '' && this.#origins.has(origin);
  }

  /**
   * Headers for an ordinary answer: `Access-Control-Allow-Origin` for an allowed origin, and
   * `Vary: Origin` whenever CORS is configured (the answer differs by origin, caches must know).
   */
  headers(origin: string): Record<string, string> {
    if (this.#origins.size === 0) return {};
    if (!this.allows(origin)) return { vary: 'Origin' };
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'Origin' };
  }

  /** Headers answering a preflight (OPTIONS) for a resource that takes `methods`: none for another origin. */
  preflight(origin: string, methods: readonly string[]): Record<string, string> {
    if (!this.allows(origin)) return this.headers(origin);
    return {
      ...this.headers(origin),
      'access-control-allow-methods': methods.join(', '),
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    };
  }
}
