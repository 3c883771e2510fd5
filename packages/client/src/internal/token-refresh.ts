// The token a socket authenticates with, and its refresh through `getToken` (ClientOptions.getToken).
// Guarantees: `getToken` is asked only when no token is held or the server refused the held one
// (close 4004); at most once per refused token — a refreshed token refused again, a throw, or an
// empty result is final (AuthenticationFailedError); a late answer of an abandoned run is dropped.
import { AuthenticationFailedError, type ChatClientError, NotAuthenticatedError } from '../errors.js';

export interface TokenStore {
  /** The token shared with the HTTP API. */
  token(): string | null;
  setToken(token: string): void;
  /** Where a fresh token comes from; undefined: nowhere. */
  getToken: (() => string | null | Promise<string | null>) | undefined;
}

export class TokenRefresh {
  readonly #store: TokenStore;
  /** The server refused the token (4004): the next attempt asks getToken for a new one first. */
  #refused = false;
  /** A refreshed token has not yet reached a session: a second 4004 is final. */
  #refreshing = false;

  constructor(store: TokenStore) {
    this.#store = store;
  }

  /** Whether a socket can ever get a token: one is held, or getToken can give one. */
  get available(): boolean {
    return Boolean(this.#store.token()) || this.#store.getToken !== undefined;
  }

  /** A new run (connect()). */
  reset(): void {
    this.#refused = false;
    this.#refreshing = false;
  }

  /** The server refused the token (4004). True when a refresh may be tried, false when the refusal is final. */
  refused(): boolean {
    if (!this.#store.getToken || this.#refreshing) return false;
    this.#refused = true;
    this.#refreshing = true;
    return true;
  }

  /** A session was established with the current token. */
  accepted(): void {
    this.#refreshing = false;
  }

  /**
   * Makes sure a token is held: asks getToken when there is none or it was refused. Resolves with
   * 'ok', 'stale' (`isCurrent()` turned false meanwhile: nothing changed), or the error that ends
   * the run. Never rejects.
   */
  async ensure(isCurrent: () => boolean): Promise<'ok' | 'stale' | ChatClientError> {
    if (this.#store.token() && !this.#refused) return 'ok';
    const getToken = this.#store.getToken;
    if (!getToken) return new NotAuthenticatedError('no token: pass `token` or `getToken`, or call login() first');
    let token: string | null;
    try {
      token = await getToken();
    } catch (cause) {
      return isCurrent() ? new AuthenticationFailedError('getToken() failed', { cause }) : 'stale';
    }
    if (!isCurrent()) return 'stale';
    if (typeof token !== 'string' || token.length === 0)
      return new AuthenticationFailedError('getToken() returned no token');
    this.#store.setToken(token);
    this.#refused = false;
    return 'ok';
  }
}
