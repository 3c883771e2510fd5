// Coalesces the acks of one consumer channel into `basic.ack multiple` frames. A consumer that acks
// every delivery separately costs the broker one frame, one channel-process step and one queue
// operation per message; acks given within one turn of the event loop are sent as one frame here.
//
// Rules that keep it correct:
// - Delivery tags of a channel increase. `multiple` acks every outstanding tag ≤ T, so T is the
//   highest *acked* tag of the longest prefix of settled deliveries (a prefix may hold requeued
//   ones: those were nacked at once and are no longer outstanding, so the range skips them).
// - An acked delivery behind a still-unsettled one is acked on its own at the same flush, so one
//   slow delivery never holds back the acks (and the prefetch window) of later ones.
// - `flush()` sends everything still pending: call it before cancelling or closing the channel.
import type { Channel, ConsumeMessage } from 'amqplib';

const SETTLED_ELSEWHERE = 0;
const ACKED = 1;

export class AckBatcher {
  readonly #ch: Channel;
  /** Outstanding delivery tags in delivery order; `#head` is the first not yet settled. */
  #tags: number[] = [];
  #head = 0;
  /** Settled tags still in `#tags`: ACKED (to send) or SETTLED_ELSEWHERE (nacked already). */
  readonly #settled = new Map<number, number>();
  #scheduled = false;
  #closed = false;

  constructor(ch: Channel) {
    this.#ch = ch;
  }

  /** Registers a delivery; call it for every message of the channel, in delivery order. */
  track(msg: ConsumeMessage): void {
    this.#tags.push(msg.fields.deliveryTag);
  }

  /** Acks the delivery: sent with the next flush (at the latest on the next event-loop turn). */
  ack(msg: ConsumeMessage): void {
    this.#settled.set(msg.fields.deliveryTag, ACKED);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Nacks at once (requeue or not); the delivery no longer holds back acks behind it. */
  nack(msg: ConsumeMessage, requeue: boolean): void {
    this.#settled.set(msg.fields.deliveryTag, SETTLED_ELSEWHERE);
    safely(() => this.#ch.nack(msg, false, requeue));
  }

  /** Sends every ack given so far. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed || this.#settled.size === 0) return;
    let upTo = -1;
    while (this.#head < this.#tags.length) {
      const tag = this.#tags[this.#head]!;
      const state = this.#settled.get(tag);
      if (state === undefined) break;
      if (state === ACKED) upTo = tag;
      this.#settled.delete(tag);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#tags.length) {
      this.#tags = this.#tags.slice(this.#head);
      this.#head = 0;
    }
    if (upTo >= 0) safely(() => this.#ch.ack(tagged(upTo), true));
    // Acked behind a gap: one frame each, so the gap does not hold them.
    for (const [tag, state] of this.#settled) {
      if (state !== ACKED) continue;
      this.#settled.set(tag, SETTLED_ELSEWHERE);
      safely(() => this.#ch.ack(tagged(tag), false));
    }
  }

  /** The channel is gone: nothing more is sent (the broker requeues what was unacked). */
  close(): void {
    this.#closed = true;
    this.#settled.clear();
    this.#tags = [];
    this.#head = 0;
  }
}

function tagged(deliveryTag: number): ConsumeMessage {
  return { fields: { deliveryTag } } as ConsumeMessage;
}

function safely(send: () => void): void {
  try {
    send();
  } catch {
    // The channel closed with its connection; the broker requeues unacked messages itself.
  }
}
