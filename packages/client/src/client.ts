// The chat client: ONE object with one name per operation, over the HTTP API (docs/protocol.md §6)
// and the WebSocket session (§5). It only wires its parts together:
//   internal/session.ts       the socket state machine: connect, heartbeats, reconnect, RESUME, token refresh
//   internal/requests.ts      REQUEST/RESPONSE correlation: timeouts, bound, overload retry
//   internal/http-endpoints.ts the HTTP API's endpoints
//   internal/message-dedup.ts which message events reach the app
// The message operations (send, edit, delete, history) go over the WebSocket while a session is
// wanted (between connect() and close()) and over the HTTP API otherwise.
import { type Logger, silentLogger } from '@chat/protocol';
import { type ChatClientError, ConnectionLostError, InvalidArgumentError } from './errors.js';
import { type ClientEvents, DISPATCH_EVENT_NAMES } from './events.js';
import { Emitter, type Listener } from './internal/emitter.js';
import { type FetchLike, HttpApi } from './internal/http-api.js';
import { HttpEndpoints } from './internal/http-endpoints.js';
import { MessageDedup } from './internal/message-dedup.js';
import { createNonce } from './internal/nonce.js';
import { MAX_PENDING_REQUESTS, RequestCorrelator } from './internal/requests.js';
import { type SessionListener, SocketSession } from './internal/session.js';
import { socketUrl, subjectOf } from './internal/ws-url.js';
import {
  type ClientOptions,
  positive,
  type RequestOptions,
  type ResolvedClientOptions,
  resolveOptions,
} from './options.js';
import type {
  AckPayload,
  Channel,
  ChannelWithReadState,
  ConnectionState,
  CreateChannelInput,
  HistoryQuery,
  LoginResult,
  Message,
  MessageDeletePayload,
  ReadyPayload,
  RepliesQuery,
  RequestMethod,
  RequestMethods,
  SearchQuery,
  Snowflake,
  User,
} from './types.js';

/**
 * A client of one chat deployment. Create it with `createClient`. The HTTP operations work without
 * a WebSocket; `connect()` starts the session, which then stays up (reconnecting and resuming) until
 * `close()`, an authentication failure (after the `getToken` refresh, if any) or
 * `reconnect.maxAttempts` failed reconnects in a row.
 */
export class ChatClient {
  /** The validated, frozen options. */
  readonly options: ResolvedClientOptions;
  readonly #log: Logger;
  readonly #http: HttpEndpoints;
  readonly #events = new Emitter<ClientEvents>();
  readonly #dedup: MessageDedup;
  readonly #session: SocketSession;
  readonly #requests: RequestCorrelator;
  #token: string | null;
  #user: User | null = null;

  constructor(options: ClientOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.#log = options.logger ?? silentLogger;
    this.#token = options.token ?? null;
    this.#dedup = new MessageDedup(o.dedupCapacity);
    const injectedFetch = options.fetch;
    this.#http = new HttpEndpoints(
      new HttpApi({
        baseUrl: o.baseUrl,
        timeoutMs: o.requestTimeoutMs,
        overloadRetry: o.overloadRetry,
        token: () => this.#token,
        fetch: (url, init) => {
          const f = injectedFetch ?? (globalThis.fetch as FetchLike | undefined);
          if (!f) return Promise.reject(new InvalidArgumentError('no fetch in this runtime: pass options.fetch'));
          // Called unbound, a browser's fetch throws "Illegal invocation".
          return injectedFetch ? f(url, init) : f.call(globalThis, url, init);
        },
      }),
    );
    this.#session = new SocketSession(
      {
        WebSocket: o.WebSocket,
        connectTimeoutMs: o.connectTimeoutMs,
        reconnect: o.reconnect,
        resumeMarginMs: o.resumeMarginMs,
        log: this.#log,
      },
      {
        token: () => this.#token,
        setToken: (token) => {
          this.#token = token;
        },
        getToken: options.getToken,
        user: () => this.#user,
        // Before the first READY the user id comes from the token's subject (read, not verified: only a hint).
        url: () => socketUrl(o.baseUrl, this.#user?.id ?? subjectOf(this.#token), o.slots),
        listener: this.#sessionListener(),
      },
    );
    this.#requests = new RequestCorrelator(
      { trySend: (frame) => this.#session.trySend(frame), wantsOpen: () => this.#session.wantsOpen },
      { overloadRetry: o.overloadRetry, maxPending: MAX_PENDING_REQUESTS, log: this.#log },
    );
  }

  #sessionListener(): SessionListener {
    const emit = this.#events.emit.bind(this.#events);
    return {
      state: (next, previous, change) => emit('state', next, previous, change),
      dispatch: (t, d) => emit('dispatch', t, d),
      established: () => this.#requests.flush(),
      ready: (payload) => {
        this.#user = payload.user;
        emit('ready', payload);
      },
      resumed: (payload) => emit('resumed', payload),
      message: (t, d) => {
        const event = this.#dedup.observe(t, d);
        if (event === 'messageDelete') emit(event, d as unknown as MessageDeletePayload);
        else if (event !== null) emit(event, d as unknown as Message);
      },
      event: (t, d) => {
        const event = DISPATCH_EVENT_NAMES.get(t);
        // The payload shapes of these events are the server's; they are passed on as received.
        if (event) (emit as (e: string, payload: unknown) => void)(event, d);
      },
      response: (d) => {
        const err = this.#requests.onResponse(d);
        if (err) this.#emitError(err);
      },
      connectionLost: (reason) => this.#requests.connectionLost(reason),
      stopped: (err) => this.#requests.failAll(err),
      error: (err) => this.#emitError(err),
    };
  }

  #emitError(err: ChatClientError): void {
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', err);
    else this.#log.warn({ err, code: err.code }, err.message);
  }

  // ── state ──────────────────────────────────────────────────────────────────────────────────

  get state(): ConnectionState {
    return this.#session.state;
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
    return this.#session.sessionId;
  }
  /** `server_id` of the gateway from the last HELLO. */
  get serverId(): string | null {
    return this.#session.serverId;
  }
  /**
   * The highest message/event id seen since `connect()` (for updates and deletes, a lower bound of
   * the event id). A reconnect resumes from it minus `resumeMarginMs`.
   */
  get lastSeenId(): Snowflake | null {
    return this.#session.lastSeenId;
  }
  /** The last `s` of the current connection (null before the first DISPATCH). */
  get sequence(): number | null {
    return this.#session.sequence;
  }
  /** Round trip of the last HEARTBEAT → HEARTBEAT_ACK, in ms. */
  get latencyMs(): number | null {
    return this.#session.latencyMs;
  }
  /** The last READY payload (its channel list is as of that READY). */
  get readyPayload(): ReadyPayload | null {
    return this.#session.readyPayload;
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

  // ── account and channels: HTTP only ────────────────────────────────────────────────────────

  /** `POST /api/v1/users`: creates an account (does not log in). */
  register(username: string, password: string): Promise<User> {
    return this.#http.register(username, password);
  }

  /** `POST /api/v1/sessions`: logs in, and keeps the token and the user for later calls and `connect()`. */
  async login(username: string, password: string): Promise<LoginResult> {
    const res = await this.#http.login(username, password);
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
    await this.#http.logout();
    this.#token = null;
  }

  /** `GET /api/v1/users/@me`. */
  async me(): Promise<User> {
    const user = await this.#http.me();
    this.#user = user;
    return user;
  }

  /** `GET /api/v1/users/@me/channels`: the channels the user is a member of, with the user's unread counts. */
  channels(): Promise<ChannelWithReadState[]> {
    return this.#http.channels();
  }

  /** `POST /api/v1/channels`: the creator becomes a member. */
  createChannel(input: CreateChannelInput): Promise<Channel> {
    return this.#http.createChannel(input);
  }

  /** `POST /api/v1/channels/:id/members`. */
  addMember(channelId: Snowflake, userId: Snowflake): Promise<void> {
    return this.#http.addMember(channelId, userId);
  }

  /** `DELETE /api/v1/channels/:id/members/:userId`. */
  removeMember(channelId: Snowflake, userId: Snowflake): Promise<void> {
    return this.#http.removeMember(channelId, userId);
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
    return this.#session.connect();
  }

  /**
   * Closes the session with 1000 and stops reconnecting. Pending and waiting requests reject with
   * ClientClosedError. Resolves when the socket has closed (the closing handshake is done, or the
   * socket was terminated after 1 s without an answer). `connect()` may be called again.
   */
  close(): Promise<void> {
    return this.#session.close();
  }

  /**
   * A REQUEST (op 20). Resolves with the RESPONSE result; rejects with ChatRequestError (the server
   * said no), RequestTimeoutError (no answer in time, the operation may have happened),
   * ConnectionLostError (dropped after sending: may have happened) or ClientClosedError. Issued while
   * (re)connecting, it waits for the session within the same timeout. At most once: never resent —
   * except after an `overloaded` answer, which means nothing was done (or an `unavailable` one to a
   * `message.create` with a nonce, which the server deduplicates): then the same request is sent
   * again after the server's hint plus jitter (`overloadRetry`), within the same timeout.
   */
  request<M extends RequestMethod>(
    method: M,
    params: RequestMethods[M]['params'],
    options?: RequestOptions,
  ): Promise<RequestMethods[M]['result']>;
  request(method: string, params?: unknown, options?: RequestOptions): Promise<unknown>;
  request(method: string, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.#requests.request(method, params, this.#timeoutMs(options));
  }

  // ── messages: over the session while one is wanted, else over HTTP ─────────────────────────

  /**
   * Sends a message; resolves with it once the write is durable. A nonce is generated when none is
   * given, so the server stores one message however often the same call is repeated. Over the
   * session (`message.create`): if the connection drops before the answer, the same request (same
   * nonce) is sent again on the next session, within `timeoutMs` overall. Over HTTP
   * (`POST /api/v1/channels/:id/messages`): one call. A RequestTimeoutError over the session
   * carries the params (with the nonce) for a later retry. `replyTo`: a message of the same channel this
   * one answers (the answer carries its `referenced_message`; an unknown one is refused with `not_found`).
   */
  async send(
    channelId: Snowflake,
    content: string,
    options: { nonce?: string; timeoutMs?: number; replyTo?: Snowflake } = {},
  ): Promise<Message> {
    const nonce = options.nonce ?? createNonce();
    const timeoutMs = this.#timeoutMs(options);
    if (!this.#session.wantsOpen) return this.#http.send(channelId, content, nonce, timeoutMs, options.replyTo);
    const params: RequestMethods['message.create']['params'] = { channel_id: channelId, content, nonce };
    if (options.replyTo !== undefined) params.reply_to = options.replyTo;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.request('message.create', params, { timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        if (!(err instanceof ConnectionLostError) || !this.#session.wantsOpen || Date.now() >= deadline) throw err;
        this.#log.debug({ nonce }, 'message.create: connection lost, sending again with the same nonce');
      }
    }
  }

  /** Edits a message (author only): `message.update`, or `PATCH /api/v1/channels/:id/messages/:mid`. */
  edit(channelId: Snowflake, messageId: Snowflake, content: string, options: RequestOptions = {}): Promise<Message> {
    if (!this.#session.wantsOpen) return this.#http.edit(channelId, messageId, content, this.#timeoutMs(options));
    return this.request('message.update', { channel_id: channelId, message_id: messageId, content }, options);
  }

  /** Deletes a message (author only): `message.delete`, or `DELETE /api/v1/channels/:id/messages/:mid`. */
  async delete(channelId: Snowflake, messageId: Snowflake, options: RequestOptions = {}): Promise<void> {
    if (!this.#session.wantsOpen) return this.#http.delete(channelId, messageId, this.#timeoutMs(options));
    await this.request('message.delete', { channel_id: channelId, message_id: messageId }, options);
  }

  /**
   * A page of a channel's messages, newest first, `limit` ≤ 100 (server default 50): `history.get`,
   * or `GET /api/v1/channels/:id/messages`.
   */
  history(channelId: Snowflake, query: HistoryQuery = {}, options: RequestOptions = {}): Promise<Message[]> {
    if (!this.#session.wantsOpen) return this.#http.history(channelId, query, this.#timeoutMs(options));
    const params: RequestMethods['history.get']['params'] = { channel_id: channelId };
    if (query.before !== undefined) params.before = query.before;
    if (query.after !== undefined) params.after = query.after;
    if (query.limit !== undefined) params.limit = query.limit;
    return this.request('history.get', params, options);
  }

  /**
   * Messages of your channels (or of `channelId`) holding every word of `q` (case- and accent-insensitive),
   * newest first; page on with `before` = the last id. `q`: 1..200 characters, 1..10 words; `limit` 1..50
   * (default 25). `message.search`, or `GET /api/v1/search`.
   */
  search(q: string, query: SearchQuery = {}, options: RequestOptions = {}): Promise<Message[]> {
    if (!this.#session.wantsOpen) return this.#http.search(q, query, this.#timeoutMs(options));
    const params: RequestMethods['message.search']['params'] = { q };
    if (query.channelId !== undefined) params.channel_id = query.channelId;
    if (query.before !== undefined) params.before = query.before;
    if (query.limit !== undefined) params.limit = query.limit;
    return this.request('message.search', params, options);
  }

  /**
   * A page of a message's replies, newest first, `limit` ≤ 100 (server default 50), deleted replies left
   * out: `GET /api/v1/channels/:id/messages/:mid/replies` (over HTTP, session or not).
   */
  replies(
    channelId: Snowflake,
    messageId: Snowflake,
    query: RepliesQuery = {},
    options: RequestOptions = {},
  ): Promise<Message[]> {
    return this.#http.replies(channelId, messageId, query, this.#timeoutMs(options));
  }

  /** `typing.start` (session only): an ephemeral TYPING_START to the channel's members. */
  async typing(channelId: Snowflake, options?: RequestOptions): Promise<void> {
    await this.request('typing.start', { channel_id: channelId }, options);
  }

  /**
   * Marks a channel read up to a message (never backwards: an older message leaves the position where it
   * is): `read.ack`, or `POST /api/v1/channels/:id/ack`. Resolves with the position after it and the
   * channel's unread count; the user's other sessions get an `ack` event. Ack `last_message_id` of a
   * channel entry to read everything.
   */
  ack(channelId: Snowflake, messageId: Snowflake, options: RequestOptions = {}): Promise<AckPayload> {
    if (!this.#session.wantsOpen) return this.#http.ack(channelId, messageId, this.#timeoutMs(options));
    return this.request('read.ack', { channel_id: channelId, message_id: messageId }, options);
  }

  #timeoutMs(options: { timeoutMs?: number }): number {
    return positive('timeoutMs', options.timeoutMs, this.options.requestTimeoutMs);
  }
}

/** Creates a client. Validates the options (throws InvalidArgumentError); opens nothing yet. */
export function createClient(options: ClientOptions): ChatClient {
  return new ChatClient(options);
}
