// Presence work is bounded: when many users leave at once (every socket of a gateway closed), their
// audience reads and announcements run `concurrency` at a time instead of all at once, their channel
// lists are read in batches (the gateway's batched reads), and every one of them still happens. Real
// Redis (registry), the stand-in MongoDB (store) and RabbitMQ (router).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRouter, type Router } from '@chat/router';
import { createStore, type Store } from '@chat/store';
import { amqpUrl, deleteByPrefix, type MongoHandle, startMongo, uniquePrefix, waitFor } from '@chat/testkit';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { Registry } from 'prom-client';
import { batchedReads } from '../../src/batched-reads.js';
import { createMetrics } from '../../src/metrics.js';
import { Presence } from '../../src/presence.js';
import { PresenceRegistry } from '../../src/presence-registry.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

describe('presence concurrency', () => {
  const prefix = uniquePrefix('presence-conc');
  let mongo: MongoHandle;
  let client: MongoClient;
  let db: Db;
  let redis: Redis;
  let store: Store;
  let router: Router;

  before(async () => {
    mongo = await startMongo();
    client = await new MongoClient(mongo.url, { serverSelectionTimeoutMS: 5000 }).connect();
    db = client.db(prefix.replace(/-+$/, '').replace(/-/g, '_'));
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    store = createStore({ db, redis, redisPrefix: `${prefix}:` });
    await store.init();
    router = createRouter({ url: amqpUrl(), prefix, serverId: 'gw-conc' });
    await router.ready(30_000);
  });
  after(async () => {
    await router.close();
    await deleteByPrefix(amqpUrl(), prefix).catch(() => {});
    await db.dropDatabase().catch(() => {});
    await client.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await mongo.close();
  });

  it('60 users leaving at once: at most `concurrency` audience reads at a time, channel lists read in batches, and every user announced offline', async () => {
    const users = Array.from({ length: 60 }, (_, i) => `c${i}`);
    for (const [i, u] of users.entries()) {
      await store.channels.create({ id: String(9000 + i), kind: 'dm', creatorId: u, recipients: ['partner'] });
    }
    // The real store, watched: how many audience reads (memberships) run at once, and how many channel-list
    // queries the leaves cost.
    let running = 0;
    let most = 0;
    const channels = {
      membership: async (id: string) => {
        running++;
        most = Math.max(most, running);
        try {
          await new Promise((r) => setTimeout(r, 5));
          return await store.channels.membership(id);
        } finally {
          running--;
        }
      },
      memberCount: (id: string, upTo: number) => store.channels.memberCount(id, upTo),
    };
    const listed: number[] = [];
    const batched = batchedReads({
      ...store,
      channels: {
        listForUsers: (ids) => {
          listed.push(ids.length);
          return store.channels.listForUsers(ids);
        },
      },
    });
    const metricsRegistry = new Registry();
    const metrics = createMetrics(metricsRegistry, () => 0);
    // The registry's leaves (one Redis call each) answer in as many socket reads as the machine's load
    // makes; gated, they all answer together, so what is measured is presence's own batching (the channel
    // reads of leaves that reach them in one turn share a query) and not how Redis's replies were chunked.
    const registry = new PresenceRegistry({ redis, prefix: `${prefix}:`, serverId: 'gw-conc', timeoutMs: 30_000 });
    const leave = registry.leave.bind(registry);
    let gate: Promise<void> = Promise.resolve();
    let openGate = () => {};
    let left = 0;
    registry.leave = async (userId) => {
      const wasLast = await leave(userId);
      left++;
      await gate;
      return wasLast;
    };
    const presence = new Presence({
      registry,
      router,
      channels,
      memberChannels: (u) => batched.memberChannels(u),
      limits: { maxGroupMembers: 0, maxAudience: 100 },
      heartbeatMs: 10_000,
      offlineGraceMs: 0,
      concurrency: 4,
      localUsers: () => users,
      localUserCount: () => users.length,
      metrics,
      logger: silent,
    });
    await presence.start();
    for (const u of users) await presence.connected(u, await store.channels.listForUser(u), true, false);
    await waitFor(async () => /change="online"\} 60/.test(await metricsRegistry.metrics()), 'every user online');
    most = 0;
    listed.length = 0;
    gate = new Promise((r) => {
      openGate = r;
    });
    for (const u of users) presence.disconnected(u);
    await waitFor(async () => left === 60, 'every leave answered by Redis');
    openGate();
    await waitFor(async () => /change="offline"\} 60/.test(await metricsRegistry.metrics()), 'every user offline');
    await presence.stop(Date.now() + 5000);
    assert.ok(most >= 2 && most <= 4, `${most} audience reads at once (bound 4)`);
    assert.equal(
      listed.reduce((a, b) => a + b, 0),
      60,
      'every leaving user had its channels read',
    );
    assert.ok(listed.length <= 4, `60 channel lists in ${listed.length} queries: ${listed.join(', ')}`);
  });
});
