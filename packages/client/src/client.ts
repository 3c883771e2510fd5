// The chat client: the HTTP API of docs/protocol.md §6 and the WebSocket session of §5 (HELLO,
// IDENTIFY/RESUME, heartbeats, reconnect with backoff, requests) behind one object with typed events.

import {
  CLIENT_BUG_CLOSE_CODES,
  CloseCode,
  frame as encodeFrame,
  type Logger,
  Op,
  parseServerFrame as parseFrame,
  readResponse as parseResponse,
  silentLogger,
  slotOf,
} from '@chat/protocol';
import {
  AuthenticationFailedError,
  type ChatClientError,
  ChatRequestError,
  ClientClosedError,
  ConnectionLostError,
  ConnectTimeoutError,
  InvalidArgumentError,
  NotAuthenticatedError,
  ProtocolError,
  ReconnectFailedError,
  RequestTimeoutError,
} from './errors.js';
import { type BackoffOptions, backoffDelay } from './internal/backoff.js';
import { Emitter, type Listener } from './internal/emitter.js';
import { type FetchLike, HttpApi } from './internal/http-api.js';
import { MessageDedup } from './internal/message-dedup.js';
import { createNonce } from './internal/nonce.js';
import { type OverloadRetryOptions, retryOverloaded } from './internal/overload-retry.js';
import { firstIdAt, isSnowflake, maxId, resumeSince } from './internal/snowflake.js';
import { CLOSED, OPEN, resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './internal/websocket.js';
import type {
  Channel,
  ChannelCreatePayload,
  ChannelMemberPayload,
  ConnectionState,
  CreateChannelInput,
  HistoryQuery,
  LoginResult,
  Message,
  MessageDeletePayload,
  PresenceUpdatePayload,
  ReadyPayload,
  RequestMethod,
  RequestMethods,
  ResumedPayload,
  Snowflake,
  TypingStartPayload,
  User,
} from './types.js';

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

/**
 * Why the state changed, passed with every `state` event. `code`/`reason`: the WebSocket close that
 * caused it (the server's code, 1006 for a connection that broke without a close frame, 4000 when
 * the client dropped a connection itself — dead heartbeat, RECONNECT, timeout — and 1000 for
 * `close()`). `error`: set when the client stopped on its own (state `closed` after 4004, after
 * `reconnect.maxAttempts`, or after a failed first attempt).
 */
export interface StateChange {
  code?: number;
  reason?: string;
  error?: ChatClientError;
}

/** Events and their listener arguments: the typed event map of `on`, `once` and `off`. */
export interface ClientEvents {
  ready: [payload: ReadyPayload];
  resumed: [payload: ResumedPayload];
  messageCreate: [message: Message];
  messageUpdate: [message: Message];
  messageDelete: [payload: MessageDeletePayload];
  typingStart: [payload: TypingStartPayload];
  channelCreate: [channel: ChannelCreatePayload];
  channelMemberAdd: [payload: ChannelMemberPayload];
  channelMemberRemove: [payload: ChannelMemberPayload];
  presenceUpdate: [payload: PresenceUpdatePayload];
  /** Every DISPATCH as received, duplicates included: `t` is the event name, `d` its payload. */
  dispatch: [t: string, d: unknown];
  state: [state: ConnectionState, previous: ConnectionState, change: StateChange];
  error: [error: ChatClientError];
}

type Timer = ReturnType<typeof setTimeout>;

/** One WebSocket and what belongs to it alone. */
interface Connection {
  readonly ws: WebSocketLike;
  /** What this connection sent to authenticate; null before HELLO. */
  mode: 'identify' | 'resume' | null;
  /** READY or RESUMED arrived. */
  established: boolean;
  heartbeat: ReturnType<typeof setInterval> | undefined;
  awaitingAck: boolean;
  beatSentAt: number;
  connectTimer: Timer | undefined;
}

interface PendingRequest {
  readonly id: string;
  readonly method: string;
  readonly params: unknown;
  readonly frame: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  timer: Timer | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const DISPATCH_EVENT_NAMES = {
  TYPING_START: 'typingStart',
  CHANNEL_CREATE: 'channelCreate',
  CHANNEL_MEMBER_ADD: 'channelMemberAdd',
  CHANNEL_MEMBER_REMOVE: 'channelMemberRemove',
  PRESENCE_UPDATE: 'presenceUpdate',
} as const satisfies Record<string, keyof ClientEvents>;

const DEFAULT_HEARTBEAT_MS = 30_000;
/** An event name of ClientEvents. */
export type ClientEventName = keyof ClientEvents;
/** The listener of event `K`. */
export type ClientEventListener<K extends ClientEventName> = Listener<ClientEvents[K]>;

/** Close code the client uses when it drops a connection to reconnect (1001 is not allowed in browsers). */
const CLIENT_RECONNECT_CLOSE = 4000;
/** How long after an error event the close event may take before the client assumes 1006. */
const ERROR_WITHOUT_CLOSE_MS = 250;

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

function resolveOptions(o: ClientOptions): ResolvedClientOptions {
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

/** Closes a socket the client is done with; resolves when it reports closed (or after 1 s). */
function closeSocket(ws: WebSocketLike, code: number, reason: string): Promise<void> {
  ws.onopen = null;
  ws.onmessage = null;
  // Keep an error listener: `ws` throws an 'error' event that has none.
  ws.onerror = () => {};
  if (ws.readyState === CLOSED) {
    ws.onclose = null;
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ws.onclose = null;
      resolve();
    };
    // A peer that is gone never answers the closing handshake; `ws` can drop the TCP connection.
    const timer = setTimeout(() => {
      (ws as { terminate?: () => void }).terminate?.();
      done();
    }, 1000);
    ws.onclose = done;
    try {
      ws.close(code, reason);
    } catch {
      done();
    }
  });
}

function isMessageLike(d: unknown): d is { id: string; content?: unknown; edited_timestamp?: unknown } {
  return typeof d === 'object' && d !== null && isSnowflake((d as { id?: unknown }).id);
}

/**
 * A client of one chat deployment. Create it with `createClient`. HTTP methods work without a
 * WebSocket; `connect()` starts the session, which then stays up (reconnecting and resuming) until
 * `close()`, an authentication failure (after the `getToken` refresh, if any) or `reconnect.maxAttempts`
 * failed reconnects in a row.
 */
export class ChatClient {
  /** The validated, frozen options. */
  readonly options: ResolvedClientOptions;
  readonly #log: Logger;
  readonly #http: HttpApi;
  readonly #events = new Emitter<ClientEvents>();
  readonly #dedup: MessageDedup;

  #token: string | null;
  readonly #getToken: (() => string | null | Promise<string | null>) | undefined;
  /** The server refused the token (4004): the next attempt asks getToken for a new one first. */
  #tokenRefused = false;
  /** A refreshed token has not yet reached a session: a second 4004 is final. */
  #refreshing = false;
  /** Bumped by connect() and close(): an async step of an older run sees it changed and stops. */
  #generation = 0;
  #user: User | null = null;
  #ready: ReadyPayload | null = null;
  #sessionId: string | null = null;
  #serverId: string | null = null;
  #state: ConnectionState = 'closed';
  #conn: Connection | null = null;
  /** The app wants a session: between connect() and close() or a terminal failure. */
  #wantOpen = false;
  /** No session yet since connect(): a failure ends the attempt instead of retrying. */
  #initial = false;
  /** The next authentication must be IDENTIFY (fresh connect, INVALID_SESSION, client-bug close). */
  #forceIdentify = true;
  #lastSeenId: string | null = null;
  #sequence: number | null = null;
  #latencyMs: number | null = null;
  #attempt = 0;
  #reconnectTimer: Timer | undefined;
  #waiter: Deferred<ReadyPayload> | null = null;
  /** Requests sent on the current connection, by id. */
  readonly #pending = new Map<string, PendingRequest>();
  /** Requests waiting for a session. */
  #queue: PendingRequest[] = [];
  #nextRequestId = 0;

  constructor(options: ClientOptions) {
    this.options = resolveOptions(options);
    this.#log = options.logger ?? silentLogger;
    this.#token = options.token ?? null;
    this.#getToken = options.getToken;
    this.#dedup = new MessageDedup(this.options.dedupCapacity);
    const injectedFetch = options.fetch;
    this.#http = new HttpApi({
      baseUrl: this.options.baseUrl,
      timeoutMs: this.options.requestTimeoutMs,
      overloadRetry: this.options.overloadRetry,
      token: () => this.#token,
      fetch: (url, init) => {
        const f = injectedFetch ?? (globalThis.fetch as FetchLike | undefined);
        if (!f) return Promise.reject(new InvalidArgumentError('no fetch in this runtime: pass options.fetch'));
        // Called unbound, a browser's fetch throws "Illegal invocation".
        return injectedFetch ? f(url, init) : f.call(globalThis, url, init);
      },
    });
  }

  // ── state ──────────────────────────────────────────────────────────────────────────────────

  get state(): ConnectionState {
    return this.#state;
  }
  /** The logged-in user: from `login()`, `me()` or READY. */
  get user(): User | null {
    return this.#user;
  }
  get token(): string | null {
    return this.#token;
  }
  /** `session_id` of the last READY. */
  get sessionId(): string | null {
    return this.#sessionId;
  }
  /** `server_id` of the gateway from the last HELLO. */
  get serverId(): string | null {
    return this.#serverId;
  }
  /**
   * The highest message/event id seen since `connect()` (for updates and deletes, a lower bound of
   * the event id). A reconnect resumes from it minus `resumeMarginMs`.
   */
  get lastSeenId(): Snowflake | null {
    return this.#lastSeenId;
  }
  /** The last `s` of the current connection (null before the first DISPATCH). */
  get sequence(): number | null {
    return this.#sequence;
  }
  /** Round trip of the last HEARTBEAT → HEARTBEAT_ACK, in ms. */
  get latencyMs(): number | null {
    return this.#latencyMs;
  }
  /** The last READY payload (its channel list is as of that READY). */
  get readyPayload(): ReadyPayload | null {
    return this.#ready;
  }

  /** Replaces the token used by HTTP calls and the next IDENTIFY/RESUME. */
  setToken(token: string | null): void {
    this.#token = token;
  }

  // ── events ─────────────────────────────────────────────────────────────────────────────────

  /** Calls `fn` on every `event`; returns the function that unsubscribes it. */
  on<K extends keyof ClientEvents>(event: K, fn: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(event, fn);
  }
  /** Calls `fn` on the next `event` only; returns the function that unsubscribes it. */
  once<K extends keyof ClientEvents>(event: K, fn: Listener<ClientEvents[K]>): () => void {
    return this.#events.once(event, fn);
  }
  off<K extends keyof ClientEvents>(event: K, fn: Listener<ClientEvents[K]>): void {
    this.#events.off(event, fn);
  }

  // ── HTTP API (docs/protocol.md §6): one attempt each, errors as ChatApiError ─────────────────────

  /** `POST /api/v1/users`: creates an account (does not log in). */
  register(username: string, password: string): Promise<User> {
    return this.#http.call('POST', '/api/v1/users', { username, password }, false);
  }

  /** `POST /api/v1/sessions`: logs in, and keeps the token and the user for later calls and `connect()`. */
  async login(username: string, password: string): Promise<LoginResult> {
    const res = await this.#http.call<LoginResult>('POST', '/api/v1/sessions', { username, password }, false);
    this.#token = res.token;
    this.#user = res.user;
    return res;
  }

  /**
   * `DELETE /api/v1/sessions`: logs out everywhere — every token issued to the user so far stops working on
   * every gateway (HTTP at once; open sockets at their next IDENTIFY/RESUME). Forgets the token; close
   * the socket with `close()` and `login()` again for a new one.
   */
  async logout(): Promise<void> {
    await this.#http.call('DELETE', '/api/v1/sessions');
    this.#token = null;
  }

  /** `GET /api/v1/users/@me`. */
  async me(): Promise<User> {
    const user = await this.#http.call<User>('GET', '/api/v1/users/@me');
    this.#user = user;
    return user;
  }

  /** `GET /api/v1/users/@me/channels`: the channels the user is a member of. */
  channels(): Promise<Channel[]> {
    return this.#http.call('GET', '/api/v1/users/@me/channels');
  }

  /** `POST /api/v1/channels`: the creator becomes a member. */
  createChannel(input: CreateChannelInput): Promise<Channel> {
    const body: Record<string, unknown> = { kind: input.kind };
    if (input.name !== undefined) body.name = input.name;
    if (input.recipients !== undefined) body.recipients = input.recipients;
    if (input.invite !== undefined) body.invite = input.invite;
    return this.#http.call('POST', '/api/v1/channels', body);
  }

  /** `POST /api/v1/channels/:id/members`. */
  async addMember(channelId: Snowflake, userId: Snowflake): Promise<void> {
    await this.#http.call('POST', `/api/v1/channels/${enc(channelId)}/members`, { user_id: userId });
  }

  /** `DELETE /api/v1/channels/:id/members/:userId`. */
  async removeMember(channelId: Snowflake, userId: Snowflake): Promise<void> {
    await this.#http.call('DELETE', `/api/v1/channels/${enc(channelId)}/members/${enc(userId)}`);
  }

  /** `GET /api/v1/channels/:id/messages`: newest first, `limit` ≤ 100 (server default 50). */
  history(channelId: Snowflake, query: HistoryQuery = {}): Promise<Message[]> {
    const q = new URLSearchParams();
    if (query.before !== undefined) q.set('before', query.before);
    if (query.after !== undefined) q.set('after', query.after);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    const qs = q.toString();
    return this.#http.call('GET', `/api/v1/channels/${enc(channelId)}/messages${qs ? `?${qs}` : ''}`);
  }

  /** `POST /api/v1/channels/:id/messages`: resolves once the write is durable. */
  sendMessage(channelId: Snowflake, content: string, nonce?: string): Promise<Message> {
    const body: Record<string, unknown> = { content };
    if (nonce !== undefined) body.nonce = nonce;
    return this.#http.call('POST', `/api/v1/channels/${enc(channelId)}/messages`, body);
  }

  /** `PATCH /api/v1/channels/:id/messages/:mid` (author only). */
  editMessage(channelId: Snowflake, messageId: Snowflake, content: string): Promise<Message> {
    return this.#http.call('PATCH', `/api/v1/channels/${enc(channelId)}/messages/${enc(messageId)}`, { content });
  }

  /** `DELETE /api/v1/channels/:id/messages/:mid` (author only). */
  async deleteMessage(channelId: Snowflake, messageId: Snowflake): Promise<void> {
    await this.#http.call('DELETE', `/api/v1/channels/${enc(channelId)}/messages/${enc(messageId)}`);
  }

  // ── WebSocket session ──────────────────────────────────────────────────────────────────────

  /**
   * Opens the session: HELLO, IDENTIFY, READY. Resolves with the READY payload. The first attempt
   * fails fast (rejects, state `closed`); once a session was established, drops are repaired by
   * reconnecting and resuming until `close()`, a 4004 that `getToken` cannot repair, or
   * `reconnect.maxAttempts` failed attempts. Without a token, `getToken` is asked for one first.
   * While open, returns the last READY.
   */
  connect(): Promise<ReadyPayload> {
    if (this.#state === 'open' && this.#ready) return Promise.resolve(this.#ready);
    if (this.#waiter) return this.#waiter.promise;
    const waiter = deferred<ReadyPayload>();
    if (this.#state === 'reconnecting') {
      this.#waiter = waiter; // the running reconnect settles it
      return waiter.promise;
    }
    if (!this.#token && !this.#getToken)
      return Promise.reject(
        new NotAuthenticatedError('connect() needs a token: pass `token` or `getToken`, or call login() first'),
      );
    this.#waiter = waiter;
    this.#wantOpen = true;
    this.#initial = true;
    this.#forceIdentify = true;
    this.#lastSeenId = null;
    this.#attempt = 0;
    this.#generation++;
    this.#tokenRefused = false;
    this.#refreshing = false;
    this.#setState('connecting');
    void this.#openSocket();
    return waiter.promise;
  }

  /**
   * Closes the session with 1000 and stops reconnecting. Pending and waiting requests reject with
   * ClientClosedError. Resolves when the socket has closed (the closing handshake is done, or the
   * socket was terminated after 1 s without an answer). `connect()` may be called again.
   */
  close(): Promise<void> {
    this.#generation++;
    this.#wantOpen = false;
    this.#initial = false;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const err = () => new ClientClosedError('the client was closed');
    const conn = this.#conn;
    let closed = Promise.resolve();
    if (conn) {
      this.#teardown(conn, err);
      closed = closeSocket(conn.ws, CloseCode.NORMAL, 'client closed');
    }
    this.#failWaiting(err());
    this.#setState('closed', { code: CloseCode.NORMAL, reason: 'client closed' });
    return closed;
  }

  /**
   * A REQUEST (op 20). Resolves with the RESPONSE result; rejects with ChatRequestError (the server
   * said no), RequestTimeoutError (no answer in time, the operation may have happened),
   * ConnectionLostError (dropped after sending: may have happened) or ClientClosedError. Issued while
   * (re)connecting, it waits for the session within the same timeout. At most once: never resent —
   * except after an `overloaded` answer, which means the server did nothing: then the same request
   * is sent again after the server's hint plus jitter (`overloadRetry`), within the same timeout.
   */
  request<M extends RequestMethod>(
    method: M,
    params: RequestMethods[M]['params'],
    options?: RequestOptions,
  ): Promise<RequestMethods[M]['result']>;
  request(method: string, params?: unknown, options?: RequestOptions): Promise<unknown>;
  request(method: string, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (!this.#wantOpen)
      return Promise.reject(new ClientClosedError(`${method}: the client is not connected (call connect())`));
    const timeoutMs = positive('timeoutMs', options.timeoutMs, this.options.requestTimeoutMs);
    const deadline = Date.now() + timeoutMs;
    return retryOverloaded(
      () => this.#requestOnce(method, params, Math.max(1, deadline - Date.now())),
      this.options.overloadRetry,
      deadline,
      () => this.#wantOpen,
      (retry, delayMs) => this.#log.debug({ method, retry, delayMs }, 'overloaded: sending the same request again'),
    );
  }

  #requestOnce(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.#wantOpen)
      return Promise.reject(new ClientClosedError(`${method}: the client is not connected (call connect())`));
    const id = `r${++this.#nextRequestId}`;
    return new Promise((resolve, reject) => {
      const p: PendingRequest = {
        id,
        method,
        params,
        frame: encodeFrame(Op.REQUEST, { id, method, params }),
        resolve,
        reject,
        timer: undefined,
      };
      p.timer = setTimeout(() => {
        this.#forget(p);
        reject(new RequestTimeoutError(`${method}: no RESPONSE within ${timeoutMs} ms`, { method, params }));
      }, timeoutMs);
      this.#sendRequest(p);
    });
  }

  /**
   * `message.create`: resolves with the stored message once the write is durable. A nonce is
   * generated when none is given; if the connection drops before the answer, the same request
   * (same nonce, so the server stores one message) is sent again on the next session, within
   * `timeoutMs` overall. A RequestTimeoutError carries the params (with the nonce) for a later retry.
   */
  async send(
    channelId: Snowflake,
    content: string,
    options: { nonce?: string; timeoutMs?: number } = {},
  ): Promise<Message> {
    const params = { channel_id: channelId, content, nonce: options.nonce ?? createNonce() };
    const deadline = Date.now() + positive('timeoutMs', options.timeoutMs, this.options.requestTimeoutMs);
    for (;;) {
      try {
        return await this.request('message.create', params, { timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        if (!(err instanceof ConnectionLostError) || !this.#wantOpen || Date.now() >= deadline) throw err;
        this.#log.debug({ nonce: params.nonce }, 'message.create: connection lost, sending again with the same nonce');
      }
    }
  }

  /** `message.update` (author only). */
  edit(channelId: Snowflake, messageId: Snowflake, content: string, options?: RequestOptions): Promise<Message> {
    return this.request('message.update', { channel_id: channelId, message_id: messageId, content }, options);
  }

  /** `message.delete` (author only). */
  async delete(channelId: Snowflake, messageId: Snowflake, options?: RequestOptions): Promise<void> {
    await this.request('message.delete', { channel_id: channelId, message_id: messageId }, options);
  }

  /** `typing.start`: an ephemeral TYPING_START to the channel's members. */
  async typing(channelId: Snowflake, options?: RequestOptions): Promise<void> {
    await this.request('typing.start', { channel_id: channelId }, options);
  }

  /** `history.get`: like `history()`, over the WebSocket. */
  getHistory(channelId: Snowflake, query: HistoryQuery = {}, options?: RequestOptions): Promise<Message[]> {
    const params: RequestMethods['history.get']['params'] = { channel_id: channelId };
    if (query.before !== undefined) params.before = query.before;
    if (query.after !== undefined) params.after = query.after;
    if (query.limit !== undefined) params.limit = query.limit;
    return this.request('history.get', params, options);
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  #setState(next: ConnectionState, change: StateChange = {}): void {
    const prev = this.#state;
    if (prev === next) return;
    this.#state = next;
    this.#log.debug({ state: next, previous: prev, code: change.code, reason: change.reason }, 'client state');
    this.#events.emit('state', next, prev, change);
  }

  /**
   * Makes sure a token is held before a socket opens: asks `getToken` when there is none or the
   * server refused the last one. False when the run is over (closed, restarted, or given up).
   */
  async #ensureToken(): Promise<boolean> {
    if (this.#token && !this.#tokenRefused) return true;
    const getToken = this.#getToken;
    if (!getToken) {
      this.#terminal(new NotAuthenticatedError('no token: pass `token` or `getToken`, or call login() first'));
      return false;
    }
    const generation = this.#generation;
    let token: string | null;
    try {
      token = await getToken();
    } catch (cause) {
      if (generation !== this.#generation || !this.#wantOpen) return false;
      this.#terminal(new AuthenticationFailedError('getToken() failed', { cause }));
      return false;
    }
    if (generation !== this.#generation || !this.#wantOpen) return false;
    if (typeof token !== 'string' || token.length === 0) {
      this.#terminal(new AuthenticationFailedError('getToken() returned no token'));
      return false;
    }
    this.#token = token;
    this.#tokenRefused = false;
    return true;
  }

  #emitError(err: ChatClientError): void {
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', err);
    else this.#log.warn({ err, code: err.code }, err.message);
  }

  #wsUrl(): string {
    const u = new URL(this.options.baseUrl);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws`;
    u.search = '';
    u.hash = '';
    // Placement hint for nginx's consistent hash; the gateway computes the slot itself. Before the
    // first READY the user id comes from the token's subject (read, not verified: only a hint).
    const userId = this.#user?.id ?? subjectOf(this.#token);
    if (userId) u.searchParams.set('slot', String(slotOf(userId, this.options.slots)));
    return u.href;
  }

  async #openSocket(): Promise<void> {
    if (!(await this.#ensureToken())) return;
    let Ctor: WebSocketConstructor;
    try {
      Ctor = await resolveWebSocket(this.options.WebSocket);
    } catch (cause) {
      this.#terminal(
        new InvalidArgumentError('no WebSocket implementation: install `ws` or pass options.WebSocket', { cause }),
      );
      return;
    }
    if (!this.#wantOpen || this.#conn) return;
    const url = this.#wsUrl();
    let ws: WebSocketLike;
    try {
      ws = new Ctor(url);
    } catch (cause) {
      this.#terminal(new InvalidArgumentError(`cannot open ${url}`, { cause }));
      return;
    }
    const conn: Connection = {
      ws,
      mode: null,
      established: false,
      heartbeat: undefined,
      awaitingAck: false,
      beatSentAt: 0,
      connectTimer: undefined,
    };
    this.#conn = conn;
    this.#sequence = null;
    this.#log.debug({ url }, 'opening WebSocket');
    conn.connectTimer = setTimeout(
      () => this.#drop(conn, `no READY/RESUMED within ${this.options.connectTimeoutMs} ms`, 'timeout'),
      this.options.connectTimeoutMs,
    );
    ws.onmessage = (ev) => this.#onMessage(conn, ev.data);
    ws.onclose = (ev) => this.#onClose(conn, ev.code, ev.reason);
    ws.onerror = () => {
      // The close event that follows says what happened. Node 20's experimental WebSocket fires
      // none after a failed handshake, so a missing one counts as an abnormal close (1006).
      setTimeout(() => {
        if (conn !== this.#conn) return;
        this.#onClose(conn, 1006, 'WebSocket error without a close event');
        void closeSocket(ws, CLIENT_RECONNECT_CLOSE, 'error');
      }, ERROR_WITHOUT_CLOSE_MS);
    };
  }

  #onMessage(conn: Connection, data: unknown): void {
    if (conn !== this.#conn) return;
    if (typeof data !== 'string') {
      this.#emitError(new ProtocolError('the server sent a binary frame; the protocol uses text frames'));
      return;
    }
    const f = parseFrame(data);
    if ('error' in f) {
      this.#emitError(new ProtocolError(`undecodable frame from the server: ${f.error}`));
      return;
    }
    if (typeof f.s === 'number') this.#sequence = f.s;
    switch (f.op) {
      case Op.HELLO:
        this.#onHello(conn, f.d);
        return;
      case Op.HEARTBEAT_ACK:
        conn.awaitingAck = false;
        this.#latencyMs = Date.now() - conn.beatSentAt;
        return;
      case Op.HEARTBEAT: // the server asks for one now
        this.#sendRaw(conn, encodeFrame(Op.HEARTBEAT, this.#sequence));
        return;
      case Op.RECONNECT:
        this.#log.info({ serverId: this.#serverId }, 'server asked to reconnect (RECONNECT)');
        this.#drop(conn, 'server sent RECONNECT', 'reconnect');
        return;
      case Op.INVALID_SESSION:
        this.#onInvalidSession(conn, f.d);
        return;
      case Op.DISPATCH:
        this.#onDispatch(conn, f.t as string, f.d);
        return;
      case Op.RESPONSE:
        this.#onResponse(f.d);
        return;
      default:
        this.#log.debug({ op: f.op }, 'ignoring a frame with an unknown op');
    }
  }

  #onHello(conn: Connection, d: unknown): void {
    if (conn.mode !== null) return; // a second HELLO changes nothing
    const hello = (typeof d === 'object' && d !== null ? d : {}) as {
      heartbeat_interval?: unknown;
      server_id?: unknown;
    };
    let interval = hello.heartbeat_interval;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
      this.#log.warn(
        { heartbeat_interval: interval },
        `HELLO without a valid heartbeat_interval; using ${DEFAULT_HEARTBEAT_MS}`,
      );
      interval = DEFAULT_HEARTBEAT_MS;
    }
    this.#serverId = typeof hello.server_id === 'string' ? hello.server_id : null;
    // A beat whose ACK has not arrived by the next beat means the connection is dead, whatever TCP says.
    conn.heartbeat = setInterval(() => {
      if (conn.awaitingAck) {
        this.#drop(conn, 'no HEARTBEAT_ACK before the next heartbeat', 'heartbeat');
        return;
      }
      conn.awaitingAck = true;
      conn.beatSentAt = Date.now();
      this.#sendRaw(conn, encodeFrame(Op.HEARTBEAT, this.#sequence));
    }, interval as number);
    this.#authenticate(conn);
  }

  #authenticate(conn: Connection): void {
    const token = this.#token;
    if (!token) {
      this.#terminal(new NotAuthenticatedError('the token was removed while connecting'));
      return;
    }
    if (!this.#forceIdentify && this.#lastSeenId !== null) {
      const since = resumeSince(this.#lastSeenId, this.options.resumeMarginMs);
      conn.mode = 'resume';
      this.#log.debug({ since, lastSeenId: this.#lastSeenId }, 'RESUME');
      this.#sendRaw(conn, encodeFrame(Op.RESUME, { token, since }));
    } else {
      conn.mode = 'identify';
      this.#sendRaw(conn, encodeFrame(Op.IDENTIFY, { token }));
    }
  }

  #onInvalidSession(conn: Connection, d: unknown): void {
    const reason = typeof d === 'object' && d !== null ? (d as { reason?: unknown }).reason : undefined;
    this.#log.info({ reason }, 'INVALID_SESSION: identifying again');
    this.#forceIdentify = true;
    this.#sessionId = null;
    if (conn.mode === 'resume' && !conn.established) this.#authenticate(conn);
    else this.#drop(conn, `INVALID_SESSION${typeof reason === 'string' ? `: ${reason}` : ''}`, 'invalid-session');
  }

  #onDispatch(conn: Connection, t: string, d: unknown): void {
    this.#events.emit('dispatch', t, d);
    switch (t) {
      case 'READY': {
        const r = d as Partial<ReadyPayload> | null;
        if (!r || typeof r.user?.id !== 'string' || typeof r.session_id !== 'string') {
          this.#emitError(new ProtocolError('READY without user.id and session_id'));
          return;
        }
        const ready: ReadyPayload = { ...r, user: r.user, session_id: r.session_id, channels: r.channels ?? [] };
        this.#ready = ready;
        this.#user = ready.user;
        this.#sessionId = ready.session_id;
        this.#forceIdentify = false;
        // READY means "up to date as of now": a later RESUME starts here (minus the margin) even if
        // no message arrived meanwhile, so nothing sent during a first outage is missed.
        this.#lastSeenId = maxId(this.#lastSeenId, firstIdAt(Date.now()));
        this.#established(conn);
        this.#events.emit('ready', ready);
        return;
      }
      case 'RESUMED': {
        const r = (typeof d === 'object' && d !== null ? d : {}) as {
          replayed?: unknown;
          truncated?: unknown;
          presences?: unknown;
        };
        const payload: ResumedPayload = {
          replayed: typeof r.replayed === 'number' ? r.replayed : 0,
          truncated: r.truncated === true,
          ...(Array.isArray(r.presences) ? { presences: r.presences as PresenceUpdatePayload[] } : {}),
        };
        this.#established(conn);
        if (payload.truncated)
          this.#log.info({ replayed: payload.replayed }, 'RESUME replay truncated: page history to fill the gap');
        this.#events.emit('resumed', payload);
        return;
      }
      case 'MESSAGE_CREATE':
      case 'MESSAGE_UPDATE':
      case 'MESSAGE_DELETE': {
        if (!isMessageLike(d)) {
          this.#emitError(new ProtocolError(`${t} without a valid id`));
          return;
        }
        this.#noteSeen(t, d);
        const event = this.#dedup.observe(t, d);
        if (event === 'messageDelete') this.#events.emit(event, d as unknown as MessageDeletePayload);
        else if (event !== null) this.#events.emit(event, d as unknown as Message);
        return;
      }
      default: {
        const event = DISPATCH_EVENT_NAMES[t as keyof typeof DISPATCH_EVENT_NAMES];
        // The payload shapes of these events are the server's; they are passed on as received.
        if (event) (this.#events.emit as (e: string, payload: unknown) => void)(event, d);
      }
    }
  }

  /**
   * Raises `lastSeenId`. A create's id is its event id. An update or delete carries no event id
   * (unless the server adds `event_id`), so a lower bound is used: the message id, and for an
   * update the first id of its `edited_timestamp` millisecond (the store sets it from the event id).
   * A lower bound only makes the next RESUME start a little earlier.
   */
  #noteSeen(t: string, d: { id: string; edited_timestamp?: unknown; event_id?: unknown }): void {
    let seen = isSnowflake(d.event_id) ? maxId(d.id, d.event_id) : d.id;
    if (t === 'MESSAGE_UPDATE' && typeof d.edited_timestamp === 'string') {
      const ms = Date.parse(d.edited_timestamp);
      if (!Number.isNaN(ms)) seen = maxId(seen, firstIdAt(ms));
    }
    this.#lastSeenId = maxId(this.#lastSeenId, seen);
  }

  #established(conn: Connection): void {
    if (conn !== this.#conn) return;
    conn.established = true;
    clearTimeout(conn.connectTimer);
    conn.connectTimer = undefined;
    this.#attempt = 0;
    this.#initial = false;
    this.#refreshing = false;
    this.#setState('open');
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter) {
      if (this.#ready) waiter.resolve(this.#ready);
      else if (this.#user) waiter.resolve({ user: this.#user, channels: [], session_id: this.#sessionId ?? '' });
    }
    const queued = this.#queue;
    this.#queue = [];
    for (const p of queued) this.#sendRequest(p);
  }

  #onResponse(d: unknown): void {
    const r = parseResponse(d);
    if (!r) {
      this.#emitError(new ProtocolError('malformed RESPONSE'));
      return;
    }
    const p = this.#pending.get(r.id);
    if (!p) {
      this.#log.debug({ id: r.id }, 'RESPONSE for no pending request (answered after its timeout?)');
      return;
    }
    this.#pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.result ?? null);
    else p.reject(new ChatRequestError(p.method, r.error.code, r.error.message, r.error.retryAfterMs));
  }

  /** Sends a request now if a session is open, else queues it for the next session. */
  #sendRequest(p: PendingRequest): void {
    const conn = this.#conn;
    if (conn?.established && conn.ws.readyState === OPEN && this.#sendRaw(conn, p.frame)) {
      this.#pending.set(p.id, p);
      return;
    }
    this.#queue.push(p);
  }

  #forget(p: PendingRequest): void {
    this.#pending.delete(p.id);
    const i = this.#queue.indexOf(p);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #sendRaw(conn: Connection, text: string): boolean {
    try {
      conn.ws.send(text);
      return true;
    } catch (err) {
      // The close event (or the next missed heartbeat) repairs the connection.
      this.#log.debug({ err }, 'WebSocket send failed');
      return false;
    }
  }

  /** Forgets a connection: timers stopped, handlers detached, requests sent on it failed. */
  #teardown(conn: Connection, failure: (p: PendingRequest) => Error): void {
    if (this.#conn === conn) this.#conn = null;
    clearInterval(conn.heartbeat);
    clearTimeout(conn.connectTimer);
    conn.heartbeat = undefined;
    conn.connectTimer = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(failure(p));
    }
  }

  #lostFailure(reason: string): (p: PendingRequest) => Error {
    return (p) =>
      new ConnectionLostError(`${p.method}: the connection was lost before the RESPONSE (${reason})`, {
        method: p.method,
        params: p.params,
      });
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    if (conn !== this.#conn) return;
    const what = `connection closed: ${code}${reason ? ` ${reason}` : ''}`;
    this.#teardown(conn, this.#lostFailure(what));
    conn.ws.onerror = () => {};
    conn.ws.onmessage = null;
    conn.ws.onclose = null;
    if (!this.#wantOpen) return;
    this.#log.info({ code, reason, serverId: this.#serverId }, 'WebSocket closed');
    const change: StateChange = { code, reason };
    if (code === CloseCode.AUTHENTICATION_FAILED) {
      if (this.#getToken && !this.#refreshing) {
        // Refused (expired, revoked): one fresh token from getToken, then straight back.
        this.#log.info({ serverId: this.#serverId }, 'token refused (4004): asking getToken for a new one');
        this.#tokenRefused = true;
        this.#refreshing = true;
        this.#setState(this.#initial ? 'connecting' : 'reconnecting', change);
        clearTimeout(this.#reconnectTimer);
        this.#reconnectTimer = undefined;
        void this.#openSocket();
        return;
      }
      const err = new AuthenticationFailedError(`authentication failed (4004${reason ? `: ${reason}` : ''})`);
      this.#emitError(err);
      this.#terminal(err, change);
      return;
    }
    if (CLIENT_BUG_CLOSE_CODES.has(code)) {
      this.#forceIdentify = true;
      const err = new ProtocolError(
        `the server closed the connection with ${code}${reason ? `: ${reason}` : ''}`,
        code,
      );
      this.#emitError(err);
      this.#retry(err, change);
      return;
    }
    this.#retry(new ConnectionLostError(what), change);
  }

  /** Drops a connection the client gave up on (dead heartbeat, RECONNECT, timeout, INVALID_SESSION). */
  #drop(conn: Connection, reason: string, kind: 'heartbeat' | 'reconnect' | 'timeout' | 'invalid-session'): void {
    if (conn !== this.#conn) return;
    this.#log.info({ reason, serverId: this.#serverId }, 'dropping the connection');
    this.#teardown(conn, this.#lostFailure(reason));
    void closeSocket(conn.ws, CLIENT_RECONNECT_CLOSE, kind);
    if (!this.#wantOpen) return;
    const change: StateChange = { code: CLIENT_RECONNECT_CLOSE, reason };
    if (kind === 'reconnect' && this.#initial) {
      // A draining gateway is not a failure of this client: try another one.
      this.#scheduleReconnect(change);
      return;
    }
    this.#retry(
      kind === 'timeout' && this.#initial ? new ConnectTimeoutError(reason) : new ConnectionLostError(reason),
      change,
    );
  }

  /** After a failed connection: give up if no session was ever established, else reconnect. */
  #retry(cause: ChatClientError, change: StateChange): void {
    if (this.#initial) {
      this.#terminal(cause, change);
      return;
    }
    this.#scheduleReconnect(change);
  }

  /** The next attempt after a backoff delay, unless `reconnect.maxAttempts` attempts in a row have failed. */
  #scheduleReconnect(change: StateChange): void {
    const { maxAttempts } = this.options.reconnect;
    if (this.#attempt >= maxAttempts) {
      const err = new ReconnectFailedError(
        `gave up after ${maxAttempts} failed reconnect attempts (last close: ${change.code ?? 'none'}${change.reason ? ` ${change.reason}` : ''})`,
      );
      this.#log.warn({ attempts: this.#attempt, code: change.code }, err.message);
      this.#terminal(err, change);
      return;
    }
    this.#setState(this.#initial ? 'connecting' : 'reconnecting', change);
    const delay = backoffDelay(this.#attempt++, this.options.reconnect);
    this.#log.info({ delayMs: delay, attempt: this.#attempt }, 'reconnecting');
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#openSocket();
    }, delay);
  }

  /** Stops for good (until the next `connect()`): auth failed, the first attempt failed, or reconnects ran out. */
  #terminal(err: ChatClientError, change: StateChange = {}): void {
    this.#generation++;
    this.#wantOpen = false;
    this.#initial = false;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const conn = this.#conn;
    if (conn) {
      this.#teardown(conn, () => err);
      void closeSocket(conn.ws, CloseCode.NORMAL, 'giving up');
    }
    this.#failWaiting(err);
    this.#setState('closed', { ...change, error: err });
  }

  /** Rejects `connect()` and the requests still waiting for a session. */
  #failWaiting(err: Error): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(err);
    const queued = this.#queue;
    this.#queue = [];
    for (const p of queued) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** Creates a client. Validates the options (throws InvalidArgumentError); opens nothing yet. */
export function createClient(options: ClientOptions): ChatClient {
  return new ChatClient(options);
}

/** The `sub` claim of a JWT, without verifying it (the server does that); undefined if unreadable. */
function subjectOf(token: string | null): string | undefined {
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
