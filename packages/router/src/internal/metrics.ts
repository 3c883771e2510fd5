// Prometheus metrics of one router, registered on the caller's registry. Two routers in one
// process that share a registry share the metric objects (figures add up per process).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export type RouterMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: Registry, prefix: string) {
  const registers = [registry];
  return {
    publishes: getOrCreate(
      registry,
      `${prefix}publishes_total`,
      () =>
        new Counter({
          name: `${prefix}publishes_total`,
          help: 'Messages published, by kind (durable, dispatch) and outcome',
          labelNames: ['kind', 'outcome'] as const,
          registers,
        }),
    ),
    broadcasts: getOrCreate(
      registry,
      `${prefix}broadcasts_total`,
      () =>
        new Counter({
          name: `${prefix}broadcasts_total`,
          help: 'Dispatch publishes sent to every gateway queue (more keys than broadcastAboveKeys)',
          registers,
        }),
    ),
    confirmSeconds: getOrCreate(
      registry,
      `${prefix}confirm_seconds`,
      () =>
        new Histogram({
          name: `${prefix}confirm_seconds`,
          help: 'Time from publish to broker confirm',
          labelNames: ['kind'] as const,
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    bindings: getOrCreate(
      registry,
      `${prefix}bindings`,
      () => new Gauge({ name: `${prefix}bindings`, help: 'Routing keys bound to this gateway queue', registers }),
    ),
    attachments: getOrCreate(
      registry,
      `${prefix}attachments`,
      () =>
        new Gauge({ name: `${prefix}attachments`, help: 'Current attach references (sockets attached)', registers }),
    ),
    bindingOps: getOrCreate(
      registry,
      `${prefix}binding_operations_total`,
      () =>
        new Counter({
          name: `${prefix}binding_operations_total`,
          help: 'Bind and unbind operations issued to the broker, by outcome',
          labelNames: ['op', 'outcome'] as const,
          registers,
        }),
    ),
    bindingHolds: getOrCreate(
      registry,
      `${prefix}binding_holds_total`,
      () =>
        new Counter({
          name: `${prefix}binding_holds_total`,
          help: 'Mass disconnects after which released routing keys were kept bound (massReleaseHoldMs)',
          registers,
        }),
    ),
    reconnects: getOrCreate(
      registry,
      `${prefix}reconnects_total`,
      () => new Counter({ name: `${prefix}reconnects_total`, help: 'Broker connections re-established', registers }),
    ),
    ready: getOrCreate(
      registry,
      `${prefix}ready`,
      () =>
        new Gauge({
          name: `${prefix}ready`,
          help: '1 while connected with topology, bindings and consumer restored',
          registers,
        }),
    ),
    deliveries: getOrCreate(
      registry,
      `${prefix}deliveries_total`,
      () =>
        new Counter({
          name: `${prefix}deliveries_total`,
          help: 'Envelopes handed to a consumer handler, by queue kind (gateway, persist)',
          labelNames: ['queue'] as const,
          registers,
        }),
    ),
    duplicates: getOrCreate(
      registry,
      `${prefix}duplicate_deliveries_total`,
      () =>
        new Counter({
          name: `${prefix}duplicate_deliveries_total`,
          help: 'Extra per-partition copies of a dispatch (same dispatch id) dropped before the handler',
          registers,
        }),
    ),
    consumedMessages: getOrCreate(
      registry,
      `${prefix}consumed_messages_total`,
      () =>
        new Counter({
          name: `${prefix}consumed_messages_total`,
          help: 'Broker messages consumed, by queue kind (gateway, persist); a bundle counts once',
          labelNames: ['queue'] as const,
          registers,
        }),
    ),
    durableWrites: getOrCreate(
      registry,
      `${prefix}durable_writes_per_message`,
      () =>
        new Histogram({
          name: `${prefix}durable_writes_per_message`,
          help: 'Durable writes carried by one persist-queue message (several when published in one event-loop turn)',
          buckets: [1, 2, 4, 8, 16, 32, 64],
          registers,
        }),
    ),
    bundleRecords: getOrCreate(
      registry,
      `${prefix}bundle_records_total`,
      () =>
        new Counter({
          name: `${prefix}bundle_records_total`,
          help: 'Records of consumed dispatch bundles: delivered to the handler, or foreign (for keys this queue does not bind)',
          labelNames: ['outcome'] as const,
          registers,
        }),
    ),
    dropped: getOrCreate(
      registry,
      `${prefix}dropped_total`,
      () =>
        new Counter({
          name: `${prefix}dropped_total`,
          help: 'Consumed envelopes dropped, by reason (malformed JSON, unknown type or event, handler error, …)',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
  };
}
