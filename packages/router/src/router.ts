// createRouter(): the routing fabric seen by a gateway process or any other Node service.
// Hashing and topology decide where things go; the binding table decides when the broker is
// asked to bind; the transport is the only layer that talks AMQP.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Logger, partitionOf, silentLogger, slotOf } from '@chat/protocol';
import { Registry } from 'prom-client';
import { AckBatcher } from './internal/ack-batcher.js';
import { BindingTable } from './internal/bindings.js';
import { BUNDLE_TYPE, bundlesOf, decodeBundle, encodeRecord } from './internal/dispatch-bundle.js';
import {
  type DispatchEnvelope,
  type DurableWrite,
  dispatchProblem,
  durableWriteProblem,
  PROTOCOL_VERSION,
} from './internal/envelope.js';
import {
  ClosedError,
  InvalidArgumentError,
  InvalidEnvelopeError,
  NackError,
  QueueFullError,
  UnavailableError,
} from './internal/errors.js';
import { createMetrics, type RouterMetrics } from './internal/metrics.js';
import { type RouterTlsOptions, resolveTls } from './internal/tls.js';
import {
  checkTopology,
  declareGatewayQueue,
  declareTopology,
  gatewayQueueName,
  type TopologyNames,
  topologyNames,
} from './internal/topology.js';
import { AmqpTransport, type Channel, type ConsumeMessage, type Session } from './internal/transport-amqp.js';
import {
  BundleSettlement,
  type PendingWrite,
  WRITE_BUNDLE_TYPE,
  WriteCoalescer,
  writeBundleLines,
} from './internal/write-bundle.js';
import { sharedAmqpUser, writerProblem } from './internal/writer-identity.js';

export type Granularity = 'slot' | 'user';

export interface RouterOptions {
  /** Broker URL, or one URL per cluster node (tried in turn on reconnect). Default `amqp://guest:guest@127.0.0.1:5672`. */
  url?: string | readonly string[];
  /**
   * This gateway process's id (`[A-Za-z0-9_-]{1,64}`). Required for attach/detach/consume, which
   * use the queue `<prefix>.gw.<serverId>`. Omit it in services that only publish.
   */
  serverId?: string;
  /** Name prefix of every exchange and queue. Default `chat`. */
  prefix?: string;
  /** P, the number of route exchanges. Default 16. */
  partitions?: number;
  /** S, the number of slots; a multiple of P. Default 1024. */
  slots?: number;
  /** Bind per slot (`s.<slot>`, default) or per user (`u.<userId>`, the seed's design). */
  granularity?: Granularity;
  /** `x-expires` of the gateway queue: how long it outlives its last consumer. Default 60,000 ms. */
  gatewayQueueExpiresMs?: number;
  /** `x-delivery-limit` of the persist queue before a message is dead-lettered. Default 10. */
  persistDeliveryLimit?: number;
  /** `x-max-length` of the persist queue: past it durable writes fail with `QueueFullError`. Default 100,000; 0 = none. */
  persistMaxLength?: number;
  /** Keep a key bound this long after its last detach. Default 0 (unbind at once). */
  lingerMs?: number;
  /** Channels used for bind/unbind (one RPC in flight per channel). Default 4. */
  bindingLanes?: number;
  /** Unacked deliveries per consumer of the gateway queue. Default 256. */
  prefetch?: number;
  /** How long a confirmed publish waits for the broker's ack. Default 10,000 ms. */
  confirmTimeoutMs?: number;
  /**
   * Durable writes issued in one event-loop turn share one broker message (a write bundle, up to 64
   * writes). Default true. Consumers need a router that reads bundles (this version or later): during a
   * rolling upgrade, upgrade the persisters first or set false until they are.
   */
  coalesceWrites?: boolean;
  /**
   * Group commit of coalesced writes: at most this many write messages wait for their confirm at once;
   * writes issued meanwhile wait and leave together when one is confirmed (a full bundle of 64 goes at
   * once). Fewer, fuller quorum-queue messages cost the broker far less per write; the price is up to
   * one confirm round trip of extra latency for a write that arrives while the limit is reached.
   * Default 1; 0 = no limit (one message per event-loop turn).
   */
  writesInFlight?: number;
  /**
   * Stamp durable writes with the AMQP `user_id` property (the broker account of the connection, which
   * RabbitMQ checks), so persisters can accept writes only from allowed accounts. Default true; set
   * false only when the broker authenticates some other way than the URL's user (e.g. EXTERNAL/TLS).
   */
  stampUserId?: boolean;
  /**
   * Declare the shared topology (route, front and dead-letter exchanges, the persist queues) at every
   * connect. Default true. False: only check that it exists (passive declares), for broker accounts
   * without `configure` permission on it — least-privilege deployments import it from definitions.
   * A gateway router still declares its own queue.
   */
  declareTopology?: boolean;
  /** How long a publish waits for a connection during an outage before `UnavailableError`. Default 5,000 ms. */
  outageWaitMs?: number;
  /**
   * TLS for amqps:// URLs (every URL must then be amqps://): `ca`, `cert` + `key`, `passphrase`,
   * `servername`, passed to Node's `tls.connect` on every connect. Default: none (Node's CAs, the URL's host).
   */
  tls?: RouterTlsOptions;
  /** AMQP heartbeat. Default 10 s. */
  heartbeatSeconds?: number;
  /** TCP connect timeout. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** First reconnect delay, doubled per attempt with jitter. Default 100 ms. */
  reconnectInitialDelayMs?: number;
  /** Cap of the reconnect delay. Default 5,000 ms. */
  reconnectMaxDelayMs?: number;
  /** `connection_name` shown by the broker. Default `<prefix>:<serverId or "router">:<pid>`. */
  connectionName?: string;
  /** Where metrics are registered. Default: a registry of the router's own (`router.registry`). */
  registry?: Registry;
  /** Metric name prefix. Default `chat_router_`. */
  metricsPrefix?: string;
  /** pino-compatible logger. Default: silent. */
  logger?: Logger;
}

export interface ResolvedRouterOptions {
  readonly urls: readonly string[];
  readonly serverId: string | undefined;
  readonly prefix: string;
  readonly partitions: number;
  readonly slots: number;
  readonly granularity: Granularity;
  readonly gatewayQueueExpiresMs: number;
  readonly persistDeliveryLimit: number;
  readonly persistMaxLength: number;
  readonly lingerMs: number;
  readonly bindingLanes: number;
  readonly prefetch: number;
  readonly confirmTimeoutMs: number;
  readonly coalesceWrites: boolean;
  readonly writesInFlight: number;
  /** The AMQP user of the broker URLs, stamped as `user_id` on durable writes; undefined when `stampUserId` is false. */
  readonly amqpUser: string | undefined;
  readonly declareTopology: boolean;
  readonly outageWaitMs: number;
  readonly heartbeatSeconds: number;
  readonly connectTimeoutMs: number;
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly connectionName: string;
  /** Whether the TLS options (not shown here: they hold key material) are in use. */
  readonly tls: boolean;
  readonly metricsPrefix: string;
}

/** Who receives a dispatch: users (routed by their slot or user key) and/or whole slots. */
export interface DispatchTarget {
  users?: Iterable<string>;
  /** Slot numbers; slot granularity only. */
  slots?: Iterable<number>;
}

export interface DispatchOptions {
  /** Wait for the broker's confirm (the dispatch reached the exchanges). Default false. */
  confirm?: boolean;
  /** Wait this long for a connection during an outage. Default `outageWaitMs`. */
  waitMs?: number;
  /**
   * The dispatch's id (AMQP `message_id`), shared by its per-partition publishes so that consumers
   * keep one copy. Give the event id when there is one (a re-dispatch of the same event is then
   * recognised too); default: a fresh random id.
   */
  id?: string;
}

export interface DeliveryInfo {
  /** `message_id` property: the dispatch id (the event id when the publisher gave one). */
  messageId: string | undefined;
  redelivered: boolean;
}

export type DispatchHandler = (envelope: DispatchEnvelope, info: DeliveryInfo) => void | Promise<void>;

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

export interface RouterStats {
  ready: boolean;
  references: number;
  boundKeys: number;
  desiredKeys: number;
}

interface ConsumerSpec {
  queue: string;
  prefetch: number;
  onMessage: (msg: ConsumeMessage, acks: AckBatcher) => void;
}

const SERVER_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const DEAD_REASON_HEADER = 'x-chat-dead-reason';
/** On a dead-lettered write: the AMQP user that published it (its `user_id`). */
const WRITER_HEADER = 'x-chat-writer';

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

/** Validates options once and freezes them. */
export function resolveRouterOptions(options: RouterOptions = {}): ResolvedRouterOptions {
  const urls = Array.isArray(options.url)
    ? [...options.url]
    : [(options.url as string | undefined) ?? 'amqp://guest:guest@127.0.0.1:5672'];
  if (urls.length === 0) throw new InvalidArgumentError('url must name at least one broker');
  for (const u of urls) {
    if (!/^amqps?:\/\//.test(u)) throw new InvalidArgumentError(`url must start with amqp:// or amqps://`);
  }
  const prefix = options.prefix ?? 'chat';
  if (!PREFIX_RE.test(prefix)) throw new InvalidArgumentError(`prefix must be dot-separated [A-Za-z0-9_-] words`);
  if (options.serverId !== undefined && !SERVER_ID_RE.test(options.serverId)) {
    throw new InvalidArgumentError('serverId must match [A-Za-z0-9_-]{1,64}');
  }
  const partitions = positiveInt('partitions', options.partitions ?? 16);
  const slots = positiveInt('slots', options.slots ?? 1024);
  if (slots % partitions !== 0) throw new InvalidArgumentError('slots must be a multiple of partitions');
  const granularity = options.granularity ?? 'slot';
  if (granularity !== 'slot' && granularity !== 'user') {
    throw new InvalidArgumentError(`granularity must be 'slot' or 'user'`);
  }
  return Object.freeze({
    urls: Object.freeze(urls),
    serverId: options.serverId,
    prefix,
    partitions,
    slots,
    granularity,
    gatewayQueueExpiresMs: positiveInt('gatewayQueueExpiresMs', options.gatewayQueueExpiresMs ?? 60_000),
    persistDeliveryLimit: positiveInt('persistDeliveryLimit', options.persistDeliveryLimit ?? 10),
    persistMaxLength: positiveInt('persistMaxLength', options.persistMaxLength ?? 100_000, 0),
    lingerMs: positiveInt('lingerMs', options.lingerMs ?? 0, 0),
    bindingLanes: positiveInt('bindingLanes', options.bindingLanes ?? 4),
    prefetch: positiveInt('prefetch', options.prefetch ?? 256),
    confirmTimeoutMs: positiveInt('confirmTimeoutMs', options.confirmTimeoutMs ?? 10_000),
    coalesceWrites: options.coalesceWrites ?? true,
    writesInFlight: positiveInt('writesInFlight', options.writesInFlight ?? 1, 0),
    amqpUser: options.stampUserId === false ? undefined : sharedAmqpUser(urls),
    declareTopology: options.declareTopology ?? true,
    outageWaitMs: positiveInt('outageWaitMs', options.outageWaitMs ?? 5_000, 0),
    heartbeatSeconds: positiveInt('heartbeatSeconds', options.heartbeatSeconds ?? 10, 0),
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? 5_000),
    reconnectInitialDelayMs: positiveInt('reconnectInitialDelayMs', options.reconnectInitialDelayMs ?? 100),
    reconnectMaxDelayMs: positiveInt('reconnectMaxDelayMs', options.reconnectMaxDelayMs ?? 5_000),
    connectionName: options.connectionName ?? `${prefix}:${options.serverId ?? 'router'}:${process.pid}`,
    tls: resolveTls(urls, options.tls) !== undefined,
    metricsPrefix: options.metricsPrefix ?? 'chat_router_',
  });
}

/**
 * Creates a router and starts connecting. `await router.ready()` before relying on routing.
 * Events: `ready` (connected, topology declared, every binding and consumer restored),
 * `disconnect` (Error), `reconnecting` ({attempt, delay, url}).
 */
export function createRouter(options: RouterOptions = {}): Router {
  return new Router(options);
}

export class Router extends EventEmitter {
  readonly options: ResolvedRouterOptions;
  readonly registry: Registry;
  readonly names: TopologyNames;
  /** `<prefix>.gw.<serverId>`, when this router serves a gateway. */
  readonly gatewayQueue: string | undefined;
  readonly #logger: Logger;
  readonly #metrics: RouterMetrics;
  readonly #transport: AmqpTransport;
  readonly #bindings: BindingTable;
  readonly #consumers: ConsumerSpec[] = [];
  /** Consumers running on the current connection: their channel and consumer tag. */
  #running: Array<{ ch: Channel; tag: string; acks: AckBatcher }> = [];
  readonly #warnedDrops = new Set<string>();
  /** Dispatch ids seen lately: the per-partition copies of one dispatch reach the handler once. */
  readonly #recentDispatches = new RecentIds(16_384);
  readonly #writes: WriteCoalescer;
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
    this.gatewayQueue = o.serverId === undefined ? undefined : gatewayQueueName(o.prefix, o.serverId);
    this.#metrics.ready.set(0);
    this.#writes = new WriteCoalescer((group) => this.#publishWrites(group), o.writesInFlight);
    this.#bindings = new BindingTable({
      lanes: o.bindingLanes,
      lingerMs: o.lingerMs,
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
    return this.options.granularity === 'slot' ? `s.${this.slotOf(userId)}` : `u.${userId}`;
  }

  /** The route exchange that carries a user's key. */
  exchangeOf(userId: string): string {
    return this.names.routeExchanges[partitionOf(this.slotOf(userId), this.options.partitions)]!;
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
    return this.#bindings.acquire(this.#checkedKey(userId));
  }

  /** Drops a reference taken by attach(); the last one unbinds the key (after `lingerMs`). Never throws for unknown users. */
  detach(userId: string): void {
    this.#requireGateway('detach');
    this.#bindings.release(this.#checkedKey(userId));
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
   */
  async consume(handler: DispatchHandler): Promise<void> {
    this.#requireGateway('consume');
    const queue = this.gatewayQueue!;
    await this.#addConsumer({
      queue,
      prefetch: this.options.prefetch,
      onMessage: (msg, acks) => {
        const settle = () => acks.ack(msg);
        if (msg.properties.type === BUNDLE_TYPE) return this.#consumeBundle(msg, handler, settle);
        const envelope = this.#parse(msg.content.toString('utf8'), dispatchProblem);
        if (envelope === undefined) return settle();
        const messageId = msg.properties.messageId as string | undefined;
        // A queue bound in k partitions gets one copy per partition of a dispatch; keep the first.
        if (messageId !== undefined && !this.#recentDispatches.add(messageId)) {
          this.#metrics.duplicates.inc();
          return settle();
        }
        const handled = this.#handOver(handler, envelope as DispatchEnvelope, {
          messageId,
          redelivered: msg.fields.redelivered,
        });
        if (handled) void handled.then(settle);
        else settle();
      },
    });
  }

  /**
   * Calls a dispatch handler: returns the promise of an async handler (never rejecting), or
   * undefined when it finished synchronously. A throw or rejection is counted and logged as dropped.
   */
  #handOver(handler: DispatchHandler, envelope: DispatchEnvelope, info: DeliveryInfo): Promise<void> | undefined {
    this.#metrics.deliveries.inc({ queue: 'gateway' });
    let result: void | Promise<void>;
    try {
      result = handler(envelope, info);
    } catch (err) {
      this.#drop('handler_error', err);
      return undefined;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).catch((err: unknown) => this.#drop('handler_error', err));
    }
    return undefined;
  }

  /** Hands a bundle's records for keys this gateway binds to the handler, in order; acks it after the last. */
  #consumeBundle(msg: ConsumeMessage, handler: DispatchHandler, settle: () => void): void {
    const records = decodeBundle(msg.content.toString('utf8'), (reason) => this.#drop(reason));
    const pending: Promise<void>[] = [];
    for (const record of records) {
      // Not addressed to a key of ours: the bundle reached this queue through another record's key.
      if (!record.keys.some((k) => this.#bindings.refCount(k) > 0)) {
        this.#metrics.bundleRecords.inc({ outcome: 'foreign' });
        continue;
      }
      if (!this.#recentDispatches.add(record.id)) {
        this.#metrics.duplicates.inc();
        continue;
      }
      const envelope = this.#parse(record.envelopeJson, dispatchProblem);
      if (envelope === undefined) continue;
      this.#metrics.bundleRecords.inc({ outcome: 'delivered' });
      const handled = this.#handOver(handler, envelope as DispatchEnvelope, {
        messageId: record.id,
        redelivered: msg.fields.redelivered,
      });
      if (handled) pending.push(handled);
    }
    if (pending.length === 0) settle();
    else void Promise.all(pending).then(settle);
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
    await this.#addConsumer({
      queue: this.names.persistQueue,
      prefetch,
      onMessage: (msg, acks) => {
        const refused = writerProblem(msg.properties.userId, writers);
        if (msg.properties.type === WRITE_BUNDLE_TYPE) {
          const lines = writeBundleLines(msg.content.toString('utf8'));
          const bundle = new BundleSettlement(
            lines.length,
            () => acks.ack(msg),
            () => acks.nack(msg, true),
          );
          for (const line of lines) {
            this.#deliverDurable(handler, msg, line, (requeue) => bundle.settle(requeue), refused);
          }
          return;
        }
        this.#deliverDurable(
          handler,
          msg,
          msg.content.toString('utf8'),
          (requeue) => (requeue ? acks.nack(msg, true) : acks.ack(msg)),
          refused,
        );
      },
    });
  }

  /**
   * Hands one durable write (a whole message, or one record of a write bundle) to the handler, or
   * dead-letters it when it is malformed or `refused` names why its publisher is not accepted.
   */
  #deliverDurable(
    handler: DurableHandler,
    msg: ConsumeMessage,
    json: string,
    settle: (requeue: boolean) => void,
    refused: string | undefined,
  ): void {
    let settled = false;
    const once = (requeue: boolean) => {
      if (settled) return;
      settled = true;
      settle(requeue);
    };
    const checked = this.#problemOf(json, durableWriteProblem);
    const value = checked.value;
    const reason = refused ?? checked.reason;
    const deadLetter = async (why: string) => {
      if (settled) return;
      await this.#publishDead(msg, json, value, why);
      once(false);
    };
    if (reason !== undefined) {
      this.#drop(reason);
      deadLetter(reason).catch((err: unknown) => {
        this.#logger.warn({ err: (err as Error).message }, 'dead-lettering failed; requeueing');
        once(true);
      });
      return;
    }
    this.#metrics.deliveries.inc({ queue: 'persist' });
    const delivery: DurableDelivery = {
      envelope: value as DurableWrite,
      deliveryCount: Number(msg.properties.headers?.['x-delivery-count'] ?? 0),
      redelivered: msg.fields.redelivered,
      ack: () => once(false),
      requeue: () => once(true),
      deadLetter,
    };
    try {
      const r = handler(delivery);
      if (r && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).catch((err: unknown) => {
          this.#logger.error({ err }, 'durable handler failed; requeueing');
          delivery.requeue();
        });
      }
    } catch (err) {
      this.#logger.error({ err }, 'durable handler threw; requeueing');
      delivery.requeue();
    }
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
  async durableWrite(envelope: DurableWrite): Promise<void> {
    const problem = durableWriteProblem(envelope);
    if (problem) throw new InvalidEnvelopeError(`invalid durable write: ${problem}`);
    const json = JSON.stringify(envelope);
    if (!this.#ready) await this.#session(this.options.outageWaitMs);
    return new Promise<void>((resolve, reject) => {
      const write = { json, type: envelope.type, id: envelope.id, resolve, reject };
      if (this.options.coalesceWrites) this.#writes.add(write);
      else void this.#publishWrites([write]);
    });
  }

  /** Publishes writes as one message (a write bundle when there are several); settles each on the confirm. */
  async #publishWrites(group: PendingWrite[]): Promise<void> {
    const started = performance.now();
    try {
      const session = await this.#session(this.options.outageWaitMs);
      const single = group.length === 1 ? group[0]! : undefined;
      const body = Buffer.from(single ? single.json : group.map((w) => w.json).join('\n'));
      const props = single
        ? this.#props(single.type, single.id, true)
        : this.#props(WRITE_BUNDLE_TYPE, randomUUID(), true);
      if (this.options.amqpUser !== undefined) props.userId = this.options.amqpUser;
      await session.publishConfirmed('', this.names.persistQueue, body, props, this.options.confirmTimeoutMs);
      this.#metrics.confirmSeconds.observe({ kind: 'durable' }, (performance.now() - started) / 1000);
      this.#metrics.publishes.inc({ kind: 'durable', outcome: 'ok' });
      this.#metrics.durableWrites.observe(group.length);
      for (const w of group) w.resolve();
    } catch (err) {
      // A nack on the persist queue is its `x-overflow: reject-publish` at `x-max-length`.
      const e =
        err instanceof NackError ? new QueueFullError(`${this.names.persistQueue} is full`, { cause: err }) : err;
      this.#metrics.publishes.inc({ kind: 'durable', outcome: (e as { code?: string }).code ?? 'error' });
      for (const w of group) w.reject(e);
    }
  }

  /**
   * Dispatch: delivers an envelope to every gateway queue bound to one of the target keys, once per
   * queue. Slot granularity: one publish to the front exchange, the extra keys in `CC`. User
   * granularity: one publish per partition touched; a queue bound in several partitions gets one copy
   * per partition, which its consumer collapses to one by the shared dispatch id. At-most-once
   * (ephemeral): not persisted by the broker; with `confirm: true` it resolves once the broker has
   * routed it. Ordered from one publisher. Resolves with the number of publishes issued (0 when the
   * target is empty).
   */
  async dispatch(envelope: DispatchEnvelope, target: DispatchTarget, options: DispatchOptions = {}): Promise<number> {
    const problem = dispatchProblem(envelope);
    if (problem) throw new InvalidEnvelopeError(`invalid dispatch: ${problem}`);
    const keys = this.#keysOf(target);
    if (keys.size === 0) return 0;
    const body = Buffer.from(JSON.stringify(envelope));
    return this.#publishRouted(this.#routes([...keys]), 'dispatch', body, options.id ?? randomUUID(), options);
  }

  /**
   * Many dispatches at once, as few broker messages as possible: each call publishes bundles
   * (`dispatch.bundle`, up to 256 records or 256 KiB each) routed to the union of their targets'
   * keys. A gateway queue receives each bundle once and its router's consumer hands over only the
   * records addressed to keys it binds, once per dispatch id, in bundle order. Same guarantees as
   * dispatch(): at-most-once, with `confirm: true` resolved once the broker routed every bundle;
   * rejects with `InvalidEnvelopeError` (nothing published) if any envelope is invalid. Records
   * with an empty target are skipped. Resolves with the number of broker messages published.
   */
  async dispatchMany(
    items: ReadonlyArray<{ envelope: DispatchEnvelope; target: DispatchTarget; id?: string }>,
    options: Omit<DispatchOptions, 'id'> = {},
  ): Promise<number> {
    const records: Array<{ line: string; keys: string[] }> = [];
    for (const item of items) {
      const problem = dispatchProblem(item.envelope);
      if (problem) throw new InvalidEnvelopeError(`invalid dispatch: ${problem}`);
      const keys = [...this.#keysOf(item.target)];
      if (keys.length === 0) continue;
      records.push({ line: encodeRecord(item.id ?? randomUUID(), keys, item.envelope), keys });
    }
    if (records.length === 0) return 0;
    const sends: Array<Promise<number>> = [];
    for (const bundle of bundlesOf(records)) {
      const keys = new Set<string>();
      for (const r of bundle) for (const k of r.keys) keys.add(k);
      const body = Buffer.from(bundle.map((r) => r.line).join(''));
      // In user granularity a bundle goes to each partition it touches; a queue bound in several
      // gets several copies, and its consumer keeps one per record id.
      sends.push(this.#publishRouted(this.#routes([...keys]), BUNDLE_TYPE, body, randomUUID(), options));
    }
    const counts = await Promise.all(sends);
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Where a key set is published: one front-exchange message (slot granularity) or one per partition. */
  #routes(keys: string[]): Array<{ exchange: string; keys: string[] }> {
    if (this.options.granularity === 'slot') return [{ exchange: this.names.frontExchange, keys }];
    const groups = new Map<number, string[]>();
    for (const key of keys) {
      const p = this.#partitionOfKey(key);
      const list = groups.get(p);
      if (list) list.push(key);
      else groups.set(p, [key]);
    }
    return [...groups].map(([p, k]) => ({ exchange: this.names.routeExchanges[p]!, keys: k }));
  }

  async #publishRouted(
    routes: Array<{ exchange: string; keys: string[] }>,
    type: string,
    body: Buffer,
    id: string,
    options: Omit<DispatchOptions, 'id'>,
  ): Promise<number> {
    const session = await this.#session(options.waitMs ?? this.options.outageWaitMs);
    const kind = 'dispatch';
    const started = performance.now();
    try {
      const sends: Promise<void>[] = [];
      for (const { exchange, keys } of routes) {
        const props = this.#props(type, id, false);
        if (keys.length > 1) props.CC = keys.slice(1);
        sends.push(
          options.confirm
            ? session.publishConfirmed(exchange, keys[0]!, body, props, this.options.confirmTimeoutMs)
            : session.publish(exchange, keys[0]!, body, props),
        );
      }
      await Promise.all(sends);
      if (options.confirm) this.#metrics.confirmSeconds.observe({ kind }, (performance.now() - started) / 1000);
      this.#metrics.publishes.inc({ kind, outcome: 'ok' }, routes.length);
      return routes.length;
    } catch (err) {
      this.#metrics.publishes.inc({ kind, outcome: (err as { code?: string }).code ?? 'error' });
      throw err;
    }
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
    for (const { acks } of this.#running) acks.flush();
    // The channels stay in #running: close() closes them, which flushes the acks still to come.
    await Promise.all(this.#running.map(({ ch, tag }) => ch.cancel(tag).catch(() => {})));
  }

  /** Messages ready in `<prefix>.persist` (the durable path's lag), as the broker reports it now. */
  async persistQueueDepth(): Promise<number> {
    const session = await this.#session(this.options.outageWaitMs);
    const reply = await session.control.checkQueue(this.names.persistQueue);
    return reply.messageCount;
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
        if (session) await Promise.all(this.#running.splice(0).map((r) => this.#closeConsumer(session, r)));
        await this.#bindings.settled();
        if (session && !session.closed) await session.control.deleteQueue(this.gatewayQueue);
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
      await Promise.all(this.#running.splice(0).map((r) => this.#closeConsumer(session, r)));
    }
    await this.#transport.close();
  }

  // --- internals ---------------------------------------------------------------------------

  async #setup(session: Session): Promise<void> {
    const o = this.options;
    this.#running = [];
    const topology = {
      prefix: o.prefix,
      partitions: o.partitions,
      persistDeliveryLimit: o.persistDeliveryLimit,
      persistMaxLength: o.persistMaxLength,
      openChannel: () => session.model.createChannel(),
      logger: this.#logger,
    };
    if (o.declareTopology) await declareTopology(session.control, topology);
    else await checkTopology(topology.openChannel, topology);
    if (this.gatewayQueue !== undefined) {
      await declareGatewayQueue(session.control, this.gatewayQueue, o.gatewayQueueExpiresMs);
      const queue = this.gatewayQueue;
      await this.#bindings.reconcile({
        // Slot keys are bound on the front exchange too (what dispatches use); both or neither.
        bind: async (key, lane) => {
          await session.bind(queue, this.#exchangeOfKey(key), key, lane);
          if (key.startsWith('s.')) await session.bind(queue, this.names.frontExchange, key, lane);
        },
        unbind: async (key, lane) => {
          if (key.startsWith('s.')) await session.unbind(queue, this.names.frontExchange, key, lane);
          await session.unbind(queue, this.#exchangeOfKey(key), key, lane);
        },
      });
    }
    for (const spec of this.#consumers) await this.#startConsumer(session, spec);
  }

  #onReady(): void {
    if (this.#closed) return;
    if (this.#connectedOnce) this.#metrics.reconnects.inc();
    this.#connectedOnce = true;
    this.#setReady(true);
    this.#logger.info({ url: this.#transport.currentUrl.replace(/\/\/[^@]*@/, '//') }, 'router ready');
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
    this.emit('ready');
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

  /** Sends the consumer's pending acks, then closes its channel (close-ok follows the acks). */
  async #closeConsumer(session: Session, consumer: { ch: Channel; acks: AckBatcher }): Promise<void> {
    consumer.acks.flush();
    consumer.acks.close();
    await session.closeChannel(consumer.ch);
  }

  async #startConsumer(session: Session, spec: ConsumerSpec): Promise<void> {
    const ch = await session.openConsumerChannel(spec.prefetch);
    const acks = new AckBatcher(ch);
    ch.once('close', () => acks.close());
    const { consumerTag } = await ch.consume(spec.queue, (msg) => {
      if (msg === null) {
        // The broker cancelled us (queue deleted or node gone): rebuild everything.
        this.#logger.warn({ queue: spec.queue }, 'consumer cancelled by the broker; recycling the connection');
        session.recycle();
        return;
      }
      acks.track(msg);
      this.#metrics.consumedMessages.inc({ queue: spec.queue === this.names.persistQueue ? 'persist' : 'gateway' });
      spec.onMessage(msg, acks);
    });
    this.#running.push({ ch, tag: consumerTag, acks });
  }

  /** Parses JSON text and checks it: the value (when it parsed), and the reason it is not acceptable, if any. */
  #problemOf(text: string, check: (v: unknown) => string | undefined): { reason: string | undefined; value: unknown } {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { reason: 'invalid_json', value: undefined };
    }
    return { reason: check(value), value };
  }

  /** The checked value, or undefined after counting and logging the reason it was dropped. */
  #parse(text: string, check: (v: unknown) => string | undefined): unknown {
    const r = this.#problemOf(text, check);
    if (r.reason !== undefined) {
      this.#drop(r.reason);
      return undefined;
    }
    return r.value;
  }

  #drop(reason: string, err?: unknown): void {
    this.#metrics.dropped.inc({ reason });
    const fields = { reason, err: err instanceof Error ? err.message : err };
    if (this.#warnedDrops.has(reason)) this.#logger.debug(fields, 'envelope dropped');
    else {
      this.#warnedDrops.add(reason);
      this.#logger.warn(fields, 'envelope dropped (further drops for this reason are logged at debug)');
    }
  }

  /** Publishes one write (`json`, from `msg` or one record of it) to the dead-letter exchange with the reason, confirmed. */
  async #publishDead(msg: ConsumeMessage, json: string, value: unknown, reason: string): Promise<void> {
    const session = await this.#session(this.options.outageWaitMs);
    const headers: Record<string, unknown> = { ...(msg.properties.headers ?? {}), [DEAD_REASON_HEADER]: reason };
    if (msg.properties.userId !== undefined) headers[WRITER_HEADER] = msg.properties.userId;
    // user_id names this connection's user or the broker refuses the publish: the writer moves to a header.
    const properties = { ...msg.properties, headers, persistent: true, userId: undefined };
    if (msg.properties.type === WRITE_BUNDLE_TYPE) {
      // A record of a bundle goes alone, with the type and id a single write would have.
      const v = value as { type?: unknown; id?: unknown } | undefined;
      properties.type = typeof v?.type === 'string' ? v.type : undefined;
      properties.messageId = typeof v?.id === 'string' ? v.id : undefined;
    }
    const content = msg.properties.type === WRITE_BUNDLE_TYPE ? Buffer.from(json) : msg.content;
    await session.publishConfirmed(
      this.names.deadExchange,
      '',
      content,
      properties as never,
      this.options.confirmTimeoutMs,
    );
  }

  #props(type: string, id: string | undefined, persistent: boolean) {
    return {
      contentType: 'application/json',
      messageId: id,
      timestamp: Math.floor(Date.now() / 1000),
      type,
      persistent,
      headers: { v: PROTOCOL_VERSION },
    } as {
      contentType: string;
      messageId?: string;
      timestamp: number;
      type: string;
      persistent: boolean;
      headers: Record<string, unknown>;
      CC?: string[];
      userId?: string;
    };
  }

  #keysOf(target: DispatchTarget): Set<string> {
    const { slots: S, granularity } = this.options;
    const keys = new Set<string>();
    for (const user of target.users ?? []) {
      keys.add(this.#checkedKey(user));
    }
    for (const slot of target.slots ?? []) {
      if (granularity !== 'slot') throw new InvalidArgumentError('dispatch to slots needs slot granularity');
      if (!Number.isInteger(slot) || slot < 0 || slot >= S)
        throw new InvalidArgumentError(`slot out of range: ${slot}`);
      keys.add(`s.${slot}`);
    }
    return keys;
  }

  #partitionOfKey(key: string): number {
    const { slots, partitions } = this.options;
    const slot = key.startsWith('s.') ? Number(key.slice(2)) : slotOf(key.slice(2), slots);
    return partitionOf(slot, partitions);
  }

  #exchangeOfKey(key: string): string {
    return this.names.routeExchanges[this.#partitionOfKey(key)]!;
  }

  #checkedKey(userId: string): string {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128) {
      throw new InvalidArgumentError('userId must be a non-empty string of at most 128 characters');
    }
    // In user granularity the id becomes a topic word: a dot would split it and `*`/`#` would
    // bind a wildcard that receives other users' traffic.
    if (this.options.granularity === 'user' && /[.*#]/.test(userId)) {
      throw new InvalidArgumentError('userId must not contain ".", "*" or "#" in user granularity');
    }
    return this.keyOf(userId);
  }

  #requireGateway(op: string): void {
    if (this.gatewayQueue === undefined) throw new InvalidArgumentError(`${op}() needs the serverId option`);
    if (this.#closed) throw new ClosedError('router closed');
  }
}

/** A bounded set of recent ids, oldest evicted first. */
class RecentIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Adds an id; false when it was already there. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) this.#ids.delete(this.#ids.values().next().value as string);
    return true;
  }
}
