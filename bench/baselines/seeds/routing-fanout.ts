// "Broadcast to every server": one fanout exchange `<prefix>.fanout`; each server binds its own
// exclusive queue `<prefix>.fanout.<serverId>` to it once at start. A message is one publish that
// the broker copies to every server, which drops it unless a channel member is connected there.
// Users cost no broker work at all (attach and detach are no-ops); every message costs S deliveries.
import { AmqpLink } from './amqp-link.js';
import { fanoutExchange, fanoutQueue } from './names.js';
import type { RoutingFactory } from './routing.js';

export const fanout: RoutingFactory = async (ctx) => {
  const link = await AmqpLink.open(ctx.amqpUrl, `${ctx.prefix}:${ctx.serverId}`, ctx.fail);
  const exchange = fanoutExchange(ctx.prefix);
  const queue = fanoutQueue(ctx.prefix, ctx.serverId);
  await link.control.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
  await link.control.assertQueue(queue, { durable: false, exclusive: true });
  await link.control.bindQueue(queue, exchange, '');
  await link.consume(queue, (channelId, payloadJson) => ctx.deliver.toChannel(channelId, payloadJson));
  return {
    attach: async () => {},
    detach: () => {},
    async publish(message, payloadJson) {
      const blocked = link.publish(exchange, '', message.channel_id, Buffer.from(payloadJson));
      if (blocked) await blocked;
    },
    close: () => link.close(),
  };
};
