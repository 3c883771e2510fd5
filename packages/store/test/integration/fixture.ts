// Set-up shared by the store's integration tests: MongoDB from MONGO_URL or the stand-in, a
// unique database per test, the local Redis with a unique key prefix.

import { createStore, type Store } from '@chat/store';
import { startMongo, uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';

export interface StoreFixture {
  store: Store;
  db: Db;
  client: MongoClient;
  /** The server's URL (for a second client, e.g. one that monitors commands). */
  mongoUrl: string;
  redis: Redis | undefined;
  redisPrefix: string;
  close(): Promise<void>;
}

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A Redis client that fails fast instead of queueing while the server is away. */
export function fastFailRedis(url = redisUrl()): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 50, 500),
    lazyConnect: false,
  });
  // Connection errors while Redis is down are expected in these tests; the store reports its own.
  redis.on('error', () => {});
  return redis;
}

export async function openStore(
  options: { redis?: Redis | false; slots?: number; dmCacheChannels?: number } = {},
): Promise<StoreFixture> {
  const mongo = await startMongo();
  const client = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(uniquePrefix('store').replace(/-+$/, '').replace(/-/g, '_'));
  const redis = options.redis === false ? undefined : (options.redis ?? fastFailRedis());
  if (redis && redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
  const redisPrefix = `${uniquePrefix('cache')}:`;
  const store = createStore({ db, redis, redisPrefix, slots: options.slots, dmCacheChannels: options.dmCacheChannels });
  await store.init();
  return {
    store,
    db,
    client,
    mongoUrl: mongo.url,
    redis,
    redisPrefix,
    async close() {
      await db.dropDatabase().catch(() => {});
      await client.close();
      if (redis && redis.status === 'ready') {
        const keys = await redis.keys(`${redisPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis?.disconnect();
      await mongo.close();
    },
  };
}
