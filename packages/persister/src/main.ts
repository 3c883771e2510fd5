#!/usr/bin/env node
// The persister process: configuration from the environment, connections, HTTP, signals.
import v8 from 'node:v8';
import { createRouter } from '@chat/router';
import { closeInOrder, connectWithRetry, exitOnSignals, loadOrExit } from '@chat/service-kit';
import { createStore } from '@chat/store';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError, loadConfig } from './config.js';
import { startHttp } from './http.js';
import { createPersister } from './persister.js';

const config = loadOrExit('persister', () => loadConfig(), [ConfigError]);

// The first seconds after an idle spell (bench/results/cold-start-2026-12-04.md §4–5): while the persister
// waits, V8 shrinks its young generation back to 2 × 1 MiB, and when writes arrive it regrows by a factor of 2
// per step, scavenging every few ms meanwhile. A factor of 16 regrows it to V8's default maximum (the size it
// has under load anyway) in one step. Read by V8 whenever it would grow, so setting it now takes effect.
v8.setFlagsFromString(`--semi-space-growth-factor=${config.semiSpaceGrowth}`);

const logger = pino({ level: config.logLevel, base: { service: 'persister', server_id: config.serverId } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });

const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 5000, appName: config.serverId });
const redis = config.redisUrl
  ? new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      // Commands issued in one event-loop turn (many requests at once under load) share one write.
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      retryStrategy: (n) => Math.min(n * 100, 2000),
    })
  : undefined;
let lastRedisError = 0;
redis?.on('error', (err) => {
  if (Date.now() - lastRedisError > 10_000) {
    lastRedisError = Date.now();
    logger.warn({ err: err.message }, 'redis unavailable; membership is read from MongoDB');
  }
});
const router = createRouter({
  url: config.amqpUrls,
  ...(config.amqpTls ? { tls: config.amqpTls } : {}),
  prefix: config.prefix,
  partitions: config.partitions,
  slots: config.slots,
  granularity: config.granularity,
  broadcastAboveKeys: config.broadcastAboveKeys,
  persistDeliveryLimit: config.persistDeliveryLimit,
  persistMaxLength: config.persistMaxLength,
  declareTopology: config.declareTopology,
  connectionName: `${config.prefix}:${config.serverId}`,
  registry,
  logger,
});
const store = createStore({
  db: mongo.db(config.mongoDb),
  redis,
  redisPrefix: `${config.prefix}:`,
  slots: config.slots,
  ordinalCacheChannels: config.ordinalCacheChannels,
  logger,
});
const persister = createPersister({
  router,
  store,
  registry,
  logger,
  prefetch: config.prefetch,
  batchSize: config.batchSize,
  batchMs: config.batchMs,
  maxBatchesInFlight: config.maxBatchesInFlight,
  maxContentLength: config.maxContentLength,
  writers: config.writers.length > 0 ? config.writers : undefined,
});

const http = await startHttp({
  host: config.httpHost,
  port: config.httpPort,
  registry,
  ready: async () => {
    if (!router.isReady) return false;
    await store.ping();
    return true;
  },
});
logger.info({ port: (http.address() as { port: number }).port }, 'persister http listening');

// MongoDB may be down at start: keep trying (indexes first), never give up.
await connectWithRetry(
  'MongoDB',
  async () => {
    await mongo.connect();
    await store.init();
  },
  { logger },
);
await router.ready();
await persister.start();
logger.info(
  {
    prefetch: config.prefetch,
    batchSize: config.batchSize,
    batchMs: config.batchMs,
    maxBatchesInFlight: config.maxBatchesInFlight,
  },
  'persister consuming',
);

exitOnSignals({
  logger,
  timeoutMs: config.shutdownTimeoutMs + 2000,
  timeoutMessage: 'shutdown timed out; exiting with writes unacked (they will be redelivered)',
  async stop(signal) {
    logger.info({ signal }, 'stopping: finishing in-flight writes');
    const drained = await persister.stop(config.shutdownTimeoutMs);
    await closeInOrder(
      [
        ['router', () => router.close()],
        ['mongodb', () => mongo.close()],
        ['redis', () => redis?.disconnect()],
        ['http', () => http.close()],
      ],
      logger,
    );
    logger.info({ drained }, 'stopped');
    return drained ? 0 : 1;
  },
});
