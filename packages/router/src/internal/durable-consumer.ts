// The consumer of the persist queue (`<prefix>.persist`, for persisters): turns each delivery — one
// durable write, or a `write.bundle` of several — into DurableDeliveries for the handler, and
// dead-letters (dead-letter.ts) what must not reach it: malformed writes and writes from a publisher
// that is not among the accepted writers. The guarantees are stated on Router.consumeDurable.

import type { Logger } from '@chat/protocol';
import { type DeadLetter, deadLetterOf } from './dead-letter.js';
import type { Delivery } from './delivery.js';
import { checkedJson, type Drops } from './drops.js';
import { type DurableWrite, durableWriteProblem } from './envelope.js';
import type { RouterMetrics } from './metrics.js';
import { BundleSettlement, WRITE_BUNDLE_TYPE, writeBundleLines } from './write-bundle.js';
import { writerProblem } from './writer-identity.js';

/** One message of the persist queue, handed to a durable consumer, which must settle it exactly once. */
export interface DurableDelivery {
  envelope: DurableWrite;
  /** Times the broker delivered it before (quorum `x-delivery-count`), 0 on first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  /** Done: removes it from the queue. */
  ack(): void;
  /** Not done: back to the queue (counts toward `x-delivery-limit`). */
  requeue(): void;
  /** Poison: moves it to `<prefix>.persist.dead` with the reason, confirmed, then acks it. */
  deadLetter(reason: string): Promise<void>;
}

export type DurableHandler = (delivery: DurableDelivery) => void | Promise<void>;

export interface DurableConsumerDeps {
  handler: DurableHandler;
  /** The AMQP users whose writes are accepted; undefined accepts every writer. */
  writers: ReadonlySet<string> | undefined;
  /** Publishes a dead letter, resolving once the broker confirmed it. */
  publishDead: (letter: DeadLetter) => Promise<void>;
  drops: Drops;
  metrics: Pick<RouterMetrics, 'deliveries'>;
  logger: Logger;
}

export class DurableConsumer {
  readonly #d: DurableConsumerDeps;

  constructor(deps: DurableConsumerDeps) {
    this.#d = deps;
  }

  /**
   * Hands one delivery of the persist queue over. A bundle's records are deliveries of their own; the
   * broker message is acked once every record is acked or dead-lettered, and requeued as a whole once
   * every record is settled and any was requeued.
   */
  onDelivery(delivery: Delivery): void {
    const refused = writerProblem(delivery.userId, this.#d.writers);
    if (delivery.type === WRITE_BUNDLE_TYPE) {
      const lines = writeBundleLines(delivery.body.toString('utf8'));
      const bundle = new BundleSettlement(
        lines.length,
        () => delivery.ack(),
        () => delivery.requeue(),
      );
      for (const line of lines) this.#deliver(delivery, line, bundle, refused);
      return;
    }
    this.#deliver(delivery, delivery.body.toString('utf8'), undefined, refused);
  }

  /**
   * Hands one durable write (a whole message, or one record of a write bundle) to the handler, or
   * dead-letters it when it is malformed or `refused` names why its publisher is not accepted. A
   * dead letter that cannot be published requeues the write; so does a handler that throws or rejects.
   * Settling it settles the delivery, or its record of `bundle`.
   */
  #deliver(delivery: Delivery, json: string, bundle: BundleSettlement | undefined, refused: string | undefined): void {
    const { handler, drops, logger, publishDead } = this.#d;
    let settled = false;
    const once = (requeue: boolean) => {
      if (settled) return;
      settled = true;
      if (bundle) bundle.settle(requeue);
      else if (requeue) delivery.requeue();
      else delivery.ack();
    };
    const checked = checkedJson(json, durableWriteProblem);
    const value = checked.value;
    const reason = refused ?? checked.reason;
    const deadLetter = async (why: string) => {
      if (settled) return;
      await publishDead(deadLetterOf(delivery, json, value, why));
      once(false);
    };
    if (reason !== undefined) {
      drops.drop(reason);
      deadLetter(reason).catch((err: unknown) => {
        logger.warn({ err: (err as Error).message }, 'dead-lettering failed; requeueing');
        once(true);
      });
      return;
    }
    this.#d.metrics.deliveries.inc({ queue: 'persist' });
    const durable: DurableDelivery = {
      envelope: value as DurableWrite,
      deliveryCount: delivery.deliveryCount,
      redelivered: delivery.redelivered,
      ack: () => once(false),
      requeue: () => once(true),
      deadLetter,
    };
    try {
      const r = handler(durable);
      if (r && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).catch((err: unknown) => {
          logger.error({ err }, 'durable handler failed; requeueing');
          durable.requeue();
        });
      }
    } catch (err) {
      logger.error({ err }, 'durable handler threw; requeueing');
      durable.requeue();
    }
  }
}
