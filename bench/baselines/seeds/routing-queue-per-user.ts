// Seed failure 1, "a queue for each user": on a user's first socket here this server declares the
// queue `<prefix>.user.<userId>` and consumes it; a message is published once per channel member,
// through the default exchange, to the member's queue (dropped by the broker when the member has
// none: offline). The queues are auto-delete: the last consumer's cancel removes them.
// A user connected to two servers has two consumers on one queue, which split its messages (the
// broker round-robins between consumers): the design gives one delivery per user, not per socket.
import { AmqpLink } from './amqp-link.js';
import { userQueue } from './names.js';
import type { RoutingFactory } from './routing.js';

export const queuePerUser: RoutingFactory = async (ctx) => {
  const link = await AmqpLink.open(ctx.amqpUrl, `${ctx.prefix}:${ctx.serverId}`, ctx.fail);
  const queueOf = (userId: string) => userQueue(ctx.prefix, userId);
  const consumers = new Map<string, string>();
  return {
    async attach(userId) {
      const queue = queueOf(userId);
      await link.control.assertQueue(queue, { durable: false, autoDelete: true });
      consumers.set(
        userId,
        await link.consume(queue, (_channelId, payloadJson) => ctx.deliver.toUser(userId, payloadJson)),
      );
    },
    detach(userId) {
      const tag = consumers.get(userId);
      if (tag === undefined) return;
      consumers.delete(userId);
      // A failed cancel is a channel error: the link reports it and the server stops.
      link.control.cancel(tag).catch(() => {});
    },
    async publish(message, payloadJson, members) {
      const body = Buffer.from(payloadJson);
      for (const member of members) {
        const blocked = link.publish('', queueOf(member), message.channel_id, body);
        if (blocked) await blocked;
      }
    },
    close: () => link.close(),
  };
};
