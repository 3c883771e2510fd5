// One client connection of a seed server: the subset of the gateway protocol (docs/protocol.md §5) the
// load generator speaks. HELLO → IDENTIFY (JWT) → READY; HEARTBEAT → HEARTBEAT_ACK; REQUEST
// message.create → RESPONSE once the routing has handed the message to the broker; DISPATCH
// MESSAGE_CREATE for every message of the user's channels. No RESUME (INVALID_SESSION), no storage.
// Bad input gets the gateway's close codes / RESPONSE errors; in-flight requests per socket are bounded.
import { randomUUID } from 'node:crypto';
import { CloseCode, Op } from '@chat/protocol';
import type { LocalSocket, LocalSockets } from './local-sockets.js';
import type { Membership } from './membership.js';
import type { TokenClaims, TokenVerifier } from './token-verifier.js';
import type { UserAttachments } from './user-attachments.js';

/** What a session writes to: the uWS socket in chat-server.ts. */
export interface SocketPort {
  send(text: string): void;
  end(code: number, reason: string): void;
}

export interface SessionHost {
  serverId: string;
  heartbeatIntervalMs: number;
  identifyTimeoutMs: number;
  maxContentLength: number;
  /** REQUESTs of one socket waiting for the routing; more are refused with `overloaded`. */
  maxInFlightPerSocket: number;
  verifyToken: TokenVerifier;
  attachments: UserAttachments;
  local: LocalSockets;
  membership: Membership;
  /** Builds the message, hands it to the routing; resolves with the message object's JSON. */
  createMessage(author: TokenClaims, channelId: string, content: string, nonce: string | null): Promise<string>;
  /** An unexpected failure (logged once per kind by the host). */
  onError(kind: string, err: unknown): void;
}

const RETRY_AFTER_MS = 100;

export class Session implements LocalSocket {
  readonly #sock: SocketPort;
  readonly #host: SessionHost;
  #state: 'hello' | 'identifying' | 'ready' | 'closed' = 'hello';
  #claims: TokenClaims | undefined;
  #seq = 0;
  #deadline = 0;
  #inFlight = 0;

  constructor(sock: SocketPort, host: SessionHost) {
    this.#sock = sock;
    this.#host = host;
  }

  open(now: number): void {
    this.#deadline = now + this.#host.identifyTimeoutMs;
    this.#sock.send(
      JSON.stringify({
        op: Op.HELLO,
        d: { heartbeat_interval: this.#host.heartbeatIntervalMs, server_id: this.#host.serverId },
      }),
    );
  }

  message(text: string, now: number): void {
    if (this.#state === 'closed') return;
    let frame: { op?: unknown; d?: unknown } | null;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = null;
    }
    if (typeof frame !== 'object' || frame === null) {
      this.#end(CloseCode.DECODE_ERROR, 'a frame is a JSON object');
    } else if (frame.op === Op.HEARTBEAT) {
      if (this.#state === 'ready') this.#deadline = now + 2 * this.#host.heartbeatIntervalMs;
      this.#sock.send('{"op":11,"d":null}');
    } else if (frame.op === Op.IDENTIFY) {
      if (this.#state === 'hello') void this.#identify((frame.d as { token?: unknown } | null)?.token);
      else this.#end(CloseCode.ALREADY_AUTHENTICATED, 'already identified');
    } else if (frame.op === Op.RESUME) {
      // These baselines keep no history to replay: the client has to identify afresh.
      this.#sock.send(JSON.stringify({ op: Op.INVALID_SESSION, d: { reason: 'RESUME is not supported here' } }));
    } else if (frame.op === Op.REQUEST) {
      if (this.#state === 'ready') this.#request(frame.d);
      else this.#end(CloseCode.NOT_AUTHENTICATED, 'not authenticated');
    } else {
      this.#end(CloseCode.UNKNOWN_OPCODE, 'unknown opcode');
    }
  }

  /** Closes sessions that missed IDENTIFY or two heartbeats. */
  tick(now: number): void {
    if (this.#state === 'closed' || now < this.#deadline) return;
    this.#end(CloseCode.SESSION_TIMED_OUT, this.#state === 'ready' ? 'missed heartbeats' : 'no IDENTIFY in time');
  }

  /** The socket is gone (whoever closed it). */
  closed(): void {
    const was = this.#state;
    this.#state = 'closed';
    if (!this.#claims) return;
    if (was === 'ready') this.#host.local.remove(this.#claims.userId, this);
    this.#host.attachments.release(this.#claims.userId);
  }

  dispatch(event: string, payloadJson: string): void {
    if (this.#state !== 'ready') return;
    this.#sock.send(`{"op":0,"t":"${event}","s":${++this.#seq},"d":${payloadJson}}`);
  }

  async #identify(token: unknown): Promise<void> {
    this.#state = 'identifying';
    const claims = await this.#host.verifyToken(token);
    if (this.#isClosed()) return;
    if (!claims) {
      this.#end(CloseCode.AUTHENTICATION_FAILED, 'authentication failed');
      return;
    }
    this.#claims = claims;
    try {
      await this.#host.attachments.acquire(claims.userId);
    } catch (err) {
      this.#host.onError('attach', err);
      this.#end(CloseCode.UNKNOWN_ERROR, 'could not attach');
      return;
    }
    if (this.#isClosed()) return; // closed() released the reference
    this.#state = 'ready';
    this.#deadline = Date.now() + 2 * this.#host.heartbeatIntervalMs;
    this.#host.local.add(claims.userId, this);
    const ready = {
      user: { id: claims.userId, username: claims.username },
      channels: this.#host.membership.channelsOf(claims.userId).map((id) => ({ id })),
      session_id: randomUUID(),
    };
    this.dispatch('READY', JSON.stringify(ready));
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #request(d: unknown): void {
    const req = d as { id?: unknown; method?: unknown; params?: unknown } | null;
    if (typeof req?.id !== 'string' || req.id.length === 0 || req.id.length > 64) {
      this.#end(CloseCode.DECODE_ERROR, 'a REQUEST needs a string id of 1..64 characters');
      return;
    }
    const id = req.id;
    const params = req.params as { channel_id?: unknown; content?: unknown; nonce?: unknown } | null;
    const channelId = params?.channel_id;
    const content = params?.content;
    const nonce = params?.nonce ?? null;
    const claims = this.#claims!;
    const max = this.#host.maxContentLength;
    let refusal: [code: string, message: string, retryAfterMs?: number] | undefined;
    if (req.method !== 'message.create') refusal = ['invalid_request', 'unknown method'];
    else if (typeof channelId !== 'string') refusal = ['invalid_request', 'channel_id must be a string'];
    else if (typeof content !== 'string' || content.trim().length === 0 || content.length > max) {
      refusal = ['invalid_request', `content must be 1..${max} characters`];
    } else if (nonce !== null && (typeof nonce !== 'string' || nonce.length > 64)) {
      refusal = ['invalid_request', 'nonce must be a string of at most 64 characters'];
    } else if (!this.#host.membership.isMember(channelId, claims.userId)) {
      refusal = ['not_a_member', 'not a member of this channel'];
    } else if (this.#inFlight >= this.#host.maxInFlightPerSocket) {
      refusal = ['overloaded', 'too many requests in flight', RETRY_AFTER_MS];
    }
    if (refusal) {
      this.#error(id, ...refusal);
      return;
    }
    this.#inFlight++;
    this.#host.createMessage(claims, channelId as string, content as string, nonce as string | null).then(
      (payloadJson) => {
        this.#inFlight--;
        if (!this.#isClosed()) {
          this.#sock.send(`{"op":21,"d":{"id":${JSON.stringify(id)},"ok":true,"result":${payloadJson}}}`);
        }
      },
      (err: unknown) => {
        this.#inFlight--;
        this.#host.onError('publish', err);
        this.#error(id, 'unavailable', 'the message could not be published');
      },
    );
  }

  #error(id: string, code: string, message: string, retryAfterMs?: number): void {
    if (this.#state === 'closed') return;
    const error = retryAfterMs === undefined ? { code, message } : { code, message, retry_after_ms: retryAfterMs };
    this.#sock.send(JSON.stringify({ op: Op.RESPONSE, d: { id, ok: false, error } }));
  }

  /** Ends the connection with a close code (its close event then calls `closed()`). */
  close(code: number, reason: string): void {
    this.#end(code, reason);
  }

  #end(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#sock.end(code, reason);
  }
}
