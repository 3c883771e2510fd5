// createRouter(): the routing fabric seen by a gateway process or any other Node service — the
// façade and its lifecycle (connect, ready, recover, drain, close) over the parts that do the work:
// internal/options.ts (resolved, frozen options), internal/routing-keys.ts (keys, exchanges,
// targets), internal/publisher.ts (durable writes, dispatches, dead letters),
// internal/dispatch-consumer.ts and internal/durable-consumer.ts (the two consumers, with
// internal/dead-letter.ts), internal/bindings.ts (when the broker is asked to bind) and
// internal/transport-amqp.ts, the only layer that speaks AMQP.
import { EventEmitter } from 'node:events';
import { type Logger, silentLogger, slotOf } from '@chat/protocol';
import { Registry } from 'prom-client';
import { BindingTable } from './internal/bindings.js';
import { BROADCAST_KEY } from './internal/broadcast.js';
import type { Delivery } from './internal/delivery.js';
import { DispatchConsumer, type DispatchHandler, RecentIds } from './internal/dispatch-consumer.js';
import { Drops } from './internal/drops.js';
import { DurableConsumer, type DurableHandler } from './internal/durable-consumer.js';
import type { DispatchEnvelope, DurableWrite } from './internal/envelope.js';
import { ClosedError, InvalidArgumentError, UnavailableError } from './internal/errors.js';
import { gatewayQueueIncarnation, MAX_QUEUE_ATTEMPTS } from './internal/gateway-queue.js';
import { createMetrics, type RouterMetrics } from './internal/metrics.js';
import {
  positiveInt,
  type ResolvedRouterOptions,
  type RouterOptions,
  resolveRouterOptions,
} from './internal/options.js';
import { type DispatchOptions, Publisher } from './internal/publisher.js';
import { type DispatchTarget, RoutingKeys } from './internal/routing-keys.js';
import { resolveTls } from './internal/tls.js';
import { gatewayQueueName, type TopologyNames, topologyNames } from './internal/topology.js';
import { AmqpTransport, type Consumer, type Session } from './internal/transport-amqp.js';

export interface RouterStats {
  ready: boolean;
  references: number;
  boundKeys: number;
  desiredKeys: number;
}

/**
 * Emitted (`dispatch-gap`) after `ready` when dispatches for this gateway may have been lost while it
 * was disconnected: its queue had to move to a fresh incarnation (`queue-moved`: the node holding
 * `previous` was down, or it had other arguments), it no longer existed and was declared anew
 * (`queue-recreated`: it expired during a long outage), or it held `gatewayQueueMaxLength` messages
 * (`queue-overflowed`: its oldest copies were dropped). Bindings and the consumer are already restored
 * on `queue`.
 */
export interface DispatchGap {
  queue: string;
  previous: string;
  reason: 'queue-moved' | 'queue-recreated' | 'queue-overflowed';
}

interface ConsumerSpec {
  /** Read at every (re)start: a gateway's queue may change incarnation on a reconnect. */
  queue: () => string;
  prefetch: number;
  onDelivery: (delivery: Delivery) => void;
}

/**
 * Creates a router and starts connecting. `await router.ready()` before relying on routing.
 * Events: `ready` (connected, topology declared, every binding and consumer restored),
 * `disconnect` (Error), `reconnecting` ({attempt, delay, url}), and for a gateway `dispatch-gap`
 * (DispatchGap) right after a `ready` that follows a possible loss of dispatches.
 */
export function createRouter(options: RouterOptions = {}): Router {
  return new Router(options);
}

export class Router extends EventEmitter {
  readonly options: ResolvedRouterOptions;
  readonly registry: Registry;
  readonly names: TopologyNames;
  /** `<prefix>.gw.<serverId>` (the first incarnation), when this router serves a gateway. */
  readonly #queueBase: string | undefined;
  /** The gateway queue's incarnation in use; only grows (gateway-queue.ts). */
  #incarnation = 0;
  /** A loss of dispatches found by a setup, announced at the next `ready`. */
  #gap: DispatchGap | null = null;
  readonly #logger: Logger;
  readonly #metrics: RouterMetrics;
  readonly #transport: AmqpTransport;
  readonly #bindings: BindingTable;
  readonly #keys: RoutingKeys;
  readonly #drops: Drops;
  readonly #consumers: ConsumerSpec[] = [];
  /** Consumers running on the current connection. */
  #running: Consumer[] = [];
  /** Dispatch ids seen lately: the per-partition copies of one dispatch reach the handler once. */
  readonly #recentDispatches = new RecentIds(16_384);
  readonly #publisher: Publisher;
  #ready = false;
  #closed = false;
  #connectedOnce = false;
  #readyWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  constructor(options: RouterOptions = {}) {
    super();
    this.options = resolveRouterOptions(options);
    const o = this.options;
    this.#logger = options.logger ?? silentLogger;
    this.registry = options.registry ?? new Registry();
    this.#metrics = createMetrics(this.registry, o.metricsPrefix);
    this.names = topologyNames(o.prefix, o.partitions);
    this.#queueBase = o.serverId === undefined ? undefined : gatewayQueueName(o.prefix, o.serverId);
    this.#keys = new RoutingKeys(o, this.names);
    this.#drops = new Drops(this.#metrics, this.#logger);
    this.#publisher = new Publisher({
      options: o,
      names: this.names,
      keys: this.#keys,
      metrics: this.#metrics,
      isReady: () => this.#ready,
      session: (waitMs) => this.#session(waitMs),
    });
    this.#metrics.ready.set(0);
    this.#bindings = new BindingTable({
      lanes: o.bindingLanes,
      lingerMs: o.lingerMs,
      massReleaseHoldMs: o.massReleaseHoldMs,
      onHold: (keys, holdMs) => {
        this.#metrics.bindingHolds.inc();
        this.#logger.info({ keys, holdMs }, 'mass disconnect: keeping released routing keys bound');
      },
      onOperation: (op, outcome, err) => {
        this.#metrics.bindingOps.inc({ op, outcome });
        if (err) this.#logger.warn({ err: (err as Error).message, op }, 'binding operation failed; will retry');
      },
      onChange: () => {
        this.#metrics.bindings.set(this.#bindings.boundKeys);
        this.#metrics.attachments.set(this.#bindings.references);
      },
    });
    this.#transport = new AmqpTransport({
      urls: o.urls,
      connectionName: o.connectionName,
      heartbeatSeconds: o.heartbeatSeconds,
      connectTimeoutMs: o.connectTimeoutMs,
      reconnectInitialDelayMs: o.reconnectInitialDelayMs,
      reconnectMaxDelayMs: o.reconnectMaxDelayMs,
      lanes: o.bindingLanes,
      tls: resolveTls(o.urls, options.tls),
      logger: this.#logger,
      setup: (session) => this.#setup(session),
    });
    this.#transport.on('ready', () => this.#onReady());
    this.#transport.on('disconnect', (err: Error) => this.#onDisconnect(err));
    this.#transport.on('reconnect-scheduled', (info) => this.emit('reconnecting', info));
    this.#transport.start().catch((err: unknown) => this.#logger.error({ err }, 'router failed to start'));
  }

  /**
   * The queue this gateway consumes: `<prefix>.gw.<serverId>`, or `<prefix>.gw.<serverId>.<n>` after
   * the node holding the previous one was lost (then `dispatch-gap` was emitted). Undefined without serverId.
   */
  get gatewayQueue(): string | undefined {
    return this.#queueBase === undefined ? undefined : gatewayQueueIncarnation(this.#queueBase, this.#incarnation);
  }

  /** True while connected with topology, bindings and consumers restored. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** Resolves when the router is ready (now, or after the current reconnect). */
  ready(timeoutMs?: number): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('router closed'));
    if (this.#ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#readyWaiters.push(waiter);
      if (timeoutMs !== undefined) {
        const timer = setTimeout(() => {
          this.#readyWaiters = this.#readyWaiters.filter((w) => w !== waiter);
          reject(new UnavailableError(`router not ready within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        const settle = waiter.resolve;
        waiter.resolve = () => {
          clearTimeout(timer);
          settle();
        };
      }
    });
  }

  /** The slot of a user (docs/protocol.md §1). */
  slotOf(userId: string): number {
    return slotOf(userId, this.options.slots);
  }

  /** The routing key this router binds for a user: `s.<slot>` or `u.<userId>`. */
  keyOf(userId: string): string {
    return this.#keys.keyOf(userId);
  }

  /** The route exchange that carries a user's key. */
  exchangeOf(userId: string): string {
    return this.#keys.exchangeOfKey(this.#keys.keyOf(userId));
  }

  stats(): RouterStats {
    return {
      ready: this.#ready,
      references: this.#bindings.references,
      boundKeys: this.#bindings.boundKeys,
      desiredKeys: this.#bindings.desiredKeys.length,
    };
  }

  /**
   * Adds a reference to the user's key on this gateway's queue. Resolves once the key is bound, so
   * anything dispatched to the user after that reaches this queue (attach first, then read history:
   * that order makes RESUME gapless). Two attachments of one key cost one binding; the binding is
   * restored after every reconnect. During an outage the promise waits for the reconnect.
   */
  attach(userId: string): Promise<void> {
    this.#requireGateway('attach');
    return this.#bindings.acquire(this.#keys.checkedKey(userId));
  }

  /**
   * Date.now() when this gateway's last bind or unbind succeeded (0: none yet). An attach waiting while
   * this keeps moving waits its turn behind other binding work; one waiting while it stands still waits
   * for the broker (an outage, a stalled node).
   */
  bindingProgressAt(): number {
    return this.#bindings.lastDoneAt;
  }

  /**
   * Drops a reference taken by attach(); the last one unbinds the key after `lingerMs`, or after the hold when a
   * mass release started one (`massReleaseHoldMs`). Never throws for unknown users.
   */
  detach(userId: string): void {
    this.#requireGateway('detach');
    this.#bindings.release(this.#keys.checkedKey(userId));
  }

  /** Resolves when every pending bind/unbind has been applied (or rejects if the connection drops). */
  bindingsSettled(): Promise<void> {
    return this.#bindings.settled();
  }

  /**
   * Consumes this gateway's queue. Delivery is at-most-once per gateway queue in practice: envelopes
   * are acked after the handler returns (or its promise settles), a handler that throws is counted and
   * logged and its envelope dropped; after a connection loss unacked envelopes may come again, so
   * handlers dedupe by id. A dispatch that reached this queue through several partitions (one copy
   * per partition) is handed over once: copies with a dispatch id seen among the last 16,384 are
   * dropped. Handlers are called in queue order, one call per envelope; malformed
   * envelopes (bad JSON, unknown type/event, no audience) are counted, logged once per reason and
   * dropped without reaching the handler. A `dispatch.bundle` is handed over record by record, in
   * its order, skipping records for keys this gateway does not hold and ids seen lately; it is acked
   * once every record's handler has settled. Acks go out coalesced (`basic.ack multiple`) at the end of
   * the event-loop turn. The consumer is restored after every reconnect.
   * Across a reconnect the queue keeps what was routed to it meanwhile, except when its node was lost
   * (its non-persistent backlog and what was routed while it was away are gone) or it expired: then the
   * router moves to a fresh queue on a live node within the reconnect (never waiting for the lost
   * node), rebinds every key it holds, consumes it, and emits `dispatch-gap` after `ready`; whoever
   * relies on every dispatch (a gateway's sockets) must catch up from the store (RESUME).
   * The queue is bounded (`gatewayQueueMaxLength`, `gatewayQueueMaxBytes`, `drop-head`): past either
   * bound its oldest envelopes are dropped unseen, whether or not this router is connected. A reconnect
   * that finds the queue holding `gatewayQueueMaxLength` messages emits `dispatch-gap`
   * (`queue-overflowed`); a drop while connected (a consumer too slow for that long), or past the bytes
   * bound, is not detected.
   */
  async consume(handler: DispatchHandler): Promise<void> {
    this.#requireGateway('consume');
    const consumer = new DispatchConsumer({
      handler,
      isBound: (key) => this.#bindings.refCount(key) > 0,
      recent: this.#recentDispatches,
      drops: this.#drops,
      metrics: this.#metrics,
    });
    await this.#addConsumer({
      queue: () => this.gatewayQueue!,
      prefetch: this.options.prefetch,
      onDelivery: (delivery) => consumer.onDelivery(delivery),
    });
  }

  /**
   * Consumes the persist queue (for persisters). At-least-once: a delivery not acked before a
   * connection loss, or requeued, comes again (with a higher `deliveryCount`) until
   * `persistDeliveryLimit`, then the broker dead-letters it. Not ordered across consumers.
   * Envelopes that are not valid JSON or not a durable write are dead-lettered with the reason
   * and never reach the handler. Each record of a `write.bundle` is a delivery of its own; the broker
   * message is acked once all are acked or dead-lettered, and requeued as a whole (acked records
   * included: they come again) once all are settled and any was requeued.
   * `writers`: the AMQP users whose writes are accepted (the `user_id` the broker checked at publish);
   * a write from anyone else, or without `user_id`, is dead-lettered as `writer_not_allowed` with the
   * header `x-chat-writer` naming who sent it, and never reaches the handler. Default: every writer.
   */
  async consumeDurable(
    handler: DurableHandler,
    options: { prefetch?: number; writers?: Iterable<string> } = {},
  ): Promise<void> {
    const prefetch = positiveInt('prefetch', options.prefetch ?? 2000);
    const writers = options.writers === undefined ? undefined : new Set(options.writers);
    if (writers !== undefined && writers.size === 0)
      throw new InvalidArgumentError('writers must name at least one AMQP user');
    const consumer = new DurableConsumer({
      handler,
      writers,
      publishDead: (letter) => this.#publisher.deadLetter(letter),
      drops: this.#drops,
      metrics: this.#metrics,
      logger: this.#logger,
    });
    await this.#addConsumer({
      queue: () => this.names.persistQueue,
      prefetch,
      onDelivery: (delivery) => consumer.onDelivery(delivery),
    });
  }

  /**
   * Durable write: publishes to `<prefix>.persist` (persistent, publisher confirms). Resolves only
   * when the broker confirmed it, i.e. a quorum of the queue's replicas has it. Writes issued in the
   * same event-loop turn travel as one broker message (`coalesceWrites`), and while `writesInFlight`
   * such messages await their confirm, later writes wait and travel together with the next; each
   * message is confirmed as a whole. At-least-once: on
   * `ConfirmTimeoutError` or `ConnectionLostError` it may or may not be stored, so retry with the
   * same envelope (same `id`): the persister stores by id, so a repeat is harmless. During an outage
   * it waits up to `outageWaitMs` for the reconnect, then rejects with `UnavailableError` (retryable).
   * `QueueFullError` means the persist queue is at its max length and refused it (not stored;
   * overload: retry later with backoff). Writes from one caller are confirmed in publish order
   * but the persister does not promise order across writes. Each write carries the AMQP `user_id` of
   * this router's account (`stampUserId`), which persisters with a `writers` list check.
   */
  durableWrite(envelope: DurableWrite): Promise<void> {
    return this.#publisher.durableWrite(envelope);
  }

  /**
   * Dispatch: delivers an envelope to every gateway queue bound to one of the target keys, once per
   * queue. Slot granularity: one publish to the front exchange, the extra keys in `CC`. User
   * granularity: one publish per partition touched; a queue bound in several partitions gets one copy
   * per partition, which its consumer collapses to one by the shared dispatch id. Above
   * `broadcastAboveKeys` keys it is one publish to every gateway queue (a one-record bundle naming
   * the keys) and only the gateways bound to one of them hand it over. At-most-once
   * (ephemeral): not persisted by the broker; with `confirm: true` it resolves once the broker has
   * routed it. Ordered from one publisher. Resolves with the number of publishes issued (0 when the
   * target is empty).
   */
  dispatch(envelope: DispatchEnvelope, target: DispatchTarget, options: DispatchOptions = {}): Promise<number> {
    return this.#publisher.dispatch(envelope, target, options);
  }

  /**
   * Many dispatches at once, as few broker messages as possible: each call publishes bundles
   * (`dispatch.bundle`, up to 256 records or 256 KiB each) routed to the union of their targets'
   * keys (or, above `broadcastAboveKeys` keys, to every gateway queue). A gateway queue receives each
   * bundle once and its router's consumer hands over only the
   * records addressed to keys it binds, once per dispatch id, in bundle order. Same guarantees as
   * dispatch(): at-most-once, with `confirm: true` resolved once the broker routed every bundle;
   * rejects with `InvalidEnvelopeError` (nothing published) if any envelope is invalid. Records
   * with an empty target are skipped. Resolves with the number of broker messages published.
   */
  dispatchMany(
    items: ReadonlyArray<{ envelope: DispatchEnvelope; target: DispatchTarget; id?: string }>,
    options: Omit<DispatchOptions, 'id'> = {},
  ): Promise<number> {
    return this.#publisher.dispatchMany(items, options);
  }

  /**
   * Stops every consumer of this router (no new deliveries; they are not restarted after a reconnect)
   * and keeps the channels open until close(). Settle what you took BEFORE calling it: on RabbitMQ
   * 3.10 quorum queues, messages acked after basic.cancel go back to the queue. So a graceful
   * shutdown is: stop taking new work, finish and ack in-flight work, stopConsuming(), close().
   */
  async stopConsuming(): Promise<void> {
    this.#consumers.length = 0;
    // Acks given so far go out before the cancel (see above).
    // The channels stay in #running: close() closes them, which flushes the acks still to come.
    await Promise.all(this.#running.map((consumer) => consumer.cancel()));
  }

  /** Messages ready in `<prefix>.persist` (the durable path's lag), as the broker reports it now. */
  async persistQueueDepth(): Promise<number> {
    const session = await this.#session(this.options.outageWaitMs);
    return session.messageCount(this.names.persistQueue);
  }

  /**
   * Graceful end of a gateway: stops consuming, unbinds every key, then deletes the gateway queue
   * (unbinding first avoids RabbitMQ #12926, where deleting a queue with thousands of bindings can
   * stall confirms), then closes. Envelopes still in the queue are dropped with it.
   */
  async drain(): Promise<void> {
    if (this.#closed) return;
    if (this.gatewayQueue !== undefined && this.#ready) {
      const session = this.#transport.session;
      this.#consumers.length = 0;
      this.#bindings.releaseAll();
      try {
        // Stop consuming first so that deleting the queue is not mistaken for a broker-side cancel.
        if (session) await Promise.all(this.#running.splice(0).map((consumer) => consumer.close()));
        await this.#bindings.settled();
        if (session && !session.closed) await session.deleteQueue(this.gatewayQueue);
      } catch (err) {
        this.#logger.warn({ err: (err as Error).message }, 'drain could not unbind or delete the gateway queue');
      }
    }
    await this.close();
  }

  /**
   * Closes the connection, after the consumer channels (so acks already given reach the broker).
   * Pending attaches and ready() waits reject with `ClosedError`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#setReady(false);
    this.#bindings.close();
    for (const w of this.#readyWaiters.splice(0)) w.reject(new ClosedError('router closed'));
    // Close consumer channels one by one first: a channel's close-ok comes after the broker has
    // processed every ack sent on it, whereas closing the connection may drop acks still buffered.
    const session = this.#transport.session;
    if (session && !session.closed) {
      await Promise.all(this.#running.splice(0).map((consumer) => consumer.close()));
    }
    await this.#transport.close();
  }

  // --- internals ---------------------------------------------------------------------------

  async #setup(session: Session): Promise<void> {
    const o = this.options;
    this.#running = [];
    await session.ensureTopology(o, o.declareTopology);
    if (this.#queueBase !== undefined) {
      const queue = await this.#claimQueue(session);
      // Dispatches to many keys may come to every gateway queue through this key (broadcast.ts).
      await session.bind(queue, this.names.frontExchange, BROADCAST_KEY, 0);
      await this.#bindings.reconcile({
        // Slot keys are bound on the front exchange too (what dispatches use); both or neither.
        bind: async (key, lane) => {
          await session.bind(queue, this.#keys.exchangeOfKey(key), key, lane);
          if (key.startsWith('s.')) await session.bind(queue, this.names.frontExchange, key, lane);
        },
        unbind: async (key, lane) => {
          if (key.startsWith('s.')) await session.unbind(queue, this.names.frontExchange, key, lane);
          await session.unbind(queue, this.#keys.exchangeOfKey(key), key, lane);
        },
      });
    }
    for (const spec of this.#consumers) await this.#startConsumer(session, spec);
  }

  /**
   * Declares the gateway queue in use, or moves to the next incarnation while the node holding it is
   * down or it exists with other arguments (at most MAX_QUEUE_ATTEMPTS per connection, then the
   * connection is recycled). Records a gap when, after the first connection, the queue moved, had to be
   * created again, or holds `gatewayQueueMaxLength` messages (it overflowed: its oldest were dropped).
   */
  async #claimQueue(session: Session): Promise<string> {
    const previous = this.gatewayQueue!;
    const spec = {
      expiresMs: this.options.gatewayQueueExpiresMs,
      maxLength: this.options.gatewayQueueMaxLength,
      maxBytes: this.options.gatewayQueueMaxBytes,
    };
    for (let attempt = 0; attempt < MAX_QUEUE_ATTEMPTS; attempt++) {
      const queue = this.gatewayQueue!;
      const claim = await session.claimGatewayQueue(queue, spec);
      if (claim.state === 'existed' || claim.state === 'created') {
        const moved = queue !== previous || this.#gap !== null;
        const overflowed = claim.state === 'existed' && spec.maxLength > 0 && claim.messages >= spec.maxLength;
        if (this.#connectedOnce && (moved || claim.state === 'created' || overflowed)) {
          this.#gap = {
            queue,
            previous: this.#gap?.previous ?? previous,
            reason: moved ? 'queue-moved' : claim.state === 'created' ? 'queue-recreated' : 'queue-overflowed',
          };
        }
        return queue;
      }
      this.#incarnation += 1;
      this.#logger.warn(
        { queue, next: this.gatewayQueue },
        claim.state === 'home-node-down'
          ? 'gateway queue unavailable (its node is down); moving to a fresh queue'
          : 'gateway queue exists with other arguments (declared by another version); moving to a fresh queue',
      );
    }
    throw new UnavailableError(`no gateway queue could be declared in ${MAX_QUEUE_ATTEMPTS} attempts`);
  }

  #onReady(): void {
    if (this.#closed) return;
    if (this.#connectedOnce) this.#metrics.reconnects.inc();
    this.#connectedOnce = true;
    this.#setReady(true);
    this.#logger.info({ url: this.#transport.currentUrl.replace(/\/\/[^@]*@/, '//') }, 'router ready');
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
    this.emit('ready');
    const gap = this.#gap;
    this.#gap = null;
    if (gap) {
      this.#logger.warn({ ...gap }, 'dispatches may have been lost while the gateway queue was away');
      this.emit('dispatch-gap', gap);
    }
  }

  #onDisconnect(err: Error): void {
    this.#setReady(false);
    this.#bindings.detachExecutor();
    this.#logger.warn({ err: err.message }, 'router disconnected; reconnecting');
    this.emit('disconnect', err);
  }

  #setReady(ready: boolean): void {
    this.#ready = ready;
    this.#metrics.ready.set(ready ? 1 : 0);
  }

  async #session(waitMs: number): Promise<Session> {
    if (this.#closed) throw new ClosedError('router closed');
    if (!this.#ready) await this.ready(waitMs);
    const session = this.#transport.session;
    if (!session || session.closed) throw new UnavailableError('no broker connection');
    return session;
  }

  async #addConsumer(spec: ConsumerSpec): Promise<void> {
    if (this.#closed) throw new ClosedError('router closed');
    this.#consumers.push(spec);
    const session = this.#transport.session;
    // Not ready: the next setup starts it along with the others.
    if (this.#ready && session && !session.closed) await this.#startConsumer(session, spec);
  }

  async #startConsumer(session: Session, spec: ConsumerSpec): Promise<void> {
    const queue = spec.queue();
    const counted = { queue: queue === this.names.persistQueue ? 'persist' : 'gateway' };
    const consumer = await session.consume(queue, spec.prefetch, (delivery) => {
      this.#metrics.consumedMessages.inc(counted);
      spec.onDelivery(delivery);
    });
    this.#running.push(consumer);
  }

  #requireGateway(op: string): void {
    if (this.gatewayQueue === undefined) throw new InvalidArgumentError(`${op}() needs the serverId option`);
    if (this.#closed) throw new ClosedError('router closed');
  }
}
