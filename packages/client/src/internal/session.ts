// The WebSocket session of docs/protocol.md §5: one state machine over successive connections.
//   closed ─connect()→ connecting ─READY→ open ─drop→ reconnecting ─RESUMED/READY→ open … ─close()→ closed
// Guarantees:
// - the first attempt fails fast: no READY → `connect()` rejects and the state is `closed` again;
// - once established, every drop is repaired (backoff, then RESUME from `lastSeenId − margin`, so
//   nothing is missed) until `close()`, a 4004 that `getToken` cannot repair, or `maxAttempts`
//   failed reconnects in a row — each of those ends in `closed` with the reason (`StateChange`);
// - every state change is reported once, with the close code that caused it;
// - an async step of an older run (a late token, a late socket event) never touches a newer one.
// It speaks to the rest of the client only through SessionPorts and the SessionListener.
import {
  CLIENT_BUG_CLOSE_CODES,
  CloseCode,
  frame as encodeFrame,
  type Logger,
  Op,
  parseServerFrame as parseFrame,
} from '@chat/protocol';
import {
  AuthenticationFailedError,
  type ChatClientError,
  ClientClosedError,
  ConnectionLostError,
  ConnectTimeoutError,
  InvalidArgumentError,
  NotAuthenticatedError,
  ProtocolError,
  ReconnectFailedError,
} from '../errors.js';
import type { ReconnectOptions } from '../options.js';
import type {
  ConnectionState,
  PresenceUpdatePayload,
  ReadyPayload,
  ResumedPayload,
  Snowflake,
  User,
} from '../types.js';
import { backoffDelay } from './backoff.js';
import { Connection, closeSocket } from './connection.js';

import { ResumePoint } from './resume-point.js';
import { isSnowflake } from './snowflake.js';
import { TokenRefresh, type TokenStore } from './token-refresh.js';
import { OPEN, resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './websocket.js';

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

/** What the session tells the rest of the client, in the order it happens. */
export interface SessionListener {
  state(next: ConnectionState, previous: ConnectionState, change: StateChange): void;
  /** Every DISPATCH as received, before it is handled. */
  dispatch(t: string, d: unknown): void;
  /** A session was established (state `open`): requests waiting for one may go. Before `ready`/`resumed`. */
  established(): void;
  ready(payload: ReadyPayload): void;
  resumed(payload: ResumedPayload): void;
  /** MESSAGE_CREATE/UPDATE/DELETE with a valid id, after `lastSeenId` took it into account. */
  message(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', d: { id: string }): void;
  /** Any other DISPATCH. */
  event(t: string, d: unknown): void;
  /** A RESPONSE payload (op 21). */
  response(d: unknown): void;
  /** The connection requests were sent on is gone (the session may come back). */
  connectionLost(reason: string): void;
  /** The session ended (close(), or for good): everything waiting for it fails with `err`. */
  stopped(err: ChatClientError): void;
  /** Protocol trouble, authentication failure: never thrown. */
  error(err: ChatClientError): void;
}

export interface SessionPorts extends TokenStore {
  /** The user known so far (login, me, READY). */
  user(): User | null;
  /** The URL of the next socket, asked when it opens. */
  url(): string;
  listener: SessionListener;
}

export interface SessionOptions {
  WebSocket: WebSocketConstructor | undefined;
  connectTimeoutMs: number;
  reconnect: Readonly<ReconnectOptions>;
  resumeMarginMs: number;
  log: Logger;
}

const DEFAULT_HEARTBEAT_MS = 30_000;
/** Close code the client uses when it drops a connection to reconnect (1001 is not allowed in browsers). */
const CLIENT_RECONNECT_CLOSE = 4000;
/** How long after an error event the close event may take before the client assumes 1006. */
const ERROR_WITHOUT_CLOSE_MS = 250;

type DropKind = 'heartbeat' | 'reconnect' | 'timeout' | 'invalid-session';

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

function isMessageLike(d: unknown): d is { id: string; edited_timestamp?: unknown; event_id?: unknown } {
  return typeof d === 'object' && d !== null && isSnowflake((d as { id?: unknown }).id);
}

export class SocketSession {
  readonly #o: SessionOptions;
  readonly #ports: SessionPorts;
  readonly #on: SessionListener;
  readonly #tokens: TokenRefresh;
  /** Bumped by connect() and close(): an async step of an older run sees it changed and stops. */
  #generation = 0;
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
  readonly #resume = new ResumePoint();
  #sequence: number | null = null;
  #latencyMs: number | null = null;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #waiter: Deferred<ReadyPayload> | null = null;

  constructor(options: SessionOptions, ports: SessionPorts) {
    this.#o = options;
    this.#ports = ports;
    this.#on = ports.listener;
    this.#tokens = new TokenRefresh(ports);
  }

  get state(): ConnectionState {
    return this.#state;
  }
  /** Between connect() and close() or a terminal failure. */
  get wantsOpen(): boolean {
    return this.#wantOpen;
  }
  get sessionId(): string | null {
    return this.#sessionId;
  }
  get serverId(): string | null {
    return this.#serverId;
  }
  get lastSeenId(): Snowflake | null {
    return this.#resume.lastSeenId;
  }
  get sequence(): number | null {
    return this.#sequence;
  }
  get latencyMs(): number | null {
    return this.#latencyMs;
  }
  get readyPayload(): ReadyPayload | null {
    return this.#ready;
  }

  /** Sends `frame` if a session is established on an open socket; false otherwise. */
  trySend(frame: string): boolean {
    const conn = this.#conn;
    return conn?.established === true && conn.ws.readyState === OPEN && conn.send(frame);
  }

  /**
   * Opens the session (HELLO, IDENTIFY, READY) and resolves with the READY payload; see the header
   * for what follows. While open, resolves with the last READY; while reconnecting, with the next.
   */
  connect(): Promise<ReadyPayload> {
    if (this.#state === 'open' && this.#ready) return Promise.resolve(this.#ready);
    if (this.#waiter) return this.#waiter.promise;
    const waiter = deferred<ReadyPayload>();
    if (this.#state === 'reconnecting') {
      this.#waiter = waiter; // the running reconnect settles it
      return waiter.promise;
    }
    if (!this.#tokens.available)
      return Promise.reject(
        new NotAuthenticatedError('connect() needs a token: pass `token` or `getToken`, or call login() first'),
      );
    this.#waiter = waiter;
    this.#wantOpen = true;
    this.#initial = true;
    this.#forceIdentify = true;
    this.#resume.reset();
    this.#attempt = 0;
    this.#generation++;
    this.#tokens.reset();
    this.#setState('connecting');
    void this.#openSocket();
    return waiter.promise;
  }

  /** Closes with 1000 and stops reconnecting; resolves when the socket has closed (or after 1 s). */
  close(): Promise<void> {
    this.#generation++;
    this.#wantOpen = false;
    this.#initial = false;
    this.#cancelReconnect();
    const err = new ClientClosedError('the client was closed');
    const conn = this.#conn;
    let closed = Promise.resolve();
    if (conn) {
      this.#teardown(conn);
      closed = closeSocket(conn.ws, CloseCode.NORMAL, 'client closed');
    }
    this.#stopWaiting(err);
    this.#setState('closed', { code: CloseCode.NORMAL, reason: 'client closed' });
    return closed;
  }

  #setState(next: ConnectionState, change: StateChange = {}): void {
    const prev = this.#state;
    if (prev === next) return;
    this.#state = next;
    this.#o.log.debug({ state: next, previous: prev, code: change.code, reason: change.reason }, 'client state');
    this.#on.state(next, prev, change);
  }

  async #openSocket(): Promise<void> {
    const generation = this.#generation;
    const token = await this.#tokens.ensure(() => generation === this.#generation && this.#wantOpen);
    if (token === 'stale') return;
    if (token !== 'ok') {
      this.#terminal(token);
      return;
    }
    let Ctor: WebSocketConstructor;
    try {
      Ctor = await resolveWebSocket(this.#o.WebSocket);
    } catch (cause) {
      this.#terminal(
        new InvalidArgumentError('no WebSocket implementation: install `ws` or pass options.WebSocket', { cause }),
      );
      return;
    }
    if (!this.#wantOpen || this.#conn) return;
    const url = this.#ports.url();
    let ws: WebSocketLike;
    try {
      ws = new Ctor(url);
    } catch (cause) {
      this.#terminal(new InvalidArgumentError(`cannot open ${url}`, { cause }));
      return;
    }
    const conn = new Connection(ws, this.#o.log);
    this.#conn = conn;
    this.#sequence = null;
    this.#o.log.debug({ url }, 'opening WebSocket');
    conn.startConnectTimer(this.#o.connectTimeoutMs, () =>
      this.#drop(conn, `no READY/RESUMED within ${this.#o.connectTimeoutMs} ms`, 'timeout'),
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
      this.#on.error(new ProtocolError('the server sent a binary frame; the protocol uses text frames'));
      return;
    }
    const f = parseFrame(data);
    if ('error' in f) {
      this.#on.error(new ProtocolError(`undecodable frame from the server: ${f.error}`));
      return;
    }
    if (typeof f.s === 'number') this.#sequence = f.s;
    switch (f.op) {
      case Op.HELLO:
        this.#onHello(conn, f.d);
        return;
      case Op.HEARTBEAT_ACK:
        this.#latencyMs = conn.acknowledged();
        return;
      case Op.HEARTBEAT: // the server asks for one now
        conn.send(encodeFrame(Op.HEARTBEAT, this.#sequence));
        return;
      case Op.RECONNECT:
        this.#o.log.info({ serverId: this.#serverId }, 'server asked to reconnect (RECONNECT)');
        this.#drop(conn, 'server sent RECONNECT', 'reconnect');
        return;
      case Op.INVALID_SESSION:
        this.#onInvalidSession(conn, f.d);
        return;
      case Op.DISPATCH:
        this.#onDispatch(conn, f.t as string, f.d);
        return;
      case Op.RESPONSE:
        this.#on.response(f.d);
        return;
      default:
        this.#o.log.debug({ op: f.op }, 'ignoring a frame with an unknown op');
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
      this.#o.log.warn(
        { heartbeat_interval: interval },
        `HELLO without a valid heartbeat_interval; using ${DEFAULT_HEARTBEAT_MS}`,
      );
      interval = DEFAULT_HEARTBEAT_MS;
    }
    this.#serverId = typeof hello.server_id === 'string' ? hello.server_id : null;
    conn.startHeartbeat(
      interval as number,
      () => conn.send(encodeFrame(Op.HEARTBEAT, this.#sequence)),
      () => this.#drop(conn, 'no HEARTBEAT_ACK before the next heartbeat', 'heartbeat'),
    );
    this.#authenticate(conn);
  }

  #authenticate(conn: Connection): void {
    const token = this.#ports.token();
    if (!token) {
      this.#terminal(new NotAuthenticatedError('the token was removed while connecting'));
      return;
    }
    const since = this.#resume.since(this.#o.resumeMarginMs);
    if (!this.#forceIdentify && since !== null) {
      conn.mode = 'resume';
      this.#o.log.debug({ since, lastSeenId: this.#resume.lastSeenId }, 'RESUME');
      conn.send(encodeFrame(Op.RESUME, { token, since }));
    } else {
      conn.mode = 'identify';
      conn.send(encodeFrame(Op.IDENTIFY, { token }));
    }
  }

  #onInvalidSession(conn: Connection, d: unknown): void {
    const reason = typeof d === 'object' && d !== null ? (d as { reason?: unknown }).reason : undefined;
    this.#o.log.info({ reason }, 'INVALID_SESSION: identifying again');
    this.#forceIdentify = true;
    this.#sessionId = null;
    if (conn.mode === 'resume' && !conn.established) this.#authenticate(conn);
    else this.#drop(conn, `INVALID_SESSION${typeof reason === 'string' ? `: ${reason}` : ''}`, 'invalid-session');
  }

  #onDispatch(conn: Connection, t: string, d: unknown): void {
    this.#on.dispatch(t, d);
    switch (t) {
      case 'READY': {
        const r = d as Partial<ReadyPayload> | null;
        if (!r || typeof r.user?.id !== 'string' || typeof r.session_id !== 'string') {
          this.#on.error(new ProtocolError('READY without user.id and session_id'));
          return;
        }
        const ready: ReadyPayload = { ...r, user: r.user, session_id: r.session_id, channels: r.channels ?? [] };
        this.#ready = ready;
        this.#sessionId = ready.session_id;
        this.#forceIdentify = false;
        this.#resume.ready(Date.now());
        this.#established(conn);
        this.#on.ready(ready);
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
          this.#o.log.info({ replayed: payload.replayed }, 'RESUME replay truncated: page history to fill the gap');
        this.#on.resumed(payload);
        return;
      }
      case 'MESSAGE_CREATE':
      case 'MESSAGE_UPDATE':
      case 'MESSAGE_DELETE': {
        if (!isMessageLike(d)) {
          this.#on.error(new ProtocolError(`${t} without a valid id`));
          return;
        }
        this.#resume.seen(t, d);
        this.#on.message(t, d);
        return;
      }
      default:
        this.#on.event(t, d);
    }
  }

  #established(conn: Connection): void {
    if (conn !== this.#conn) return;
    conn.markEstablished();
    this.#attempt = 0;
    this.#initial = false;
    this.#tokens.accepted();
    this.#setState('open');
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter) {
      const user = this.#ready?.user ?? this.#ports.user();
      if (this.#ready) waiter.resolve(this.#ready);
      else if (user) waiter.resolve({ user, channels: [], session_id: this.#sessionId ?? '' });
    }
    this.#on.established();
  }

  /** Forgets a connection: timers stopped; the requests sent on it are the listener's to fail. */
  #teardown(conn: Connection): void {
    if (this.#conn === conn) this.#conn = null;
    conn.stopTimers();
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    if (conn !== this.#conn) return;
    const what = `connection closed: ${code}${reason ? ` ${reason}` : ''}`;
    this.#teardown(conn);
    this.#on.connectionLost(what);
    conn.ws.onerror = () => {};
    conn.ws.onmessage = null;
    conn.ws.onclose = null;
    if (!this.#wantOpen) return;
    this.#o.log.info({ code, reason, serverId: this.#serverId }, 'WebSocket closed');
    const change: StateChange = { code, reason };
    if (code === CloseCode.AUTHENTICATION_FAILED) {
      if (this.#tokens.refused()) {
        // Refused (expired, revoked): one fresh token from getToken, then straight back.
        this.#o.log.info({ serverId: this.#serverId }, 'token refused (4004): asking getToken for a new one');
        this.#setState(this.#initial ? 'connecting' : 'reconnecting', change);
        this.#cancelReconnect();
        void this.#openSocket();
        return;
      }
      const err = new AuthenticationFailedError(`authentication failed (4004${reason ? `: ${reason}` : ''})`);
      this.#on.error(err);
      this.#terminal(err, change);
      return;
    }
    if (CLIENT_BUG_CLOSE_CODES.has(code)) {
      this.#forceIdentify = true;
      const err = new ProtocolError(
        `the server closed the connection with ${code}${reason ? `: ${reason}` : ''}`,
        code,
      );
      this.#on.error(err);
      this.#retry(err, change);
      return;
    }
    this.#retry(new ConnectionLostError(what), change);
  }

  /** Drops a connection the client gave up on (dead heartbeat, RECONNECT, timeout, INVALID_SESSION). */
  #drop(conn: Connection, reason: string, kind: DropKind): void {
    if (conn !== this.#conn) return;
    this.#o.log.info({ reason, serverId: this.#serverId }, 'dropping the connection');
    this.#teardown(conn);
    this.#on.connectionLost(reason);
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
    const { maxAttempts } = this.#o.reconnect;
    if (this.#attempt >= maxAttempts) {
      const err = new ReconnectFailedError(
        `gave up after ${maxAttempts} failed reconnect attempts (last close: ${change.code ?? 'none'}${change.reason ? ` ${change.reason}` : ''})`,
      );
      this.#o.log.warn({ attempts: this.#attempt, code: change.code }, err.message);
      this.#terminal(err, change);
      return;
    }
    this.#setState(this.#initial ? 'connecting' : 'reconnecting', change);
    const delay = backoffDelay(this.#attempt++, this.#o.reconnect);
    this.#o.log.info({ delayMs: delay, attempt: this.#attempt }, 'reconnecting');
    this.#cancelReconnect();
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#openSocket();
    }, delay);
  }

  #cancelReconnect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  /** Stops for good (until the next `connect()`): auth failed, the first attempt failed, or reconnects ran out. */
  #terminal(err: ChatClientError, change: StateChange = {}): void {
    this.#generation++;
    this.#wantOpen = false;
    this.#initial = false;
    this.#cancelReconnect();
    const conn = this.#conn;
    if (conn) {
      this.#teardown(conn);
      void closeSocket(conn.ws, CloseCode.NORMAL, 'giving up');
    }
    this.#stopWaiting(err);
    this.#setState('closed', { ...change, error: err });
  }

  /** Rejects `connect()`, and tells the listener everything waiting for a session fails with `err`. */
  #stopWaiting(err: ChatClientError): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(err);
    this.#on.stopped(err);
  }
}
