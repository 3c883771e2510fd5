// The router's options: what a caller may set (RouterOptions), and the checked, defaulted, frozen
// form every other part of the router reads (ResolvedRouterOptions). Resolved once, in the
// constructor: an invalid option throws InvalidArgumentError before anything connects.

import type { Logger } from '@chat/protocol';
import type { Registry } from 'prom-client';
import type { BroadcastSetting } from './broadcast.js';
import { InvalidArgumentError } from './errors.js';
import { type RouterTlsOptions, resolveTls } from './tls.js';
import { sharedAmqpUser } from './writer-identity.js';

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
  /**
   * `x-max-length` of the gateway queue (overflow `drop-head`): past it the oldest copies are dropped,
   * and a gateway that comes back to a full queue emits `dispatch-gap`. Default 10,000; 0 = none.
   */
  gatewayQueueMaxLength?: number;
  /** `x-max-length-bytes` of the gateway queue (overflow `drop-head`). Default 64 MiB; 0 = none. */
  gatewayQueueMaxBytes?: number;
  /** `x-delivery-limit` of the persist queue before a message is dead-lettered. Default 10. */
  persistDeliveryLimit?: number;
  /** `x-max-length` of the persist queue: past it durable writes fail with `QueueFullError`. Default 100,000; 0 = none. */
  persistMaxLength?: number;
  /** Keep a key bound this long after its last detach. Default 0 (unbind at once). */
  lingerMs?: number;
  /**
   * After a mass disconnect (a quarter of this gateway's attachments, and at least 64, released within
   * one second), keep released keys bound this long, so that returning clients cost the broker no
   * binding operations. Default 0 (never).
   */
  massReleaseHoldMs?: number;
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
   * Write bundles leave at most once per this many ms (a full bundle at once; write-bundle.ts): fewer,
   * fuller broker messages at moderate rates, each write waiting at most this long. Default 0 (none).
   */
  writeIntervalMs?: number;
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
  /**
   * Dispatches with more routing keys than this go once to every gateway queue (the broadcast key,
   * broadcast.ts) instead of to their keys; gateways keep the records addressed to keys they bind.
   * `'auto'` (default): 1 on brokers before RabbitMQ 3.11, whose multi-key routing scans every
   * binding of the exchange, otherwise `'off'` (always to the keys). Gateways of this version bind the
   * broadcast key whatever the setting: during a rolling upgrade, upgrade gateways before publishers.
   */
  broadcastAboveKeys?: BroadcastSetting;
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
  readonly gatewayQueueMaxLength: number;
  readonly gatewayQueueMaxBytes: number;
  readonly persistDeliveryLimit: number;
  readonly persistMaxLength: number;
  readonly lingerMs: number;
  readonly massReleaseHoldMs: number;
  readonly bindingLanes: number;
  readonly prefetch: number;
  readonly confirmTimeoutMs: number;
  readonly coalesceWrites: boolean;
  readonly writesInFlight: number;
  readonly writeIntervalMs: number;
  /** The AMQP user of the broker URLs, stamped as `user_id` on durable writes; undefined when `stampUserId` is false. */
  readonly amqpUser: string | undefined;
  readonly declareTopology: boolean;
  readonly broadcastAboveKeys: BroadcastSetting;
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

const SERVER_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** `value` when it is an integer ≥ `min`; otherwise throws InvalidArgumentError naming the option. */
export function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

function broadcastSetting(value: BroadcastSetting): BroadcastSetting {
  if (value === 'auto' || value === 'off') return value;
  return positiveInt('broadcastAboveKeys', value);
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
    gatewayQueueMaxLength: positiveInt('gatewayQueueMaxLength', options.gatewayQueueMaxLength ?? 10_000, 0),
    gatewayQueueMaxBytes: positiveInt('gatewayQueueMaxBytes', options.gatewayQueueMaxBytes ?? 64 * 1024 * 1024, 0),
    persistDeliveryLimit: positiveInt('persistDeliveryLimit', options.persistDeliveryLimit ?? 10),
    persistMaxLength: positiveInt('persistMaxLength', options.persistMaxLength ?? 100_000, 0),
    lingerMs: positiveInt('lingerMs', options.lingerMs ?? 0, 0),
    massReleaseHoldMs: positiveInt('massReleaseHoldMs', options.massReleaseHoldMs ?? 0, 0),
    bindingLanes: positiveInt('bindingLanes', options.bindingLanes ?? 4),
    prefetch: positiveInt('prefetch', options.prefetch ?? 256),
    confirmTimeoutMs: positiveInt('confirmTimeoutMs', options.confirmTimeoutMs ?? 10_000),
    coalesceWrites: options.coalesceWrites ?? true,
    writesInFlight: positiveInt('writesInFlight', options.writesInFlight ?? 1, 0),
    writeIntervalMs: positiveInt('writeIntervalMs', options.writeIntervalMs ?? 0, 0),
    amqpUser: options.stampUserId === false ? undefined : sharedAmqpUser(urls),
    declareTopology: options.declareTopology ?? true,
    broadcastAboveKeys: broadcastSetting(options.broadcastAboveKeys ?? 'auto'),
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
