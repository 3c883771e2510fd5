// Admission control for durable writes (the `durable` commands of commands.ts, WebSocket and HTTP):
// at most `maxInFlight` writes per gateway process and `maxPerConnection` per WebSocket
// connection are between "accepted" and "answered". Past either bound the write is refused at
// once with `overloaded` and a retry hint, before any Redis, MongoDB or broker work: under
// overload the gateway sheds instead of queueing, so the latency of what it accepts stays bounded
// (Little's law: in flight = rate × latency) and a refused client knows to back off and retry.
//
// Saturation signal: the confirm latency of message.create (send → broker confirm, as this process
// sees it — so it grows when the broker is saturated and when this event loop is). Its moving
// average above `confirmTargetMs` lowers the process bound in proportion (bound × target / average,
// never below 1/16 of it): the in-flight writes a saturated path can finish within the target. The
// floor keeps writes flowing, so the average keeps being measured and the bound comes back up as
// soon as confirms are fast again; there is no state in which everything is refused.
//
// Second bound: the whole path's window (path-window.ts) — how many of this gateway's confirmed
// messages may still be on their way through the persist queue, the persister and the dispatch
// before their MESSAGE_CREATE comes back to this gateway (latency read from the message id, this
// gateway's own ids only: same clock): at most what comes back in 2 × `pathTargetMs`, and while the
// slowest tenth of them takes longer than `pathTargetMs`, a window steered until it does not. Why: a write leaves the
// in-flight count at its confirm, so under 2× overload the in-flight bound stayed satisfied while the
// persister's backlog took accepted writes' p99 to 3.2 s (bench/results/w1.md).
import { ApiError } from './errors.js';
import { PathWindow } from './path-window.js';

export interface AdmissionOptions {
  /** Durable writes in flight per process. */
  maxInFlight: number;
  /** Durable writes in flight per WebSocket connection. */
  maxPerConnection: number;
  /** The retry hint sent with `overloaded`. */
  retryAfterMs: number;
  /** Confirm latency (moving average) above which the process bound shrinks; 0 disables. */
  confirmTargetMs?: number;
  /** Write → own MESSAGE_CREATE back at this gateway: the latency its slowest tenth is held under (path-window.ts); 0 disables. */
  pathTargetMs?: number;
  /** Clock in ms for the path's window (tests). Default performance.now. */
  now?: () => number;
  /** Called once per refusal with its reason. */
  onRefused?: (reason: RefusalReason) => void;
}

export type RefusalReason = 'gateway' | 'latency' | 'connection';

/** Weight of the newest confirm in the moving average. */
const EWMA_ALPHA = 0.1;

function ewma(average: number, sample: number): number {
  return average === 0 ? sample : average + EWMA_ALPHA * (sample - average);
}

/** How far a moving average is above its target (> 1: over); 0 when the signal is off or unsampled. */
function overshoot(averageMs: number, targetMs: number | undefined): number {
  return targetMs === undefined || targetMs <= 0 || averageMs === 0 ? 0 : averageMs / targetMs;
}

/** A connection's share: how many of its writes are in flight. */
export interface ConnectionWrites {
  inFlight: number;
}

export class WriteAdmission {
  readonly #o: AdmissionOptions;
  #inFlight = 0;
  /** Moving average of the confirm latency, ms (0: no sample yet). */
  #confirmMs = 0;
  /** The whole path's window; undefined when off. */
  readonly #path: PathWindow | undefined;

  constructor(options: AdmissionOptions) {
    this.#o = options;
    this.#path =
      options.pathTargetMs !== undefined && options.pathTargetMs > 0
        ? new PathWindow({ targetMs: options.pathTargetMs, now: options.now })
        : undefined;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get retryAfterMs(): number {
    return this.#o.retryAfterMs;
  }

  /** The process bound now: `maxInFlight`, lowered while confirms are slower than their target. */
  get limit(): number {
    const max = this.#o.maxInFlight;
    const over = overshoot(this.#confirmMs, this.#o.confirmTargetMs);
    if (over <= 1) return max;
    return Math.max(Math.ceil(max / 16), Math.floor(max / over));
  }

  /** Feeds one durable write's send → confirm time. */
  observeConfirm(ms: number): void {
    this.#confirmMs = ewma(this.#confirmMs, ms);
  }

  /** The whole path's window now: messages on it and how many may be (undefined: off). */
  get path(): { onPath: number; limit: number } | undefined {
    return this.#path && { onPath: this.#path.onPath, limit: this.#path.limit };
  }

  /** Message `id`, written here, was confirmed; call it only when its MESSAGE_CREATE will come back here. */
  pathConfirmed(id: string): void {
    this.#path?.confirmed(id);
  }

  /** This gateway's message `id` came back as a MESSAGE_CREATE, `ms` after it was written. */
  pathCameBack(id: string, ms: number): void {
    this.#path?.cameBack(id, ms);
  }

  /**
   * Admits one write or throws `overloaded`. The returned function releases it (idempotent) and
   * must be called once the write is answered, whatever the outcome.
   */
  enter(connection?: ConnectionWrites): () => void {
    if (this.#inFlight >= this.#o.maxInFlight) this.#refuse('gateway');
    if (this.#inFlight >= this.limit) this.#refuse('latency');
    if (connection && connection.inFlight >= this.#o.maxPerConnection) this.#refuse('connection');
    if (this.#path && !this.#path.admits()) this.#refuse('latency');
    this.#inFlight++;
    if (connection) connection.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      if (connection) connection.inFlight--;
    };
  }

  /** Runs `fn` as one admitted write. */
  async run<T>(fn: () => Promise<T>, connection?: ConnectionWrites): Promise<T> {
    const release = this.enter(connection);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #refuse(reason: RefusalReason): never {
    this.#o.onRefused?.(reason);
    // A refusal is the hot path under overload: no stack trace (capturing one costs more than the rest).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let error: ApiError;
    try {
      error = new ApiError(
        'overloaded',
        reason === 'gateway'
          ? 'this gateway has too many writes in flight; retry later'
          : reason === 'latency'
            ? 'the durable path is saturated (slow confirms or a slow persister); retry later'
            : 'this connection has too many writes in flight; wait for their answers',
        { retryAfterMs: this.#o.retryAfterMs },
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
    throw error;
  }
}
