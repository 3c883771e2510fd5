// Durable writes that are published in the same turn of the event loop share one broker message
// (`type: write.bundle`): under load a gateway issues many writes at once, and each quorum-queue
// message costs the broker a log entry, a replication round and a delivery. One write alone is
// published as before, so a quiet system sees no change and no added latency.
//
// Group commit (`maxInFlight`): while that many bundles wait for their confirm, the next writes wait
// too and leave together once one is confirmed, so the bundle grows with the load instead of the
// number of broker messages. Measured here (bench/results/profile-2026-12.md): a quorum-queue message
// costs the broker ≈ 370 µs of CPU (half of it system time) when each carries one write at 1,000/s,
// ≈ 220 µs per write at 3 per message, ≈ 90 µs at 10 and ≈ 60 µs at 50. A full bundle never waits.
//
// Pacing (`minIntervalMs`): at moderate rates group commit alone still sends a bundle every confirm
// round trip (≈ 2–4 ms: W1 at 1,000 and 2,000 DM/s made the same ≈ 450 bundles per second, 2.2 and
// 4.4 writes each, and the broker and the persister spent the same CPU at both rates). With an interval,
// a bundle leaves at most once per interval (a full one at once), so bundles fill with the rate while
// each write waits at most the interval. A write after a quiet spell longer than the interval goes at once.
//
// Body (UTF-8): one durable-write envelope as JSON per line (JSON text never holds a raw LF).
// The bundle is confirmed as a whole; the persister's router hands each record over as a delivery
// of its own and settles the broker message once every record is settled.

export const WRITE_BUNDLE_TYPE = 'write.bundle';
/** Writes per bundle, and bytes: bounds the persister's memory at prefetch × this. */
export const MAX_WRITES = 64;
export const MAX_WRITE_BYTES = 64 * 1024;

export interface PendingWrite {
  json: string;
  type: string;
  id: string;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Collects writes until the end of the current event-loop turn (or MAX_WRITES / MAX_WRITE_BYTES),
 * then hands them to `publish` as one group — at once when fewer than `maxInFlight` groups are
 * unconfirmed (0: no limit), otherwise as soon as one of them settles; and, with `minIntervalMs`, not
 * sooner than that after the previous group. A full group goes at once. Writes leave in the order added.
 * `publish` settles every write of the group and resolves when it has.
 */
export class WriteCoalescer {
  readonly #publish: (group: PendingWrite[]) => Promise<void>;
  readonly #maxInFlight: number;
  #group: PendingWrite[] = [];
  #bytes = 0;
  #scheduled = false;
  #inFlight = 0;
  readonly #minIntervalMs: number;
  /** performance.now() when the last group was handed to publish. */
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #intervalTimer: NodeJS.Timeout | undefined;

  constructor(publish: (group: PendingWrite[]) => Promise<void>, maxInFlight = 0, minIntervalMs = 0) {
    this.#publish = publish;
    this.#maxInFlight = maxInFlight;
    this.#minIntervalMs = minIntervalMs;
  }

  /** Groups published and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  add(write: PendingWrite): void {
    if (
      this.#group.length > 0 &&
      (this.#group.length >= MAX_WRITES || this.#bytes + write.json.length > MAX_WRITE_BYTES)
    ) {
      this.#send();
    }
    this.#group.push(write);
    this.#bytes += write.json.length + 1;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flushIfRoom();
      });
    }
  }

  #flushIfRoom(): void {
    if (this.#group.length === 0 || this.#intervalTimer !== undefined) return;
    if (this.#maxInFlight !== 0 && this.#inFlight >= this.#maxInFlight) return;
    const waitMs = this.#lastSentAt + this.#minIntervalMs - performance.now();
    if (waitMs >= 1) {
      // Not unref'd: the writes waiting here are work their callers await.
      this.#intervalTimer = setTimeout(() => {
        this.#intervalTimer = undefined;
        this.#flushIfRoom();
      }, waitMs);
      return;
    }
    this.#send();
  }

  #send(): void {
    if (this.#group.length === 0) return;
    this.#lastSentAt = performance.now();
    const group = this.#group;
    this.#group = [];
    this.#bytes = 0;
    this.#inFlight++;
    void this.#publish(group).finally(() => {
      this.#inFlight--;
      this.#flushIfRoom();
    });
  }
}

/** The lines of a write bundle (not yet validated). */
export function writeBundleLines(body: string): string[] {
  return body.split('\n').filter((line) => line.length > 0);
}

/**
 * Settles one broker message that carries several records: ack once every record is acked or
 * dead-lettered; requeue (all of it — stored records come again and are stored idempotently) once
 * every record is settled and any was requeued.
 */
export class BundleSettlement {
  #open: number;
  #requeue = false;
  readonly #ack: () => void;
  readonly #nack: () => void;

  constructor(records: number, ack: () => void, requeue: () => void) {
    this.#open = records;
    this.#ack = ack;
    this.#nack = requeue;
    if (records === 0) ack();
  }

  /** One record is done: `requeue` when it must come again. */
  settle(requeue: boolean): void {
    if (this.#open <= 0) return;
    if (requeue) this.#requeue = true;
    this.#open -= 1;
    if (this.#open === 0) (this.#requeue ? this.#nack : this.#ack)();
  }
}
