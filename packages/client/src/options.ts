// The options of `createClient`: what each means, its default, and the one place that validates them
// (InvalidArgumentError naming the option) and freezes the result.

import type { Logger } from '@chat/protocol';
import { InvalidArgumentError } from './errors.js';
import type { BackoffOptions } from './internal/backoff.js';
import type { FetchLike } from './internal/http-api.js';
import type { OverloadRetryOptions } from './internal/overload-retry.js';
import type { WebSocketConstructor } from './internal/websocket.js';

export interface ClientOptions {
  /** `http(s)://host:port[/prefix]`: the HTTP API is at `<baseUrl>/api/v1/…`, the WebSocket at `ws(s)://…/ws`. */
  baseUrl: string;
  /** A JWT from an earlier `login()`. Default: none (call `login()` before `connect()`, or pass `getToken`). */
  token?: string | null;
  /**
   * Where a token comes from when the client needs one: called by `connect()` when the client holds
   * no token, and when the server refuses the token with close 4004 (expired, revoked, forged) — then
   * the client reconnects at once with the new token (a RESUME, so nothing is missed). At most one
   * refresh per refused token: a fresh token refused again, a throw, or an empty result ends the
   * session with AuthenticationFailedError. Default: none (4004 ends the session).
   */
  getToken?: () => string | null | Promise<string | null>;
  /** WebSocket constructor. Default: `globalThis.WebSocket`, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** `fetch` for the HTTP API. Default: `globalThis.fetch`. */
  fetch?: FetchLike;
  /** How long a REQUEST (op 20) or an HTTP call waits for its answer, in ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** How long one connection attempt may take from opening the socket to READY/RESUMED, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Reconnect backoff and limit. Defaults: `initialDelayMs` 250, `maxDelayMs` 10 000, `jitter` 0.2,
   * `maxAttempts` Infinity (reconnect until `close()`).
   */
  reconnect?: Partial<ReconnectOptions>;
  /**
   * Retrying requests the server shed with `overloaded` (not done: safe to repeat, same nonce).
   * Defaults: `maxRetries` 4, `initialDelayMs` 250, `maxDelayMs` 5 000; the server's hint is a floor.
   */
  overloadRetry?: Partial<OverloadRetryOptions>;
  /** How far before the highest id seen a RESUME starts, in ms of snowflake time. Default 10 000. */
  resumeMarginMs?: number;
  /** How many message ids the de-duplication remembers (LRU). Default 10 000. */
  dedupCapacity?: number;
  /** S, for the `?slot=` placement hint. Default 1024. */
  slots?: number;
  /** pino-compatible logger (`console` works). Default: silent. */
  logger?: Logger;
}

/** `reconnect` of ClientOptions: the backoff between attempts, and how many attempts in a row at most. */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * Failed reconnect attempts in a row after which the client gives up: state `closed` (its
   * `StateChange` carries the last close code and a ReconnectFailedError) and the requests waiting
   * for a session reject with ReconnectFailedError. A positive integer or Infinity (the default).
   */
  maxAttempts: number;
}

export interface ResolvedClientOptions {
  readonly baseUrl: string;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: Readonly<ReconnectOptions>;
  readonly overloadRetry: Readonly<OverloadRetryOptions>;
  readonly resumeMarginMs: number;
  readonly dedupCapacity: number;
  readonly slots: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** Default: the client's `requestTimeoutMs`. */
  timeoutMs?: number;
}

/** `value`, or `fallback` when undefined; InvalidArgumentError unless a positive finite number. */
export function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** Validates `o` (InvalidArgumentError naming the first bad option) and returns it resolved and frozen. */
export function resolveOptions(o: ClientOptions): ResolvedClientOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('options must be an object');
  let url: URL;
  try {
    url = new URL(o.baseUrl);
  } catch {
    throw new InvalidArgumentError(`baseUrl must be an absolute http(s) URL, got ${String(o.baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`baseUrl must use http: or https:, got ${url.protocol}`);
  if (o.WebSocket !== undefined && typeof o.WebSocket !== 'function')
    throw new InvalidArgumentError('WebSocket must be a constructor');
  if (o.fetch !== undefined && typeof o.fetch !== 'function')
    throw new InvalidArgumentError('fetch must be a function');
  if (o.token !== undefined && o.token !== null && typeof o.token !== 'string')
    throw new InvalidArgumentError('token must be a string');
  if (o.getToken !== undefined && typeof o.getToken !== 'function')
    throw new InvalidArgumentError('getToken must be a function');
  const r = o.reconnect ?? {};
  const jitter = r.jitter ?? 0.2;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))
    throw new InvalidArgumentError(`reconnect.jitter must be within 0..1, got ${String(jitter)}`);
  const maxAttempts = r.maxAttempts ?? Number.POSITIVE_INFINITY;
  if (
    typeof maxAttempts !== 'number' ||
    !(maxAttempts === Number.POSITIVE_INFINITY || (Number.isInteger(maxAttempts) && maxAttempts >= 1))
  )
    throw new InvalidArgumentError(
      `reconnect.maxAttempts must be an integer ≥ 1 or Infinity, got ${String(maxAttempts)}`,
    );
  const reconnect = Object.freeze({
    initialDelayMs: positive('reconnect.initialDelayMs', r.initialDelayMs, 250),
    maxDelayMs: positive('reconnect.maxDelayMs', r.maxDelayMs, 10_000),
    jitter,
    maxAttempts,
  });
  if (reconnect.maxDelayMs < reconnect.initialDelayMs)
    throw new InvalidArgumentError('reconnect.maxDelayMs must be ≥ reconnect.initialDelayMs');
  const or = o.overloadRetry ?? {};
  const maxRetries = or.maxRetries ?? 4;
  if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0)
    throw new InvalidArgumentError(`overloadRetry.maxRetries must be an integer ≥ 0, got ${String(maxRetries)}`);
  const overloadRetry = Object.freeze({
    maxRetries,
    initialDelayMs: positive('overloadRetry.initialDelayMs', or.initialDelayMs, 250),
    maxDelayMs: positive('overloadRetry.maxDelayMs', or.maxDelayMs, 5_000),
  });
  const resumeMarginMs = o.resumeMarginMs ?? 10_000;
  if (typeof resumeMarginMs !== 'number' || !Number.isInteger(resumeMarginMs) || resumeMarginMs < 0)
    throw new InvalidArgumentError(`resumeMarginMs must be an integer ≥ 0, got ${String(resumeMarginMs)}`);
  const dedupCapacity = positive('dedupCapacity', o.dedupCapacity, 10_000);
  const slots = positive('slots', o.slots, 1024);
  if (!Number.isInteger(dedupCapacity) || !Number.isInteger(slots))
    throw new InvalidArgumentError('dedupCapacity and slots must be integers');
  return Object.freeze({
    baseUrl: url.href.replace(/\/+$/, ''),
    WebSocket: o.WebSocket,
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 10_000),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, 10_000),
    reconnect,
    overloadRetry,
    resumeMarginMs,
    dedupCapacity,
    slots,
  });
}
