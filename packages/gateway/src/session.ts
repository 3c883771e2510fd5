// One WebSocket connection's protocol state machine (docs/protocol.md §5), independent of uWS:
// HELLO → IDENTIFY | RESUME → READY | RESUMED, heartbeats, requests, and delivery of dispatches
// with a per-connection sequence. The socket and everything else come in through ports.
import { randomUUID } from 'node:crypto';
import {
  CloseCode,
  dispatchFrame,
  EPHEMERAL_EVENTS,
  errorResponse,
  frame,
  type Logger,
  Op,
  parseClientFrame as parseFrame,
  parseSnowflake,
  response,
} from '@chat/protocol';
import type { ChangeEvent, Channel } from '@chat/store';
import type { ConnectionWrites, WriteAdmission } from './admission.js';
import { attachWithin } from './attach-deadline.js';
import type { TokenClaims } from './auth.js';
import { type CommandServices, type SocketCommand, socketCommand } from './commands.js';
import { dedupeKey } from './dedupe-key.js';
import { ApiError, failureOf } from './errors.js';
import type { LocalIndex, Member } from './local-index.js';
import type { GatewayMetrics } from './metrics.js';
import type { PresencePort } from './presence.js';
import type { AddressSlot, SocketCaps } from './socket-caps.js';
import { checkShape, isId } from './validation.js';

/** The transport under a session (a uWS WebSocket in production). */
export interface SocketPort {
  /** Sends a text frame; false if the socket is gone. */
  send(text: string): boolean;
  end(code: number, reason: string): void;
  bufferedAmount(): number;
  cork(fn: () => void): void;
}

export interface SessionHost {
  serverId: string;
  heartbeatIntervalMs: number;
  identifyTimeoutMs: number;
  maxFrameBytes: number;
  rateFrames: number;
  rateWindowMs: number;
  rateBurst: number;
  maxBackpressureBytes: number;
  slowConsumerGraceMs: number;
  resumeMax: number;
  /** A RESUME whose `since` is older than this is answered `truncated` without a replay (the client pages history). */
  resumeHorizonMs: number;
  /** An attach waits this long, extended while the router's binding work progresses (attach-deadline.ts)... */
  attachTimeoutMs: number;
  /** ...up to this long in all. */
  attachMaxMs: number;
  /** Date.now() of the router's last completed binding operation (absent: no extension). */
  bindingProgressAt?: () => number;
  verifyToken(token: unknown): Promise<TokenClaims | null>;
  attach(userId: string): Promise<void>;
  detach(userId: string): void;
  /** The user's channels with its read state, for READY (IDENTIFY). */
  channelsOf(userId: string): Promise<Channel[]>;
  /** The user's channels without read state: what a RESUME needs (ids for the replay, kinds for presence). */
  memberChannels(userId: string): Promise<Channel[]>;
  changesSince(
    channelIds: string[],
    since: string,
    cap: number,
  ): Promise<{ events: ChangeEvent[]; truncated: boolean }>;
  userRate(userId: string): Promise<{ ok: boolean; retryAfterMs: number }>;
  /** Counts a failed IDENTIFY/RESUME against its address; true when the address is over its budget. */
  authFailed?(address: string): Promise<boolean>;
  /** Socket caps per address (absent in tests that build sessions by hand). */
  caps?: SocketCaps;
  /** Identified sockets per user on this gateway; the IDENTIFY/RESUME past it is closed 4008. */
  maxSocketsPerUser: number;
  /** An IDENTIFY/RESUME finished (either way): connection churn, for the idle collection. */
  authenticated?(): void;
  /** What REQUEST commands call (commands.ts). */
  services: CommandServices;
  /** Bounds durable writes in flight (per process, per connection). */
  admission: WriteAdmission;
  index: LocalIndex;
  /** Presence (absent in tests that build sessions by hand). */
  presence?: PresencePort;
  metrics: GatewayMetrics;
  logger: Logger;
}

type State = 'hello' | 'authenticating' | 'buffering' | 'ready' | 'closed';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One connection. Its memory is what an idle identified socket costs the gateway (bench W3), so it is
 * kept small: a few scalar fields, no per-socket timer (the gateway's one sweep calls tick()), no
 * closures, no copy of the user's channels (the LocalIndex keeps them per user), nothing of IDENTIFY
 * retained (claims, channel list and READY payload are dropped once READY is sent; ids are the
 * index's interned strings), and buffers allocated only while they are needed.
 */
export class Session implements Member {
  readonly sessionId = randomUUID();
  userId = '';
  #username = '';
  /** Durable writes of this connection in flight (admission control). */
  readonly #writes: ConnectionWrites = { inFlight: 0 };
  #state: State = 'hello';
  #seq = 0;
  readonly #openedAt = Date.now();
  #lastHeartbeat = this.#openedAt;
  #overSince = 0;
  #attached = false;
  /** The address's socket counts (released on close) and whether this socket counts as identified there. */
  readonly #slot: AddressSlot | undefined;
  #identified = false;
  /** Per-connection frame budget (a token bucket, inlined: tokens and the time they were counted). */
  #tokens: number;
  #tokensAt = this.#openedAt;
  /** Events that arrive while READY/RESUMED is prepared (at most MAX_HELD_EVENTS); null otherwise. */
  #buffer: Array<{ event: string; payloadJson: string; key: string | undefined }> | null = null;
  /**
   * What the RESUME replay sent, kept for a while after RESUMED: a change stored before the replay
   * read it may have its live dispatch still on the way (the persister stores, then dispatches).
   */
  #replayed: Set<string> | null = null;
  #replayedUntil = 0;
  readonly #sock: SocketPort;
  readonly #host: SessionHost;

  constructor(sock: SocketPort, host: SessionHost, slot?: AddressSlot) {
    this.#sock = sock;
    this.#host = host;
    this.#slot = slot;
    this.#tokens = host.rateBurst;
  }

  /** Takes a frame token (burst `rateBurst`, refilled at `rateFrames` per `rateWindowMs`); false when empty. */
  #takeToken(now: number): boolean {
    const h = this.#host;
    this.#tokens = Math.min(h.rateBurst, this.#tokens + ((now - this.#tokensAt) * h.rateFrames) / h.rateWindowMs);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the socket closed meanwhile (re-checked after every await). */
  #gone(): boolean {
    return this.#state === 'closed';
  }

  open(): void {
    this.#send(frame(Op.HELLO, { heartbeat_interval: this.#host.heartbeatIntervalMs, server_id: this.#host.serverId }));
  }

  /** Sends a frame as is (RECONNECT on drain). */
  sendRaw(text: string): void {
    this.#send(text);
  }

  /**
   * The backpressure policy every byte sent to the socket goes through (HELLO, acks, responses, the
   * RESUME replay, dispatches). Under MAX_BACKPRESSURE_BYTES buffered: send. Over it: an ephemeral
   * event (`event` in EPHEMERAL_EVENTS) is dropped; anything else is still queued until the socket has
   * been over the limit for SLOW_CONSUMER_GRACE_MS or holds twice the limit, then the socket is closed
   * 4008 (the client RESUMEs). So at most twice the limit plus one frame is ever queued per socket.
   * False when the frame is not to be sent (dropped, closed, or the socket is gone).
   */
  #fits(event?: string): boolean {
    if (this.#state === 'closed') return false;
    const buffered = this.#sock.bufferedAmount();
    const limit = this.#host.maxBackpressureBytes;
    if (buffered <= limit) return true;
    if (event !== undefined && EPHEMERAL_EVENTS.has(event)) {
      this.#host.metrics.skippedEphemeral.inc();
      return false;
    }
    const now = Date.now();
    if (this.#overSince === 0) this.#overSince = now;
    if (buffered > 2 * limit || now - this.#overSince > this.#host.slowConsumerGraceMs) {
      this.#host.metrics.slowConsumerCloses.inc();
      this.close(CloseCode.RATE_LIMITED, 'slow consumer: reconnect and RESUME');
      return false;
    }
    return true;
  }

  /** A frame that is not a dispatch, through the backpressure policy. */
  #send(text: string): void {
    if (this.#fits()) this.#sock.send(text);
  }

  /** The socket's bytes queued in the gateway (for the buffered-bytes gauge). */
  bufferedAmount(): number {
    return this.#state === 'closed' ? 0 : this.#sock.bufferedAmount();
  }

  /** Ends the session with a close code; the socket's close event then calls closed(). */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#host.metrics.closes.inc({ code: String(code) });
    this.#state = 'closed';
    this.#sock.end(code, reason);
  }

  /** The socket is gone (whoever closed it): leave the index, drop the attachment. */
  closed(): void {
    this.#state = 'closed';
    if (this.#slot) {
      this.#host.caps?.close(this.#slot, this.#identified);
      this.#identified = false;
    }
    if (this.#host.index.remove(this)) this.#host.presence?.disconnected(this.userId);
    if (this.#attached) {
      this.#attached = false;
      this.#host.detach(this.userId);
    }
    this.#buffer = null;
  }

  /** Periodic check (the gateway sweeps all sessions): identify and heartbeat timeouts. */
  tick(now: number): void {
    if (this.#replayed !== null && now > this.#replayedUntil) this.#replayed = null;
    if (this.#state === 'hello' && now - this.#openedAt > this.#host.identifyTimeoutMs) {
      this.close(CloseCode.SESSION_TIMED_OUT, 'no IDENTIFY in time');
    } else if (this.#state !== 'closed' && now - this.#lastHeartbeat > 2 * this.#host.heartbeatIntervalMs) {
      this.close(CloseCode.SESSION_TIMED_OUT, 'missed heartbeats');
    }
  }

  /** The socket drained below its backpressure limit. */
  drained(): void {
    if (this.#sock.bufferedAmount() < this.#host.maxBackpressureBytes) this.#overSince = 0;
  }

  message(data: ArrayBuffer, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    if (data.byteLength > this.#host.maxFrameBytes) {
      this.#reject(CloseCode.PAYLOAD_TOO_LARGE, 'frame too large');
      return;
    }
    if (!this.#takeToken(Date.now())) {
      this.#host.metrics.rateLimited.inc({ scope: 'connection' });
      this.#reject(CloseCode.RATE_LIMITED, 'rate limited');
      return;
    }
    if (isBinary) {
      this.#reject(CloseCode.DECODE_ERROR, 'binary frames are not accepted');
      return;
    }
    let text: string;
    try {
      text = utf8.decode(data);
    } catch {
      this.#reject(CloseCode.DECODE_ERROR, 'invalid UTF-8');
      return;
    }
    const f = parseFrame(text);
    if ('error' in f) {
      this.#reject(CloseCode.DECODE_ERROR, f.error);
      return;
    }
    switch (f.op) {
      case Op.HEARTBEAT:
        if (f.d !== null && f.d !== undefined && !Number.isInteger(f.d)) {
          this.#reject(CloseCode.DECODE_ERROR, 'heartbeat d must be the last sequence or null');
          return;
        }
        this.#lastHeartbeat = Date.now();
        this.#send(frame(Op.HEARTBEAT_ACK, null));
        return;
      case Op.IDENTIFY:
      case Op.RESUME:
        if (this.#state !== 'hello') {
          this.#reject(CloseCode.ALREADY_AUTHENTICATED, 'already authenticated');
          return;
        }
        void this.#authenticate(f.op === Op.RESUME, f.d);
        return;
      case Op.REQUEST:
        if (this.#state === 'hello' || this.#state === 'authenticating') {
          this.#reject(CloseCode.NOT_AUTHENTICATED, 'not authenticated');
          return;
        }
        void this.#request(f.d);
        return;
      default: {
        this.#reject(CloseCode.UNKNOWN_OPCODE, `unknown opcode ${f.op}`);
        return;
      }
    }
  }

  #reject(code: number, reason: string): void {
    this.#host.metrics.rejectedFrames.inc({ code: String(code) });
    this.#host.logger.debug({ session: this.sessionId, code, reason }, 'closing connection on bad input');
    this.close(code, reason);
  }

  async #authenticate(resume: boolean, d: unknown): Promise<void> {
    const payload = d as { token?: unknown; since?: unknown } | null;
    if (typeof payload !== 'object' || payload === null || typeof payload.token !== 'string') {
      this.#reject(CloseCode.DECODE_ERROR, `${resume ? 'RESUME' : 'IDENTIFY'} needs d.token`);
      return;
    }
    if (resume && !isId(payload.since)) {
      this.#reject(CloseCode.DECODE_ERROR, 'RESUME needs d.since (an id)');
      return;
    }
    this.#state = 'authenticating';
    try {
      await this.#identify(resume, payload.token, payload.since);
    } finally {
      this.#host.authenticated?.();
    }
  }

  async #identify(resume: boolean, token: string, since: unknown): Promise<void> {
    const kind = resume ? 'resume' : 'identify';
    // Where an IDENTIFY/RESUME waits: each step's time until it was answered (W4 storms read these).
    let lapStart = performance.now();
    const lap = (step: IdentifyStep) => {
      const now = performance.now();
      this.#host.metrics.identifyStepSeconds.observe({ kind, step }, (now - lapStart) / 1000);
      lapStart = now;
    };
    let claims: TokenClaims | null;
    try {
      // Verification reads the user's token version (revocation): a store outage is not a bad token.
      claims = await this.#host.verifyToken(token);
    } catch (err) {
      this.#dependencyFailed(resume, 'token', err);
      return;
    }
    lap('token');
    if (this.#gone()) return;
    if (!claims) {
      this.#host.metrics.identifies.inc({ kind, outcome: 'auth_failed' });
      const over = this.#slot && (await this.#host.authFailed?.(this.#slot.address));
      if (over) {
        this.#host.metrics.rateLimited.inc({ scope: 'auth_failures' });
        this.#reject(CloseCode.RATE_LIMITED, 'too many failed authentications from this address');
      } else this.#reject(CloseCode.AUTHENTICATION_FAILED, 'authentication failed');
      return;
    }
    if (this.#gone()) return;
    this.userId = claims.userId;
    this.#username = claims.username;
    if (resume) {
      // A RESUME costs a scan of the user's channels: it is a request against the user's budget.
      const rate = await this.#host.userRate(claims.userId);
      lap('rate');
      if (this.#gone()) return;
      if (!rate.ok) {
        this.#host.metrics.rateLimited.inc({ scope: 'user' });
        this.#host.metrics.identifies.inc({ kind, outcome: 'rate_limited' });
        this.close(CloseCode.RATE_LIMITED, 'rate limited; RESUME later');
        return;
      }
    }
    /** What the IDENTIFY/RESUME waits for now: named in the close reason and the log when it fails. */
    let step: DependencyStep = 'attach';
    try {
      // Attach first: from here on everything dispatched to this user reaches this gateway, so a
      // replay read after this point cannot miss what happens meanwhile (docs/protocol.md §5, RESUME).
      this.#attached = true;
      const h = this.#host;
      await attachWithin(h.attach(claims.userId), {
        timeoutMs: h.attachTimeoutMs,
        maxMs: h.attachMaxMs,
        progressAt: h.bindingProgressAt,
      });
      lap('attach');
      if (this.#gone()) return;
      step = 'channels';
      const channels = await (resume ? this.#host.memberChannels(claims.userId) : this.#host.channelsOf(claims.userId));
      lap('channels');
      if (this.#gone()) return;
      // The per-user cap, checked and taken in one synchronous step (no IDENTIFY can slip in between):
      // the index already counts each user's sockets, so the cap costs no memory of its own.
      if (this.#host.index.membersOfUser(claims.userId).length >= this.#host.maxSocketsPerUser) {
        this.#host.metrics.identifies.inc({ kind, outcome: 'too_many_sockets' });
        this.close(CloseCode.RATE_LIMITED, 'too many connections for this user');
        return;
      }
      if (this.#slot && this.#host.caps) {
        this.#host.caps.identified(this.#slot);
        this.#identified = true;
      }
      this.#state = 'buffering';
      this.#buffer = [];
      // From here on the index's interned id string, not the one parsed out of the token.
      this.userId = this.#host.index.add(
        this,
        channels.map((c) => c.id),
      );
      const first = this.#host.index.membersOfUser(this.userId).length === 1;
      // READY and RESUMED both carry the audience's presence: updates missed while away are not replayed.
      const presences = this.#host.presence?.connected(this.userId, channels, first, true);
      if (!resume) {
        // Events that arrive meanwhile are held (state 'buffering') and follow READY.
        const snapshot = await presences;
        lap('presence');
        if (this.#gone()) return;
        const ready = {
          user: { id: claims.userId, username: claims.username },
          channels,
          session_id: this.sessionId,
          ...(snapshot ? { presences: snapshot } : {}),
        };
        if (this.#fits()) this.#sock.send(dispatchFrame('READY', ++this.#seq, JSON.stringify(ready)));
        this.#host.metrics.identifies.inc({ kind: 'identify', outcome: 'ok' });
        this.#flush(new Set());
        return;
      }
      step = 'replay';
      // Past the horizon nothing is scanned: RESUMED says truncated and the client pages history.
      const beyondHorizon = parseSnowflake(since as string).timestampMs < Date.now() - this.#host.resumeHorizonMs;
      const { events, truncated } = beyondHorizon
        ? { events: [], truncated: true }
        : await this.#host.changesSince(
            this.#host.index.channelsOfUser(this.userId),
            since as string,
            this.#host.resumeMax,
          );
      lap('replay');
      const snapshot = await presences;
      lap('presence');
      if (this.#gone()) return;
      const resumed = { replayed: 0, truncated: false, ...(snapshot ? { presences: snapshot } : {}) };
      const replayed = new Set<string>();
      let sent = 0;
      let cut = truncated;
      this.#sock.cork(() => {
        for (const e of events) {
          // A replay that fills the socket's buffer stops there: truncated, the client pages the rest.
          if (this.#sock.bufferedAmount() > this.#host.maxBackpressureBytes) {
            cut = true;
            break;
          }
          const key = dedupeKey(e.event, e.data);
          if (key) replayed.add(key);
          this.#sock.send(dispatchFrame(e.event, ++this.#seq, JSON.stringify(e.data)));
          sent++;
        }
        resumed.replayed = sent;
        resumed.truncated = cut;
        if (this.#fits()) this.#sock.send(dispatchFrame('RESUMED', ++this.#seq, JSON.stringify(resumed)));
      });
      if (this.#gone()) return;
      this.#host.metrics.identifies.inc({ kind: 'resume', outcome: 'ok' });
      this.#host.metrics.replayed.inc(sent);
      this.#flush(replayed);
    } catch (err) {
      this.#dependencyFailed(resume, step, err);
    }
  }

  /**
   * IDENTIFY or RESUME could not finish because a dependency failed at `step`: the client should
   * reconnect (4000). The close reason names the step (operators and load tests count them).
   */
  #dependencyFailed(resume: boolean, step: DependencyStep, err: unknown): void {
    if (this.#gone()) return;
    this.#host.logger.warn({ err: (err as Error).message, user: this.userId, step }, 'identify failed on a dependency');
    this.#host.metrics.identifies.inc({ kind: resume ? 'resume' : 'identify', outcome: 'error' });
    this.close(CloseCode.UNKNOWN_ERROR, `temporarily unavailable (${step}); reconnect`);
  }

  /** Sends what arrived while READY/RESUMED was being prepared, without what the replay already sent. */
  #flush(replayed: Set<string>): void {
    const buffered = this.#buffer ?? [];
    this.#buffer = null;
    this.#state = 'ready';
    if (replayed.size > 0) {
      this.#replayed = replayed;
      this.#replayedUntil = Date.now() + REPLAY_MEMORY_MS;
    }
    this.#sock.cork(() => {
      for (const b of buffered) this.deliver(b.event, b.payloadJson, b.key);
    });
  }

  deliver(event: string, payloadJson: string, key: string | undefined): void {
    if (this.#state === 'buffering') {
      if (this.#buffer !== null && this.#buffer.length >= MAX_HELD_EVENTS) {
        // Bounded like the socket's own buffer: the client reconnects and RESUMEs.
        this.#host.metrics.slowConsumerCloses.inc();
        this.close(CloseCode.RATE_LIMITED, 'too many events while READY was prepared: reconnect and RESUME');
        return;
      }
      this.#buffer?.push({ event, payloadJson, key });
      return;
    }
    if (this.#state !== 'ready') return;
    if (this.#replayed !== null && key !== undefined && this.#replayed.has(key)) return;
    if (!this.#fits(event)) return;
    this.#sock.send(dispatchFrame(event, ++this.#seq, payloadJson));
    this.#host.metrics.deliveries.inc();
  }

  /**
   * One REQUEST through the command table (commands.ts): admission for a durable command first (an
   * overloaded gateway refuses before spending a Redis round trip), then the user's rate budget, then
   * the params against the command's shape, then the command. Exactly one RESPONSE per request.
   */
  async #request(d: unknown): Promise<void> {
    const req = d as { id?: unknown; method?: unknown; params?: unknown } | null;
    if (
      typeof req !== 'object' ||
      req === null ||
      typeof req.id !== 'string' ||
      req.id.length === 0 ||
      req.id.length > 64
    ) {
      this.#reject(CloseCode.DECODE_ERROR, 'REQUEST needs d.id (1-64 characters)');
      return;
    }
    const id = req.id;
    const method = typeof req.method === 'string' ? req.method : '';
    const command: SocketCommand | undefined = socketCommand(method);
    const label = command ? method : 'unknown';
    const started = performance.now();
    let outcome = 'ok';
    let release: (() => void) | undefined;
    try {
      if (command?.durable) release = this.#host.admission.enter(this.#writes);
      const rate = await this.#host.userRate(this.userId);
      if (!rate.ok) {
        this.#host.metrics.rateLimited.inc({ scope: 'user' });
        throw new ApiError('rate_limited', `too many requests; retry in ${Math.ceil(rate.retryAfterMs / 1000)} s`);
      }
      if (!command) throw new ApiError('invalid_request', `unknown method "${method.slice(0, 64)}"`);
      const params = checkShape(req.params ?? {}, command.params, 'params');
      const caller = { id: this.userId, username: this.#username };
      const result = await command.run(this.#host.services, caller, params, this.#slot?.address ?? '', this.sessionId);
      this.#send(response(id, result));
    } catch (err) {
      const e = failureOf(err, this.#host.logger, { method });
      outcome = e.code;
      this.#send(errorResponse(id, e.code, e.message, e.retryAfterMs));
    } finally {
      release?.();
      this.#host.metrics.requests.inc({ method: label, outcome });
      this.#host.metrics.requestSeconds.observe({ method: label }, (performance.now() - started) / 1000);
    }
  }
}

/** The part of IDENTIFY/RESUME a dependency failure happened in. */
type DependencyStep = 'token' | 'attach' | 'channels' | 'replay';
/** The steps of chat_gateway_identify_step_seconds: dependency steps, the RESUME's rate check, presence. */
type IdentifyStep = DependencyStep | 'rate' | 'presence';

/** Events held for one socket while its READY/RESUMED is prepared; one more closes it 4008. */
const MAX_HELD_EVENTS = 10_000;

/** How long the keys of a RESUME replay are remembered against late live copies. */
const REPLAY_MEMORY_MS = 60_000;
