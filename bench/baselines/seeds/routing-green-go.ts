// Green Go, the seed's working design, through our own library so that the comparison is of the
// binding scheme and not of hand-written code: each server's queue `<prefix>.gw.<serverId>` is bound
// on the partitioned topic exchanges by user keys (`granularity: 'user'`, the seed as specified) or
// by slot keys (`'slot'`, our design); a message is one non-durable `dispatch()` to the members.
// @chat/router reconnects and re-binds by itself; close() drains (unbinds, then deletes the queue).
import { createRouter, type Granularity, type Logger } from '@chat/router';
import { GREEN_GO_PARTITIONS } from './names.js';
import type { RoutingFactory } from './routing.js';

function stderrLogger(serverId: string): Logger {
  const write = (level: string) => (obj: object | string, msg?: string) => {
    const fields = typeof obj === 'string' ? { msg: obj } : { ...obj, msg };
    process.stderr.write(`${JSON.stringify({ level, server_id: serverId, ...fields })}\n`);
  };
  const quiet = () => {};
  return { debug: quiet, info: quiet, warn: write('warn'), error: write('error') };
}

export function greenGo(granularity: Granularity): RoutingFactory {
  return async (ctx) => {
    const router = createRouter({
      url: ctx.amqpUrl,
      serverId: ctx.serverId,
      prefix: ctx.prefix,
      partitions: GREEN_GO_PARTITIONS,
      granularity,
      logger: stderrLogger(ctx.serverId),
    });
    await router.ready(30_000);
    await router.consume((envelope) => {
      if (envelope.event === 'MESSAGE_CREATE' && envelope.channel_id !== undefined) {
        ctx.deliver.toChannel(envelope.channel_id, JSON.stringify(envelope.data));
      }
    });
    return {
      attach: (userId) => router.attach(userId),
      detach: (userId) => router.detach(userId),
      async publish(message, _payloadJson, members) {
        await router.dispatch(
          { v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: message.channel_id, data: message },
          { users: members },
          { id: message.id },
        );
      },
      close: () => router.drain(),
    };
  };
}
