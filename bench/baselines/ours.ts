// This system as shipped, as a PeerSystem: `options.servers` gateway processes, one persister, the
// MongoDB stand-in (testkit; NOT MongoDB's speed) in a process of its own, the system RabbitMQ and
// Redis — started from their main.ts as w1 does (lib/services.ts). Durable: a message is acked once
// the broker confirmed its write, stored by the persister, then dispatched to every member.
// The peer's users and channels are written into the store as they are (user ids and usernames `u<n>`,
// the scenario's decimal channel ids as channel ids), so the loaders' tokens (peer-tokens.ts, token
// version 0 = a new account's) work unchanged. Abuse limits and per-client caps are raised as in w1
// (lib/services.ts; they would throttle the benchmark); everything else runs with its defaults.

import { createStore } from '@chat/store';
import { amqpUrl } from '@chat/testkit';
import { MongoClient } from 'mongodb';
import { scrape } from '../lib/prom.js';
import {
  cleanupRun,
  type GatewayService,
  type PersisterService,
  REDIS_URL,
  type StackEnv,
  startGateway,
  startMongoProcess,
  startPersister,
} from '../lib/services.js';
import { pool } from '../lib/users.js';
import type { PeerInstance, PeerStartOptions, PeerSystem } from './peer.js';

/** w1's gateway settings: the abuse limits raised, no default group. */
export const BENCH_GATEWAY_ENV: Readonly<Record<string, string>> = {
  DEFAULT_GROUP: '',
  RATE_FRAMES: '1000000',
  RATE_BURST: '1000000',
  USER_RATE_REQUESTS: '1000000',
  HTTP_RATE_REQUESTS: '1000000',
};

/**
 * Registers the peer's users (id = username = `u<n>`; the gateway refuses a token whose user does not
 * exist) and creates the channels: two members = a DM, more = a group owned by its first member.
 * Passwords are hashed at scrypt's lowest cost (SCRYPT_LOG_N=10, as the bench gateways run): not measured.
 */
async function createUsersAndChannels(mongoUrl: string, dbName: string, options: PeerStartOptions): Promise<void> {
  const client = new MongoClient(mongoUrl);
  try {
    await client.connect();
    const store = createStore({ db: client.db(dbName), passwords: { logN: 10 } });
    await store.init();
    await pool(options.users, 16, (id) => store.accounts.create(id, id, 'correct horse battery staple'));
    await pool(options.channels, 16, async (c) => {
      const [creatorId, ...recipients] = c.members;
      if (!creatorId) throw new RangeError(`channel ${c.id} has no members`);
      await store.channels.create({
        id: c.id,
        kind: c.members.length === 2 ? 'dm' : 'group',
        name: c.members.length === 2 ? null : `group-${c.id}`,
        creatorId,
        recipients,
      });
    });
  } finally {
    await client.close();
  }
}

export const oursSystem: PeerSystem = {
  name: 'ours',
  description:
    'This system as shipped: gateways (uWebSockets.js) → durable write (quorum queue, confirmed before the ack) → ' +
    'persister (MongoDB stand-in) → dispatch through the RabbitMQ routing fabric (slot bindings) → members’ sockets.',
  durable: true,
  async start(options: PeerStartOptions): Promise<PeerInstance> {
    const mongo = await startMongoProcess();
    const broker = amqpUrl();
    const stack: StackEnv = {
      prefix: options.prefix,
      amqpUrl: broker,
      mongoUrl: mongo.url,
      mongoDb: options.prefix.replace(/-/g, '_').slice(0, 63),
      redisUrl: REDIS_URL,
    };
    const serverIds = Array.from({ length: options.servers }, (_, i) => `gw${i}`);
    const gateways: GatewayService[] = [];
    let persister: PersisterService | undefined;
    const stop = async () => {
      for (const g of gateways) await g.stop('SIGTERM', 20_000).catch(() => {});
      await persister?.stop('SIGTERM', 20_000).catch(() => {});
      await cleanupRun(
        broker,
        options.prefix,
        serverIds,
        options.channels.map((c) => c.id),
      ).catch((err: unknown) => console.error(`cleanup of ${options.prefix} failed: ${(err as Error).message}`));
      await mongo.stop().catch(() => {});
    };
    try {
      await createUsersAndChannels(mongo.url, stack.mongoDb, options);
      // Started side by side (each leases its own snowflake worker id); a failure stops those that did start.
      const started = await Promise.allSettled([
        startPersister(stack, {}),
        ...serverIds.map((id) => startGateway(stack, id, options.jwtSecret, BENCH_GATEWAY_ENV)),
      ]);
      for (const r of started.slice(1)) if (r.status === 'fulfilled') gateways.push(r.value as GatewayService);
      if (started[0]!.status === 'fulfilled') persister = started[0].value as PersisterService;
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      await stop();
      throw err;
    }
    // Every service started (or the start threw above).
    const { metricsUrl, pid: persisterPid } = persister as PersisterService;
    return {
      urls: gateways.map((g) => g.wsUrl),
      protocol: 'chat',
      processes: [
        ...gateways.map((g) => ({ label: g.serverId, pid: g.pid })),
        { label: 'persister', pid: persisterPid },
        { label: 'stand-in', pid: mongo.pid },
      ],
      stored: async () => (await scrape(metricsUrl)).value('chat_persister_stored_total'),
      stop,
    };
  },
};
