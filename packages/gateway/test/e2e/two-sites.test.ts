// Two sites on one machine (docs/two-sites.md): two single-node RabbitMQ "sites" linked by exchange
// federation of the route exchanges, each with its own gateway and persister, sharing one MongoDB (the
// stand-in for a replica set spanning both sites) and one Redis. A message written at one site reaches a
// user connected at the other, live, and is stored once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { slotOf, topologyNames } from '@chat/router';
import { freePort, type RabbitNode, type ServiceProcess, spawnService, startRabbitNode } from '@chat/testkit';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor } from './stack.js';

const PERSISTER_MAIN = fileURLToPath(new URL('../../../persister/src/main.ts', import.meta.url));

/**
 * Makes `downstream` pull the route exchanges of `upstream`: a federation upstream and a policy on every
 * exchange named `<prefix>.route` or `<prefix>.route.<p>`. max-hops 1: a message federated in is not
 * federated on, so two sites linked both ways never loop.
 */
async function federate(downstream: RabbitNode, upstream: RabbitNode, prefix: string): Promise<void> {
  const name = `site-${upstream.ports[0]}`;
  await downstream.rabbitmqctl(
    0,
    'set_parameter',
    'federation-upstream',
    name,
    JSON.stringify({ uri: upstream.url, 'max-hops': 1, 'ack-mode': 'on-confirm' }),
  );
  const pattern = `^${prefix.replace(/[.]/g, '\\.')}\\.route(\\.[0-9]+)?$`;
  await downstream.rabbitmqctl(
    0,
    'set_policy',
    '--apply-to',
    'exchanges',
    `federate-${name}`,
    pattern,
    JSON.stringify({ 'federation-upstream': name }),
  );
}

/**
 * Federation links of a node that are up. (Asked through `eval`: the CLI lists plugin commands such as
 * `federation_status` only when its own environment enables the plugin.)
 */
async function runningLinks(node: RabbitNode): Promise<number> {
  const out = await node.rabbitmqctl(
    0,
    'eval',
    'length([S || S <- rabbit_federation_status:status(), proplists:get_value(status, S) =:= running]).',
  );
  return Number(out.trim());
}

/**
 * Whether `node`'s front exchange routes `s.<slot of userId>` to a federation link's queue: the other site's
 * binding for that user has crossed over (bindings propagate asynchronously, in milliseconds; a dispatch
 * published at this site before that is not forwarded — docs/two-sites.md §4).
 */
async function forwards(node: RabbitNode, prefix: string, userId: string): Promise<boolean> {
  const out = await node.rabbitmqctl(
    0,
    'list_bindings',
    'source_name',
    'destination_name',
    'routing_key',
    '--formatter',
    'json',
  );
  const key = `s.${slotOf(userId)}`;
  return (JSON.parse(out) as Array<{ source_name: string; destination_name: string; routing_key: string }>).some(
    (b) => b.source_name === `${prefix}.route` && b.routing_key === key && b.destination_name.startsWith('federation:'),
  );
}

describe('two sites linked by federation of the route exchanges', () => {
  let siteA: RabbitNode;
  let siteB: RabbitNode;
  let stack: Stack;
  let persisterB: ServiceProcess;
  let gatewayA: Stack['gateways'][number];
  let gatewayB: Stack['gateways'][number];

  before(async () => {
    [siteA, siteB] = await Promise.all([
      startRabbitNode({ enabledPlugins: ['rabbitmq_federation'] }),
      startRabbitNode({ enabledPlugins: ['rabbitmq_federation'] }),
    ]);
    // Site A: the stack's persister and gateway; site B: its own gateway and persister.
    stack = await startStack({ gateways: 0, persisterEnv: { AMQP_URL: siteA.url } });
    gatewayA = await stack.addGateway({ AMQP_URL: siteA.url });
    gatewayB = await stack.addGateway({ AMQP_URL: siteB.url });
    persisterB = await spawnService({
      name: 'persister-b',
      main: PERSISTER_MAIN,
      env: {
        AMQP_URL: siteB.url,
        MONGO_URL: stack.mongo.url,
        MONGO_DB: stack.dbName,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        CHAT_PREFIX: stack.prefix,
        PERSISTER_HTTP_PORT: String(await freePort()),
        PERSISTER_HTTP_HOST: '127.0.0.1',
      },
      readyLine: '"msg":"persister consuming"',
    });
    await federate(siteB, siteA, stack.prefix);
    await federate(siteA, siteB, stack.prefix);
    // One link per route exchange (the front exchange and the 16 partitions) on each site.
    const exchanges = topologyNames(stack.prefix, 16).routeExchanges.length + 1;
    await waitFor(async () => (await runningLinks(siteB)) === exchanges, 'site B federation links running', 60_000);
    await waitFor(async () => (await runningLinks(siteA)) === exchanges, 'site A federation links running', 60_000);
  });

  after(async () => {
    if (persisterB && persisterB.child.exitCode === null) persisterB.kill('SIGKILL');
    await persisterB?.exited;
    await stack?.close();
    await Promise.all([siteA?.stop(), siteB?.stop()]);
  });

  it('a DM written at site A reaches its member connected at site B, and one written at B reaches A, each stored once', async () => {
    const ann = await signUp(gatewayA.url, 'ann');
    const bob = await signUp(gatewayB.url, 'bob');
    const annWs = await RawClient.open(`ws://127.0.0.1:${gatewayA.port}/ws`);
    const bobWs = await RawClient.open(`ws://127.0.0.1:${gatewayB.port}/ws`);
    await annWs.identify(ann.token);
    await bobWs.identify(bob.token);
    await waitFor(() => forwards(siteA, stack.prefix, bob.id), "bob's binding at site B reaching site A", 30_000);
    await waitFor(() => forwards(siteB, stack.prefix, ann.id), "ann's binding at site A reaching site B", 30_000);

    // The channel is created at site A while bob is connected at site B: its CHANNEL_CREATE crosses too.
    const created = await http(gatewayA.url, 'POST', '/api/channels', { kind: 'dm', recipients: [bob.id] }, ann.token);
    assert.equal(created.status, 201);
    const dm = created.body;
    await bobWs.next((f) => f.t === 'CHANNEL_CREATE' && f.d.id === dm.id);

    const fromA = await http(gatewayA.url, 'POST', `/api/channels/${dm.id}/messages`, { content: 'from A' }, ann.token);
    assert.equal(fromA.status, 201);
    const atB = await bobWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === fromA.body.id);
    assert.equal(atB.d.content, 'from A');
    assert.equal(atB.d.author.id, ann.id);

    const fromB = await http(gatewayB.url, 'POST', `/api/channels/${dm.id}/messages`, { content: 'from B' }, bob.token);
    assert.equal(fromB.status, 201);
    const atA = await annWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === fromB.body.id);
    assert.equal(atA.d.content, 'from B');

    // Each site's own users got the message too, and each was delivered once per socket.
    await annWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === fromA.body.id);
    await bobWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === fromB.body.id);
    for (const ws of [annWs, bobWs]) {
      for (const id of [fromA.body.id, fromB.body.id]) {
        assert.equal(ws.frames.filter((f) => f.t === 'MESSAGE_CREATE' && f.d.id === id).length, 1, `${id} once`);
      }
    }
    // Stored once each, whichever site's persister wrote it; readable from either site.
    for (const gw of [gatewayA, gatewayB]) {
      const page = await http(gw.url, 'GET', `/api/channels/${dm.id}/messages?limit=10`, undefined, ann.token);
      assert.equal(page.status, 200);
      assert.deepEqual(
        page.body.map((m: { content: string }) => m.content).sort(),
        ['from A', 'from B'],
        `history at ${gw.serverId}`,
      );
    }
    annWs.close();
    bobWs.close();
  });
});
