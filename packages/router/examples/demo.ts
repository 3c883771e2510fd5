// A runnable tour of the routing fabric on a real broker: two gateway processes' routers, a
// service that sends a durable write and an ephemeral notification, and a persister stand-in
// that consumes the durable queue and dispatches what it stored. `npm start` runs it.
import { createRouter, type DispatchEnvelope, SnowflakeGenerator } from '@chat/router';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefix = `demo${Date.now().toString(36)}`;
const log = (...args: unknown[]) => console.log(...args);

const gatewayA = createRouter({ url, prefix, serverId: 'gw-a' });
const gatewayB = createRouter({ url, prefix, serverId: 'gw-b' });
const service = createRouter({ url, prefix });
const persister = createRouter({ url, prefix });
const ids = new SnowflakeGenerator({ workerId: 1 });

try {
  await Promise.all([gatewayA, gatewayB, service, persister].map((r) => r.ready(10_000)));
  log(`connected to ${url.replace(/\/\/[^@]*@/, '//')}, prefix ${prefix}`);

  const seen: string[] = [];
  const show = (gw: string) => (env: DispatchEnvelope) => {
    seen.push(`${gw} ← ${env.event} ${JSON.stringify(env.data)}`);
    log(`  ${gw} received ${env.event} ${JSON.stringify(env.data)}`);
  };
  await gatewayA.consume(show('gw-a'));
  await gatewayB.consume(show('gw-b'));

  // alice is connected to gw-a, bob to gw-b.
  await gatewayA.attach('alice');
  await gatewayB.attach('bob');
  log(`alice → slot ${gatewayA.slotOf('alice')} (${gatewayA.keyOf('alice')} on ${gatewayA.exchangeOf('alice')})`);
  log(`bob   → slot ${gatewayB.slotOf('bob')} (${gatewayB.keyOf('bob')} on ${gatewayB.exchangeOf('bob')})`);

  // The persister: store (here: just log), then dispatch to the channel's members, then ack.
  await persister.consumeDurable(async (d) => {
    if (d.envelope.type !== 'message.create') return d.ack();
    log(`  persister stored message ${d.envelope.id}`);
    await persister.dispatch(
      { v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: d.envelope.channel_id, data: d.envelope },
      { users: ['alice', 'bob'] },
      { confirm: true },
    );
    d.ack();
  });

  log('service: durable write of a message to the channel of alice and bob');
  const id = await ids.next();
  await service.durableWrite({
    v: 1,
    type: 'message.create',
    id,
    channel_id: 'general',
    author: { id: 'alice', username: 'alice' },
    content: 'hello, bob',
    timestamp: new Date().toISOString(),
  });
  log(`  broker confirmed ${id}`);

  log('service: ephemeral TYPING_START to bob only');
  await service.dispatch(
    { v: 1, type: 'dispatch', event: 'TYPING_START', to: ['bob'], data: { user_id: 'alice' } },
    { users: ['bob'] },
  );

  const deadline = Date.now() + 5000;
  while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  log(seen.length >= 3 ? 'demo complete' : `demo incomplete: ${seen.length} of 3 deliveries`);
  process.exitCode = seen.length >= 3 ? 0 : 1;
} finally {
  await gatewayA.drain();
  await gatewayB.drain();
  await service.close();
  await persister.close();
  // The demo's shared objects: remove them so repeated runs leave nothing behind.
  const { deleteByPrefix } = await import('@chat/testkit');
  const names = service.names;
  await deleteByPrefix(url, prefix, {
    queues: [names.persistQueue, names.deadQueue],
    exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
  });
}
