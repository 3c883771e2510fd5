// The world of a persister test: MongoDB (MONGO_URL or the stand-in), the local RabbitMQ and Redis,
// a unique prefix, channels with members, two gateway routers recording what they receive, a
// service router for durable writes, and the persister as a real child process.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  createRouter,
  gatewayQueueName,
  type MessageCreateWrite,
  type Router,
  slotOf,
  topologyNames,
} from '@chat/router';
import { createStore, type Store } from '@chat/store';
import {
  amqpUrl,
  deleteByPrefix,
  freePort,
  type ServiceProcess,
  spawnService,
  startMongo,
  uniquePrefix,
  waitFor,
} from '@chat/testkit';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export { freePort, waitFor };

export type PersisterProcess = ServiceProcess & { readonly httpPort: number };

/** Starts `packages/persister/src/main.ts` as a child process; resolves once it consumes. */
export async function startPersister(env: Record<string, string>): Promise<PersisterProcess> {
  const httpPort = await freePort();
  const proc = await spawnService({
    name: 'persister',
    main: MAIN,
    env: { PERSISTER_HTTP_HOST: '127.0.0.1', PERSISTER_HTTP_PORT: String(httpPort), ...env },
    readyLine: '"msg":"persister consuming"',
    timeoutMs: 30_000,
  });
  return Object.assign(proc, { httpPort });
}

/** Writes the persister has stored, dispatched and acked (its chat_persister_stored_total, all types). */
export async function storedByPersister(p: PersisterProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^chat_persister_stored_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

export interface World {
  prefix: string;
  db: Db;
  store: Store;
  mongoUrl: string;
  dbName: string;
  service: Router;
  gateways: Array<{
    router: Router;
    users: string[];
    received: Map<string, number>;
    events: Array<{ event: string; data: unknown }>;
  }>;
  channels: Array<{ id: string; members: string[] }>;
  /** Env for a persister process in this world. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Which gateways must receive a message of this channel (slot granularity). */
  expectedGateways(channelId: string): number[];
  storedCount(): Promise<number>;
  /** True when the persist queue has nothing ready or unacked. */
  persistQueueIdle(): Promise<boolean>;
  close(): Promise<void>;
}

export async function createWorld(options: { channels?: number; users?: number } = {}): Promise<World> {
  const prefix = uniquePrefix('persister');
  const mongo = await startMongo();
  const client = new MongoClient(mongo.url);
  await client.connect();
  const dbName = prefix.replace(/-+$/, '').replace(/-/g, '_');
  const db = client.db(dbName);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  redis.on('error', () => {});
  await once(redis, 'ready');
  const store = createStore({ db, redis, redisPrefix: `${prefix}:` });
  await store.init();

  const userCount = options.users ?? 40;
  const users = Array.from({ length: userCount }, (_, i) => `user${i}`);
  const channels: World['channels'] = [];
  for (let c = 0; c < (options.channels ?? 10); c++) {
    // Each channel: 2..6 members spread over both halves of the users.
    const members = [
      users[(c * 7) % userCount]!,
      users[(c * 11 + 3) % userCount]!,
      users[(c * 5 + userCount / 2) % userCount]!,
    ];
    const { channel } = await store.channels.create({
      id: String(1000 + c),
      kind: 'group',
      name: `c${c}`,
      creatorId: members[0]!,
      recipients: members.slice(1),
    });
    channels.push({ id: channel.id, members: [...new Set(members)] });
  }

  const url = amqpUrl();
  const service = createRouter({ url, prefix });
  const gateways: World['gateways'] = [];
  for (const [i, half] of [users.slice(0, userCount / 2), users.slice(userCount / 2)].entries()) {
    const router = createRouter({ url, prefix, serverId: `gw${i}` });
    await router.ready();
    const received = new Map<string, number>();
    const events: Array<{ event: string; data: unknown }> = [];
    await router.consume((env) => {
      events.push({ event: env.event, data: env.data });
      if (env.event === 'MESSAGE_CREATE') {
        const id = (env.data as { id: string }).id;
        received.set(id, (received.get(id) ?? 0) + 1);
      }
    });
    await Promise.all(half.map((u) => router.attach(u)));
    gateways.push({ router, users: half, received, events });
  }
  await service.ready();

  return {
    prefix,
    db,
    store,
    mongoUrl: mongo.url,
    dbName,
    service,
    gateways,
    channels,
    env(extra = {}) {
      return {
        AMQP_URL: url,
        MONGO_URL: mongo.url,
        MONGO_DB: dbName,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        CHAT_PREFIX: prefix,
        ...extra,
      };
    },
    expectedGateways(channelId) {
      const ch = channels.find((c) => c.id === channelId)!;
      const slots = new Set(ch.members.map((m) => slotOf(m)));
      return gateways.flatMap((g, i) => (g.users.some((u) => slots.has(slotOf(u))) ? [i] : []));
    },
    storedCount() {
      return db.collection('messages').countDocuments({});
    },
    async persistQueueIdle() {
      // Ready messages only: give in-flight ones a moment to be acked after the queue is empty.
      if ((await service.persistQueueDepth()) > 0) return false;
      await new Promise((r) => setTimeout(r, 300));
      return (await service.persistQueueDepth()) === 0;
    },
    async close() {
      await Promise.all([service.close(), ...gateways.map((g) => g.router.close())]);
      const names = topologyNames(prefix, 16);
      await deleteByPrefix(url, prefix, {
        queues: [names.persistQueue, names.deadQueue, ...gateways.map((_, i) => gatewayQueueName(prefix, `gw${i}`))],
        exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
      });
      await db.dropDatabase().catch(() => {});
      await client.close();
      const keys = await redis.keys(`${prefix}:*`).catch(() => []);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await mongo.close();
    },
  };
}

let seq = 0;
/** A message.create to one of the world's channels, with a fresh snowflake-shaped id. */
export function createWrite(world: World, n: number): MessageCreateWrite {
  const ch = world.channels[n % world.channels.length]!;
  return {
    v: 1,
    type: 'message.create',
    id: String(400000000000000000n + BigInt(n)),
    channel_id: ch.id,
    author: { id: ch.members[0]!, username: ch.members[0]! },
    content: `message ${n} ${seq++}`,
    nonce: `nonce-${n}`,
    timestamp: new Date().toISOString(),
  };
}

/**
 * Publishes `total` creates, `concurrency` at a time; resolves with the confirmed ids and how many
 * publishes were retries (a retried write may be in the queue twice: same id, stored once).
 */
export async function writeCreates(
  world: World,
  from: number,
  total: number,
  concurrency = 50,
): Promise<Set<string> & { retries: number }> {
  const confirmed = Object.assign(new Set<string>(), { retries: 0 });
  let next = from;
  const end = from + total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < end) {
        const w = createWrite(world, next++);
        for (;;) {
          try {
            await world.service.durableWrite(w);
            confirmed.add(w.id);
            break;
          } catch (err) {
            if (!(err as { retryable?: boolean }).retryable) throw err;
            confirmed.retries++;
          }
        }
      }
    }),
  );
  return confirmed;
}
