// A small Node service on @chat/router, outside the chat backend: it durably writes a chat message
// (resolved once RabbitMQ confirmed it on a majority of the persist queue's replicas) and dispatches an
// ephemeral event to a user's gateway. To show both arriving, it also plays the two other roles for a
// moment: a persister that reads the durable write back, and a gateway that holds the user.
//
//   npm install @chat/router prom-client
//   AMQP_URL=amqp://guest:guest@127.0.0.1:5672 CHAT_PREFIX=example node router-service.mjs
//
// Prints one JSON line: what was written and what arrived. Exits 1 if either did not arrive in 10 s.
import { createRouter, SnowflakeGenerator } from '@chat/router';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = process.env.CHAT_PREFIX ?? 'example';
/** `promise`, or a rejection after `ms` (the timer is cleared either way, so it never holds the process). */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The service itself: no serverId (it holds no users), a snowflake worker id of its own.
const service = createRouter({ url, prefix });
// Stand-ins for the backend's persister and for the gateway user "alice" is connected to.
const persister = createRouter({ url, prefix });
const gateway = createRouter({ url, prefix, serverId: 'example-gw' });
const ids = new SnowflakeGenerator({ workerId: 901 });

let stored;
const storedOnce = new Promise((resolve) => {
  stored = resolve;
});
let received;
const receivedOnce = new Promise((resolve) => {
  received = resolve;
});
try {
  await Promise.all([service.ready(10_000), persister.ready(10_000), gateway.ready(10_000)]);
  await persister.consumeDurable(async (d) => {
    stored(d.envelope);
    d.ack();
  });
  await gateway.consume((envelope) => received(envelope));
  await gateway.attach('alice');

  // Durable: resolves only after the broker's confirm; a retry with the same id is idempotent.
  const id = await ids.next();
  await service.durableWrite({
    v: 1,
    type: 'message.create',
    id,
    channel_id: '42',
    author: { id: 'reminder-bot', username: 'reminder-bot' },
    content: 'Stand-up in 5 minutes',
    nonce: `reminder-${id}`,
    timestamp: new Date().toISOString(),
  });
  // Ephemeral: to the gateways holding alice, at most once.
  await service.dispatch(
    {
      v: 1,
      type: 'dispatch',
      event: 'TYPING_START',
      to: ['alice'],
      data: { channel_id: '42', user_id: 'reminder-bot' },
    },
    { users: ['alice'] },
    { confirm: true },
  );

  const [write, event] = await Promise.all([
    within(10_000, 'durable write', storedOnce),
    within(10_000, 'dispatch', receivedOnce),
  ]);
  console.log(
    JSON.stringify({
      written: id,
      stored: write.id,
      content: write.content,
      event: event.event,
      to: event.to,
      names: service.names,
    }),
  );
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await gateway.drain(); // unbinds alice and deletes the gateway queue
  await persister.close();
  await service.close();
}
