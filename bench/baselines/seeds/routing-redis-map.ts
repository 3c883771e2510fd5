// Seed failure 3, "RabbitMQ for delivery and Redis for a server-to-user map": a Redis hash
// `<prefix>:user-server` maps each connected user to its server, each server consumes its own
// exclusive queue `<prefix>.srv.<serverId>`. Per message the sender's server looks every member up
// in the map (one HMGET, as the seed did, no cache) and publishes once to each server that holds a
// member, through the default exchange. The map holds one server per user: a user connected to two
// servers is reached on the one that identified last.
import { Redis } from 'ioredis';
import { AmqpLink } from './amqp-link.js';
import { serverQueue, userServerMapKey } from './names.js';
import type { RoutingFactory } from './routing.js';

/** Deletes the user's entry only if it still names this server (another may have taken the user over). */
const DELETE_IF_MINE = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

export const redisMap: RoutingFactory = async (ctx) => {
  const redis = new Redis(ctx.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // ioredis reconnects by itself; meanwhile lookups fail and the sender gets `unavailable`.
  redis.on('error', (err) => ctx.onError('redis', err));
  await redis.connect();
  const link = await AmqpLink.open(ctx.amqpUrl, `${ctx.prefix}:${ctx.serverId}`, ctx.fail);
  const mapKey = userServerMapKey(ctx.prefix);
  const queueOf = (serverId: string) => serverQueue(ctx.prefix, serverId);
  const own = queueOf(ctx.serverId);
  await link.control.assertQueue(own, { durable: false, exclusive: true });
  await link.consume(own, (channelId, payloadJson) => ctx.deliver.toChannel(channelId, payloadJson));
  return {
    async attach(userId) {
      await redis.hset(mapKey, userId, ctx.serverId);
    },
    detach(userId) {
      redis.eval(DELETE_IF_MINE, 1, mapKey, userId, ctx.serverId).catch((err) => ctx.onError('redis', err));
    },
    async publish(message, payloadJson, members) {
      if (members.length === 0) return;
      const servers = new Set<string>();
      for (const server of await redis.hmget(mapKey, ...members)) if (server !== null) servers.add(server);
      const body = Buffer.from(payloadJson);
      for (const server of servers) {
        const blocked = link.publish('', queueOf(server), message.channel_id, body);
        if (blocked) await blocked;
      }
    },
    async close() {
      await link.close();
      redis.disconnect();
    },
  };
};
