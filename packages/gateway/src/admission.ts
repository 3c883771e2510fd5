// Admission control for durable writes (message.create / update / delete, WebSocket and HTTP):
// at most `maxInFlight` writes per gateway process and `maxPerConnection` per WebSocket
// connection are between "accepted" and "answered". Past either bound the write is refused at
// once with `overloaded` and a retry hint, before any Redis, MongoDB or broker work: under
// overload the gateway sheds instead of queueing, so the latency of what it accepts stays bounded
// (Little's law: in flight = rate × latency) and a refused client knows to back off and retry.
import { ApiError } from './errors.js';

export interface AdmissionOptions {
  /** Durable writes in flight per process. */
  maxInFlight: number;
  /** Durable writes in flight per WebSocket connection. */
  maxPerConnection: number;
  /** The retry hint sent with `overloaded`. */
  retryAfterMs: number;
  /** Called once per refusal with its reason. */
  onRefused?: (reason: 'gateway' | 'connection') => void;
}

/** A connection's share: how many of its writes are in flight. */
export interface ConnectionWrites {
  inFlight: number;
}

/** The methods that are durable writes (the WebSocket REQUEST names). */
export const DURABLE_METHODS: ReadonlySet<string> = new Set(['message.create', 'message.update', 'message.delete']);

export class WriteAdmission {
  readonly #o: AdmissionOptions;
  #inFlight = 0;

  constructor(options: AdmissionOptions) {
    this.#o = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get retryAfterMs(): number {
    return this.#o.retryAfterMs;
  }

  /**
   * Admits one write or throws `overloaded`. The returned function releases it (idempotent) and
   * must be called once the write is answered, whatever the outcome.
   */
  enter(connection?: ConnectionWrites): () => void {
    if (this.#inFlight >= this.#o.maxInFlight) this.#refuse('gateway');
    if (connection && connection.inFlight >= this.#o.maxPerConnection) this.#refuse('connection');
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

  #refuse(reason: 'gateway' | 'connection'): never {
    this.#o.onRefused?.(reason);
    throw new ApiError(
      'overloaded',
      reason === 'gateway'
        ? 'this gateway has too many writes in flight; retry later'
        : 'this connection has too many writes in flight; wait for their answers',
      { retryAfterMs: this.#o.retryAfterMs },
    );
  }
}
