#!/usr/bin/env node
import { createRouter } from '@chat/router';
import { createStore } from '@chat/store';
// The persister process: configuration from the environment, connections, HTTP, signals.
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError, loadConfig } from './config.js';
import { startHttp } from './http.js';
import { createPersister } from './persister.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`persister: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

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
for (let attempt = 1; ; attempt++) {
  try {
    await mongo.connect();
    await store.init();
    break;
  } catch (err) {
    logger.warn({ err: (err as Error).message, attempt }, 'MongoDB not ready; retrying');
    await new Promise((r) => setTimeout(r, Math.min(attempt * 500, 5000)));
  }
}
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

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'stopping: finishing in-flight writes');
  const hardStop = setTimeout(() => {
    logger.error('shutdown timed out; exiting with writes unacked (they will be redelivered)');
    process.exit(1);
  }, config.shutdownTimeoutMs + 2000);
  hardStop.unref();
  const drained = await persister.stop(config.shutdownTimeoutMs);
  await router.close();
  await mongo.close().catch(() => {});
  redis?.disconnect();
  http.close();
  logger.info({ drained }, 'stopped');
  process.exit(drained ? 0 : 1);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
