// The consumer of a gateway's own queue (`<prefix>.gw.<serverId>`): turns each delivery into handler
// calls — one per dispatch, or one per record of a `dispatch.bundle` addressed to a key this gateway
// binds — drops what is malformed or a copy already handed over, and acks each delivery once its
// handler calls have settled. The guarantees are stated on Router.consume.
import type { Delivery } from './delivery.js';
import { BUNDLE_TYPE, decodeBundle } from './dispatch-bundle.js';
import type { Drops } from './drops.js';
import { type DispatchEnvelope, dispatchProblem } from './envelope.js';
import type { RouterMetrics } from './metrics.js';

export interface DeliveryInfo {
  /** `message_id` property: the dispatch id (the event id when the publisher gave one). */
  messageId: string | undefined;
  redelivered: boolean;
}

export type DispatchHandler = (envelope: DispatchEnvelope, info: DeliveryInfo) => void | Promise<void>;

/**
 * A bounded set of recent ids, oldest evicted first. The eviction order is kept in a ring of the ids
 * rather than read off the Set's insertion order: `set.values().next()` after many deletes walks over
 * every deleted slot still in V8's table, which made each add cost ~7 µs at 16,384 ids (a ring: ~0.2).
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  /** The ids in insertion order, `#next` the slot of the oldest once the ring is full. */
  readonly #ring: string[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Adds an id; false when it was already there. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(id);
    } else {
      this.#ids.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = id;
      this.#next = (this.#next + 1) % this.#capacity;
    }
    return true;
  }
}

export interface DispatchConsumerDeps {
  handler: DispatchHandler;
  /** Whether this gateway currently binds a key (holds a reference to it). */
  isBound: (key: string) => boolean;
  /** Dispatch ids handed over lately, shared by the router's consumers. */
  recent: RecentIds;
  drops: Drops;
  metrics: Pick<RouterMetrics, 'deliveries' | 'duplicates' | 'bundleRecords'>;
}

export class DispatchConsumer {
  readonly #d: DispatchConsumerDeps;
  readonly #onHandlerError = (err: unknown) => this.#d.drops.drop('handler_error', err);

  constructor(deps: DispatchConsumerDeps) {
    this.#d = deps;
  }

  /** Hands one delivery of the gateway queue over; acks it once its handler calls settled. */
  onDelivery(delivery: Delivery): void {
    if (delivery.type === BUNDLE_TYPE) {
      this.#bundle(delivery);
      return;
    }
    const envelope = this.#d.drops.parse(delivery.body.toString('utf8'), dispatchProblem);
    const messageId = delivery.messageId;
    if (envelope === undefined) delivery.ack();
    // A queue bound in k partitions gets one copy per partition of a dispatch; keep the first.
    else if (messageId !== undefined && !this.#d.recent.add(messageId)) {
      this.#d.metrics.duplicates.inc();
      delivery.ack();
    } else {
      const handled = this.#handOver(envelope as DispatchEnvelope, { messageId, redelivered: delivery.redelivered });
      if (handled) void handled.then(() => delivery.ack());
      else delivery.ack();
    }
  }

  /** Hands a bundle's records for keys this gateway binds to the handler, in order; acks it after the last. */
  #bundle(delivery: Delivery): void {
    const { drops, metrics, recent } = this.#d;
    const records = decodeBundle(delivery.body.toString('utf8'), (reason) => drops.drop(reason));
    const pending: Promise<void>[] = [];
    for (const record of records) {
      // Not addressed to a key of ours: the bundle reached this queue through another record's key.
      if (!record.keys.some(this.#d.isBound)) {
        metrics.bundleRecords.inc({ outcome: 'foreign' });
        continue;
      }
      if (!recent.add(record.id)) {
        metrics.duplicates.inc();
        continue;
      }
      const envelope = drops.parse(record.envelopeJson, dispatchProblem);
      if (envelope === undefined) continue;
      metrics.bundleRecords.inc({ outcome: 'delivered' });
      const handled = this.#handOver(envelope as DispatchEnvelope, {
        messageId: record.id,
        redelivered: delivery.redelivered,
      });
      if (handled) pending.push(handled);
    }
    if (pending.length === 0) delivery.ack();
    else void Promise.all(pending).then(() => delivery.ack());
  }

  /**
   * Calls the handler: returns the promise of an async handler (never rejecting), or undefined when
   * it finished synchronously. A throw or rejection is counted and logged as dropped.
   */
  #handOver(envelope: DispatchEnvelope, info: DeliveryInfo): Promise<void> | undefined {
    this.#d.metrics.deliveries.inc({ queue: 'gateway' });
    let result: void | Promise<void>;
    try {
      result = this.#d.handler(envelope, info);
    } catch (err) {
      this.#d.drops.drop('handler_error', err);
      return undefined;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).catch(this.#onHandlerError);
    }
    return undefined;
  }
}
