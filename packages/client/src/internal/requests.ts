// Request correlation (docs/protocol.md §5.6): a REQUEST (op 20) carries an id, and the RESPONSE with
// that id settles it. This module owns the requests between being made and being settled:
// - each settles exactly once: by its RESPONSE, its timeout (RequestTimeoutError), the loss of the
//   connection it was sent on (ConnectionLostError), or `failAll` (close, terminal failure);
// - at most once on the wire: a request is never resent, except after an `overloaded` answer (the
//   server did nothing), or an `unavailable` one to a message.create with a nonce (the server
//   deduplicates it), when the same request goes again after a backoff (overload-retry.ts);
// - made while no session is established, it waits in order and goes at `flush()`, within its timeout;
// - bounded: at most `maxPending` requests wait or are outstanding together; one more is refused at
//   once with `overloaded` (nothing was sent), which the overload retry treats like the server's.
// It sends through the RequestTransport port and keeps no socket of its own.
import { frame as encodeFrame, type Logger, Op, readResponse as parseResponse } from '@chat/protocol';
import {
  ChatRequestError,
  ClientClosedError,
  ConnectionLostError,
  ProtocolError,
  RequestTimeoutError,
} from '../errors.js';

import { carriesNonce, type OverloadRetryOptions, retryOverloaded } from './overload-retry.js';

/** Where requests go out: the session. */
export interface RequestTransport {
  /** Puts `frame` on the established session; false when there is none now (the request then waits). */
  trySend(frame: string): boolean;
  /** Whether the app wants a session (between connect() and close()); requests are refused otherwise. */
  wantsOpen(): boolean;
}

export interface RequestCorrelatorOptions {
  overloadRetry: OverloadRetryOptions;
  /** Requests waiting or outstanding together at most. */
  maxPending: number;
  log: Logger;
}

/** The default bound of requests waiting or outstanding in one client. */
export const MAX_PENDING_REQUESTS = 10_000;

interface PendingRequest {
  readonly id: string;
  readonly method: string;
  readonly params: unknown;
  readonly frame: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class RequestCorrelator {
  readonly #transport: RequestTransport;
  readonly #o: RequestCorrelatorOptions;
  /** Sent on the current connection, by id. */
  readonly #sent = new Map<string, PendingRequest>();
  /** Waiting for a session, in order. */
  #waiting: PendingRequest[] = [];
  #nextId = 0;

  constructor(transport: RequestTransport, options: RequestCorrelatorOptions) {
    this.#transport = transport;
    this.#o = options;
  }

  /** Requests waiting or outstanding. */
  get size(): number {
    return this.#sent.size + this.#waiting.length;
  }

  /**
   * One request: resolves with the RESPONSE result (null when absent); rejects with ChatRequestError
   * (the server said no, after the overload retries), RequestTimeoutError (no answer within
   * `timeoutMs` overall, may have happened), ConnectionLostError (dropped after sending, may have
   * happened) or ClientClosedError (no session wanted). Both failures that may have happened carry
   * `{ method, params }`.
   */
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    return retryOverloaded(
      () => this.#once(method, params, Math.max(1, deadline - Date.now())),
      this.#o.overloadRetry,
      deadline,
      () => this.#transport.wantsOpen(),
      (retry, delayMs) => this.#o.log.debug({ method, retry, delayMs }, 'refused: sending the same request again'),
      method === 'message.create' && carriesNonce(params),
    );
  }

  #once(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.#transport.wantsOpen())
      return Promise.reject(new ClientClosedError(`${method}: the client is not connected (call connect())`));
    if (this.size >= this.#o.maxPending)
      return Promise.reject(
        new ChatRequestError(method, 'overloaded', `${this.size} requests are already waiting in the client`),
      );
    const id = `r${++this.#nextId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(p);
        reject(new RequestTimeoutError(`${method}: no RESPONSE within ${timeoutMs} ms`, { method, params }));
      }, timeoutMs);
      const p: PendingRequest = {
        id,
        method,
        params,
        frame: encodeFrame(Op.REQUEST, { id, method, params }),
        resolve,
        reject,
        timer,
      };
      this.#sendOrWait(p);
    });
  }

  /**
   * A RESPONSE payload: settles the request with its id. Returns a ProtocolError for a malformed
   * payload (nothing settled); one for no pending request (answered after its timeout) is ignored.
   */
  onResponse(d: unknown): ProtocolError | null {
    const r = parseResponse(d);
    if (!r) return new ProtocolError('malformed RESPONSE');
    const p = this.#sent.get(r.id);
    if (!p) {
      this.#o.log.debug({ id: r.id }, 'RESPONSE for no pending request (answered after its timeout?)');
      return null;
    }
    this.#sent.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.result ?? null);
    else p.reject(new ChatRequestError(p.method, r.error.code, r.error.message, r.error.retryAfterMs));
    return null;
  }

  /** A session was established: the waiting requests go, in order. */
  flush(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const p of waiting) this.#sendOrWait(p);
  }

  /** The connection the outstanding requests were sent on is gone: they reject with ConnectionLostError. */
  connectionLost(reason: string): void {
    this.#rejectSent(
      (p) =>
        new ConnectionLostError(`${p.method}: the connection was lost before the RESPONSE (${reason})`, {
          method: p.method,
          params: p.params,
        }),
    );
  }

  /** No session any more (close(), a terminal failure): every request, sent or waiting, rejects with `err`. */
  failAll(err: Error): void {
    this.#rejectSent(() => err);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const p of waiting) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  #rejectSent(failure: (p: PendingRequest) => Error): void {
    const sent = [...this.#sent.values()];
    this.#sent.clear();
    for (const p of sent) {
      clearTimeout(p.timer);
      p.reject(failure(p));
    }
  }

  #sendOrWait(p: PendingRequest): void {
    if (this.#transport.trySend(p.frame)) this.#sent.set(p.id, p);
    else this.#waiting.push(p);
  }

  #forget(p: PendingRequest): void {
    this.#sent.delete(p.id);
    const i = this.#waiting.indexOf(p);
    if (i >= 0) this.#waiting.splice(i, 1);
  }
}
