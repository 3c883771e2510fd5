// @chat/router — the public door. Everything else lives under src/internal/.

// The protocol's arithmetic, ids and logger, re-exported from their one source (@chat/protocol).
export {
  BUCKET_MS,
  bucketOf,
  CHAT_EPOCH_MS,
  fnv1a32,
  type Logger,
  makeSnowflake,
  parseSnowflake,
  partitionOf,
  type SnowflakeParts,
  slotOf,
  snowflakeAt,
} from '@chat/protocol';
export { BROADCAST_KEY, type BroadcastSetting, broadcastAbove } from './internal/broadcast.js';
export {
  type DeadLetterInfo,
  DeadLetterQueue,
  type DeadLetterQueueOptions,
  deadLetterId,
} from './internal/dead-letter-queue.js';
export type { DeliveryInfo, DispatchHandler } from './internal/dispatch-consumer.js';
export type { DurableDelivery, DurableHandler } from './internal/durable-consumer.js';
export {
  type Author,
  DISPATCH_EVENTS,
  type DispatchEnvelope,
  type DispatchEvent,
  DURABLE_WRITE_TYPES,
  type DurableWrite,
  type DurableWriteType,
  dispatchProblem,
  durableWriteProblem,
  isSnowflake,
  type MessageCreateWrite,
  type MessageDeleteWrite,
  type MessageUpdateWrite,
  PROTOCOL_VERSION,
} from './internal/envelope.js';
export {
  ClosedError,
  ConfirmTimeoutError,
  ConnectionLostError,
  ERROR_CLASSES,
  InvalidArgumentError,
  InvalidEnvelopeError,
  NackError,
  QueueFullError,
  RouterError,
  UnavailableError,
} from './internal/errors.js';
export { type GatewayQueueSpec, gatewayQueueArguments, gatewayQueueIncarnation } from './internal/gateway-queue.js';
export {
  type Granularity,
  type ResolvedRouterOptions,
  type RouterOptions,
  resolveRouterOptions,
} from './internal/options.js';
export { persistPolicyCommand, persistQueueArguments } from './internal/persist-queue.js';
export type { DispatchOptions } from './internal/publisher.js';
export { type ChannelMembership, type DispatchTarget, dispatchToMembers } from './internal/routing-keys.js';
export { SnowflakeGenerator, type SnowflakeOptions } from './internal/snowflake.js';
export type { RouterTlsOptions } from './internal/tls.js';
export { gatewayQueueName, type TopologyNames, topologyNames } from './internal/topology.js';
export { amqpUserOf, WRITER_NOT_ALLOWED } from './internal/writer-identity.js';
export { createRouter, type DispatchGap, Router, type RouterStats } from './router.js';
export { readTlsFiles, type TlsFiles } from './tls-files.js';
export { type LeaseOptions, type LeaseRedis, leaseWorkerId, WORKER_IDS, type WorkerLease } from './worker-lease.js';
