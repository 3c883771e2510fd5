#!/usr/bin/env node
// The gateway process: configuration from the environment, connections, worker-id lease, signals.
import v8 from 'node:v8';
import { createRouter, leaseWorkerId, SnowflakeGenerator } from '@chat/router';
import { closeInOrder, connectWithRetry, exitOnSignals, loadOrExit } from '@chat/service-kit';
import { createStore } from '@chat/store';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError, loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { loadNativeUws, NativeUwsMissingError } from './uws.js';

const config = loadOrExit('gateway', () => {
  const loaded = loadConfig();
  loadNativeUws();
  return loaded;
}, [ConfigError, NativeUwsMissingError]);

// Memory per idle connection (bench W3): V8 grows its young generation (2 × semi-space) from 2 MiB to
// 32 MiB under the allocation burst of many IDENTIFYs and keeps it, ~3 KiB of RSS per connection at
// 10,000. A factor of 1 keeps it at its initial size; read by V8 whenever it would grow, so setting it
// now takes effect. An explicit --max-semi-space-size still caps it.
v8.setFlagsFromString(`--semi-space-growth-factor=${config.semiSpaceGrowth}`);

const logger = pino({ level: config.logLevel, base: { service: 'gateway', server_id: config.serverId } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });

const redis = new Redis(config.redisUrl, {
  enableOfflineQueue: false,
  // Commands issued in one event-loop turn (many requests at once under load) share one write.
  enableAutoPipelining: true,
  maxRetriesPerRequest: 1,
  retryStrategy: (n) => Math.min(n * 100, 2000),
});
let lastRedisWarn = 0;
redis.on('error', (err) => {
  if (Date.now() - lastRedisWarn > 10_000) {
    lastRedisWarn = Date.now();
    logger.warn({ err: err.message }, 'redis unavailable');
  }
});
await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));

// A worker id unique among live producers, for this process's snowflakes.
const lease = await leaseWorkerId({
  redis,
  owner: config.serverId,
  prefix: `${config.prefix}:`,
  ids: config.workerIds,
  onLost: (reason) => {
    logger.fatal({ reason }, 'snowflake worker id lease lost; exiting to keep ids unique');
    process.exit(1);
  },
  onReclaimed: (reason) => logger.warn({ reason }, 'snowflake worker id lease taken back'),
  onRenewError: (err) => logger.warn({ err: (err as Error).message }, 'worker id lease renewal failed'),
});
const ids = new SnowflakeGenerator({ workerId: lease.workerId });

const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 5000, appName: config.serverId });
const store = createStore({
  db: mongo.db(config.mongoDb),
  redis,
  redisPrefix: `${config.prefix}:`,
  slots: config.slots,
  passwords: {
    logN: config.scryptLogN,
    maxConcurrent: config.passwordHashConcurrency,
    maxQueued: config.passwordHashQueue,
  },
  logger,
});
await connectWithRetry(
  'MongoDB',
  async () => {
    await mongo.connect();
    await store.init();
  },
  { logger },
);

const router = createRouter({
  url: config.amqpUrls,
  ...(config.amqpTls ? { tls: config.amqpTls } : {}),
  serverId: config.serverId,
  prefix: config.prefix,
  partitions: config.partitions,
  slots: config.slots,
  granularity: config.granularity,
  broadcastAboveKeys: config.broadcastAboveKeys,
  lingerMs: config.attachLingerMs,
  massReleaseHoldMs: config.massDisconnectHoldMs,
  writeIntervalMs: config.writeBundleIntervalMs,
  persistDeliveryLimit: config.persistDeliveryLimit,
  persistMaxLength: config.persistMaxLength,
  gatewayQueueMaxLength: config.gatewayQueueMaxLength,
  gatewayQueueMaxBytes: config.gatewayQueueMaxBytes,
  declareTopology: config.declareTopology,
  registry,
  logger,
});
await router.ready();

const gateway = await createGateway({ config, router, store, redis, ids, registry, logger });
logger.info({ port: gateway.port, workerId: lease.workerId }, 'gateway listening');

exitOnSignals({
  logger,
  timeoutMs: config.drainTimeoutMs + 5000,
  timeoutMessage: 'drain timed out; exiting',
  async stop(signal) {
    logger.info({ signal, connections: gateway.connections() }, 'draining');
    await gateway.drain();
    await closeInOrder(
      [
        ['worker id lease', () => lease.release()],
        ['mongodb', () => mongo.close()],
        ['redis', () => redis.disconnect()],
      ],
      logger,
    );
    logger.info('drained');
    return 0;
  },
});
